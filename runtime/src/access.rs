//! Who may see what (DESIGN §4b, PSI-01-02-03-04): the one place the hub decides what
//! one party may see of another's data. Delivery (pushing events to hubs) and every
//! read path of the API (listing and retrieving events, hubs and listeners) ask here.
//!
//! * **Events — need-to-know** ([`NeedToKnow`]): a pluggable policy deciding whether a
//!   party may see an event. The default, [`RelatedPartiesPolicy`], lets a party see an
//!   event that names it among its related parties, or that names none.
//! * **Parties are bound to credentials, never taken from a bare name**: an API
//!   caller speaks for [`Principal::party`] — an API key's configured `party` (default
//!   its name), a JWT `sub` only when its `[[auth.jwt]]` entry lists it in `subjects`.
//!   A principal bound to no party sees only events that name no party. So a JWT key
//!   trusted for one party's IdP that mints `sub: provider-a` does not read what is
//!   addressed to the API key `provider-a` (it is refused, or speaks for no party).
//! * **Hubs and listeners receive what their registrant reads** ([`Reach`], recorded
//!   on the [`Owner`] at registration): everything for an admin's, the bound party's
//!   events, or only events naming no party.
//! * **Hubs and listeners — ownership** ([`Viewer::sees_owned`]): visible to the
//!   principal that registered them (same name *and* same [`Issuer`](crate::auth::Issuer)) and to admins;
//!   others are answered as if they did not exist (404).
//! * **Admins** see everything; so does every caller when inbound authentication is off
//!   (loopback only: there is no identity to compare).

use std::fmt::Debug;

use serde_json::Value;

use crate::auth::{Principal, Role};
use crate::store::{Owner, Reach};

/// The need-to-know policy (PSI-01-02-03-04): may `party` see `event`?
///
/// `party` is the party a hub's owner was bound to at registration (delivery) or the
/// API caller's bound party (reads); `None` for a principal bound to no party. Those
/// who see everything (admins, unauthenticated loopback mode, hubs registered by an
/// admin or without authentication) are not asked about.
pub trait NeedToKnow: Send + Sync + Debug + 'static {
    /// Whether the policy may refuse anything (else events are not parsed for it).
    fn restricts(&self) -> bool;
    /// Whether `party` (`None`: no party) may see `event` (the stored TMF688 Event as
    /// JSON).
    fn allows(&self, party: Option<&str>, event: &Value) -> bool;
}

/// The default policy: when an event names related parties, only those parties (by
/// party `id`) see it. Events naming no party are seen by every party, and by
/// principals bound to no party.
///
/// Related parties are looked for in the event's `relatedParty`, and in the
/// `relatedParty` of the payload's resources (`event.relatedParty`,
/// `event.<resource>.relatedParty`), each as `id` or `partyOrPartyRole.id`.
#[derive(Clone, Copy, Debug, Default)]
pub struct RelatedPartiesPolicy;

impl NeedToKnow for RelatedPartiesPolicy {
    fn restricts(&self) -> bool {
        true
    }

    fn allows(&self, party: Option<&str>, event: &Value) -> bool {
        let parties = related_party_ids(event);
        parties.is_empty() || party.is_some_and(|party| parties.contains(&party))
    }
}

/// No need-to-know restriction (configuration `need_to_know = false`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Unrestricted;

impl NeedToKnow for Unrestricted {
    fn restricts(&self) -> bool {
        false
    }

    fn allows(&self, _party: Option<&str>, _event: &Value) -> bool {
        true
    }
}

/// The ids of the parties an event names (see [`RelatedPartiesPolicy`]).
pub fn related_party_ids<'a>(event: &'a Value) -> Vec<&'a str> {
    let mut ids = Vec::new();
    let mut collect = |holder: &'a Value| {
        if let Some(Value::Array(parties)) = holder.get("relatedParty") {
            for party in parties {
                let id = party.get("id").or_else(|| {
                    party
                        .get("partyOrPartyRole")
                        .and_then(|inner| inner.get("id"))
                });
                if let Some(Value::String(id)) = id {
                    ids.push(id.as_str());
                }
            }
        }
    };
    collect(event);
    if let Some(payload) = event.get("event") {
        collect(payload);
        if let Value::Object(resources) = payload {
            for resource in resources.values() {
                collect(resource);
            }
        }
    }
    ids
}

/// What need-to-know lets someone see, borrowed from a [`Reach`] or a [`Viewer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope<'a> {
    /// Every event (admins; no authentication).
    All,
    /// The events a party may see.
    Party(&'a str),
    /// Only events naming no party (a principal bound to no party).
    NoParty,
}

impl<'a> Scope<'a> {
    /// The scope of a hub registered by `owner` (`None`: registered without
    /// authentication — everything).
    pub fn of_owner(owner: Option<&'a Owner>) -> Self {
        match owner.map(|owner| &owner.reach) {
            None | Some(Reach::Everything) => Self::All,
            Some(Reach::Party(party)) => Self::Party(party),
            Some(Reach::Unaddressed) => Self::NoParty,
        }
    }

    /// Whether `policy` may hide events from it (else it sees every event and they
    /// need not be parsed for it).
    pub fn restricted_by(&self, policy: &dyn NeedToKnow) -> bool {
        !matches!(self, Self::All) && policy.restricts()
    }

    /// Whether it sees `event` under `policy`.
    pub fn sees(&self, policy: &dyn NeedToKnow, event: &Value) -> bool {
        match self {
            Self::All => true,
            _ if !policy.restricts() => true,
            Self::Party(party) => policy.allows(Some(party), event),
            Self::NoParty => policy.allows(None, event),
        }
    }
}

/// What a principal's hubs and listeners receive: everything for an admin, else what
/// its bound party may see (DESIGN §4b: the same as what it reads).
pub fn reach_of(principal: &Principal) -> Reach {
    if principal.role == Role::Admin {
        return Reach::Everything;
    }
    match &principal.party {
        Some(party) => Reach::Party(party.clone()),
        None => Reach::Unaddressed,
    }
}

/// The owner a principal records on what it registers (with its [`reach_of`]).
pub fn owner_of(principal: &Principal) -> Owner {
    Owner::new(principal.issuer.to_string(), principal.name.clone()).with_reach(reach_of(principal))
}

/// Whether `owner` is `principal` (same namespace, same name).
fn is_owner(principal: &Principal, owner: &Owner) -> bool {
    owner.name == principal.name && owner.issuer == principal.issuer.to_string()
}

/// Who is asking, as the access rules see it.
#[derive(Clone, Copy, Debug)]
pub enum Viewer<'a> {
    /// Inbound authentication is off (loopback mode): no identity to compare.
    Anyone,
    /// An admin.
    Admin,
    /// Any other authenticated principal.
    Party(&'a Principal),
}

impl<'a> Viewer<'a> {
    /// The viewer of a request with `principal` (`None`: authentication is off).
    pub fn of(principal: Option<&'a Principal>) -> Self {
        match principal {
            None => Self::Anyone,
            Some(p) if p.role == Role::Admin => Self::Admin,
            Some(p) => Self::Party(p),
        }
    }

    /// Whether it sees a hub or listener registered by `owner` (`None`: registered
    /// while authentication was off — only admins and unauthenticated callers see it).
    pub fn sees_owned(&self, owner: Option<&Owner>) -> bool {
        match self {
            Self::Anyone | Self::Admin => true,
            Self::Party(principal) => owner.is_some_and(|owner| is_owner(principal, owner)),
        }
    }

    /// What need-to-know lets it see of events: all (admins, no authentication), or
    /// what its bound party may ([`Principal::party`]; never its bare name).
    pub fn scope(&self) -> Scope<'a> {
        match self {
            Self::Anyone | Self::Admin => Scope::All,
            Self::Party(principal) => match &principal.party {
                Some(party) => Scope::Party(party),
                None => Scope::NoParty,
            },
        }
    }

    /// Whether `policy` may hide events from it (else it sees every event and they
    /// need not be parsed for it).
    pub fn restricted_by(&self, policy: &dyn NeedToKnow) -> bool {
        self.scope().restricted_by(policy)
    }

    /// Whether it sees `event` under `policy`.
    pub fn sees_event(&self, policy: &dyn NeedToKnow, event: &Value) -> bool {
        self.scope().sees(policy, event)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::auth::Issuer;

    #[test]
    fn need_to_know() {
        let policy = RelatedPartiesPolicy;
        let named = json!({"event": {"productOrder": {"relatedParty": [{"id": "acme"}, {"partyOrPartyRole": {"id": "globex"}}]}}});
        let anonymous = json!({"event": {"productOrder": {}}});
        assert!(policy.allows(Some("acme"), &named));
        assert!(policy.allows(Some("globex"), &named));
        assert!(!policy.allows(Some("initech"), &named));
        assert!(policy.allows(Some("initech"), &anonymous));
        assert!(!policy.allows(None, &named), "no party: not a named event");
        assert!(policy.allows(None, &anonymous));
        assert!(!Unrestricted.restricts());
        assert!(Unrestricted.allows(Some("initech"), &named));
        let top = json!({"relatedParty": [{"id": "x"}], "event": {}});
        assert_eq!(related_party_ids(&top), vec!["x"]);
    }

    #[test]
    fn ownership_is_name_within_namespace() {
        let key = Principal::new("provider-a", Role::Provider, Issuer::ApiKey);
        let jwt = Principal::new("provider-a", Role::Provider, Issuer::Jwt("idp".into()));
        let other_jwt = Principal::new("provider-a", Role::Pss, Issuer::Jwt("#2".into()));
        let admin = Principal::new("ops", Role::Admin, Issuer::ApiKey);
        let by_key = owner_of(&key);
        let by_jwt = owner_of(&jwt);
        let legacy = Owner::new("unknown", "provider-a");
        // (viewer, owner, sees)
        let cases: &[(Viewer, Option<&Owner>, bool)] = &[
            (Viewer::of(Some(&key)), Some(&by_key), true),
            (Viewer::of(Some(&key)), Some(&by_jwt), false),
            (Viewer::of(Some(&jwt)), Some(&by_jwt), true),
            (Viewer::of(Some(&jwt)), Some(&by_key), false),
            (Viewer::of(Some(&other_jwt)), Some(&by_jwt), false),
            (Viewer::of(Some(&key)), Some(&legacy), false),
            (Viewer::of(Some(&key)), None, false),
            (Viewer::of(Some(&admin)), Some(&by_key), true),
            (Viewer::of(Some(&admin)), None, true),
            (Viewer::of(None), Some(&by_jwt), true),
            (Viewer::of(None), None, true),
        ];
        for (index, (viewer, owner, sees)) in cases.iter().enumerate() {
            assert_eq!(
                viewer.sees_owned(*owner),
                *sees,
                "case {index}: {viewer:?} {owner:?}"
            );
        }
    }

    #[test]
    fn events_by_viewer() {
        let named = json!({"relatedParty": [{"id": "provider-a"}], "event": {}});
        let bound = |name: &str, role, issuer| {
            Principal::new(name, role, issuer).with_party(Some(name.to_owned()))
        };
        let a = bound("provider-a", Role::Provider, Issuer::ApiKey);
        let b = bound("provider-b", Role::Provider, Issuer::ApiKey);
        // The same name from a JWT entry that binds no party: not that party.
        let unbound = Principal::new("provider-a", Role::Provider, Issuer::Jwt("#1".into()));
        let admin = bound("ops", Role::Admin, Issuer::ApiKey);
        assert!(Viewer::of(Some(&a)).sees_event(&RelatedPartiesPolicy, &named));
        assert!(!Viewer::of(Some(&b)).sees_event(&RelatedPartiesPolicy, &named));
        assert!(!Viewer::of(Some(&unbound)).sees_event(&RelatedPartiesPolicy, &named));
        assert!(Viewer::of(Some(&b)).sees_event(&Unrestricted, &named));
        assert!(Viewer::of(Some(&admin)).sees_event(&RelatedPartiesPolicy, &named));
        assert!(Viewer::of(None).sees_event(&RelatedPartiesPolicy, &named));
        // What their hubs receive is what they read; an admin's receive everything.
        for (principal, sees) in [(&a, true), (&b, false), (&unbound, false), (&admin, true)] {
            let owner = owner_of(principal);
            assert_eq!(
                Scope::of_owner(Some(&owner)).sees(&RelatedPartiesPolicy, &named),
                sees,
                "{principal}"
            );
        }
        assert!(Scope::of_owner(None).sees(&RelatedPartiesPolicy, &named));
    }
}
