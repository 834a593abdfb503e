//! [Standard Webhooks](https://www.standardwebhooks.com/) signatures, both ways.
//!
//! **Outbound** (per callback host, `signing_secrets` of an
//! [`allowed_callback_hosts`](super::DeliveryConfig::allowed_callback_hosts) entry):
//! every attempt carries
//!
//! * `webhook-id`: the event's `eventId` (its server `id` when the `eventId` is not a
//!   valid header value; `<eventId>.<id>` for an authenticated publisher's event, as
//!   eventIds are unique per publisher only) — one per event, the same on every retry
//!   and replay, so receivers can de-duplicate on it;
//! * `webhook-timestamp`: the attempt's time, in Unix seconds (fresh on every retry, so a
//!   late retry is not refused as stale);
//! * `webhook-signature`: `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")),
//!   one per configured secret, space-separated — during a key rotation both the old
//!   and the new key sign, and a receiver knowing either accepts.
//!
//! A secret is `whsec_` + base64 of the key bytes (the prefix is optional).
//!
//! **Inbound** (`[[delivery.inbound_signatures]]`, see [`InboundSignatures`]): `createEvent`
//! on the listed topics (all when none are listed) requires a valid signature by one
//! of the entry's secrets and a timestamp within the tolerance (default 5 minutes,
//! either way); otherwise 401 with a TMF `Error`. The check is an axum middleware on the
//! event-create routes ([`super::inbound::verify_inbound`]): it buffers the raw body
//! (within the body limit), verifies it, and hands the same bytes on to the generated
//! handler.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderValue};
use serde::Deserialize;
use sha2::Sha256;

/// The header carrying the message id.
pub const WEBHOOK_ID: &str = "webhook-id";
/// The header carrying the Unix timestamp of the attempt.
pub const WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
/// The header carrying the signatures.
pub const WEBHOOK_SIGNATURE: &str = "webhook-signature";

type HmacSha256 = Hmac<Sha256>;

/// Signing secrets (`whsec_...`); never printed.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secrets(pub Vec<String>);

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secrets(<{} redacted>)", self.0.len())
    }
}

impl Secrets {
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Decodes a `whsec_...` secret into the key bytes.
pub fn parse_secret(secret: &str) -> Result<Vec<u8>, String> {
    let text = secret.trim();
    let text = text.strip_prefix("whsec_").unwrap_or(text);
    let key = STANDARD
        .decode(text)
        .map_err(|_| "a signing secret must be `whsec_` followed by base64".to_owned())?;
    if key.is_empty() {
        return Err("a signing secret must not be empty".into());
    }
    Ok(key)
}

fn parse_all(secrets: &Secrets) -> Result<Vec<Vec<u8>>, String> {
    secrets.0.iter().map(|s| parse_secret(s)).collect()
}

fn mac(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length.
    let mut mac = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Signs deliveries with one or more keys.
#[derive(Clone, Default)]
pub struct Signer {
    keys: Vec<Vec<u8>>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signer(<{} keys>)", self.keys.len())
    }
}

impl Signer {
    /// A signer with `secrets` (none: signs nothing).
    pub fn new(secrets: &Secrets) -> Result<Self, String> {
        Ok(Self {
            keys: parse_all(secrets)?,
        })
    }

    /// Whether there is no key (deliveries are not signed).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The `webhook-signature` value: `v1,<base64>` per key, space-separated.
    pub fn signature(&self, id: &str, timestamp: u64, body: &[u8]) -> String {
        let timestamp = timestamp.to_string();
        self.keys
            .iter()
            .map(|key| {
                let tag = mac(key, id, &timestamp, body).finalize().into_bytes();
                format!("v1,{}", STANDARD.encode(tag))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Adds the three headers for a delivery of `body` with message id `id` at `now`.
    pub fn sign(&self, headers: &mut HeaderMap, id: &str, now: SystemTime, body: &[u8]) {
        if self.keys.is_empty() {
            return;
        }
        let timestamp = unix_seconds(now);
        let (Ok(id_value), Ok(signature)) = (
            HeaderValue::from_str(id),
            HeaderValue::from_str(&self.signature(id, timestamp, body)),
        ) else {
            return; // callers pass header-safe ids
        };
        headers.insert(WEBHOOK_ID, id_value);
        headers.insert(WEBHOOK_TIMESTAMP, HeaderValue::from(timestamp));
        headers.insert(WEBHOOK_SIGNATURE, signature);
    }
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// Verifies signed requests.
#[derive(Clone)]
pub struct Verifier {
    keys: Vec<Vec<u8>>,
    tolerance: Duration,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("keys", &self.keys.len())
            .field("tolerance", &self.tolerance)
            .finish()
    }
}

impl Verifier {
    /// A verifier accepting a signature by any of `secrets`, with a timestamp at most
    /// `tolerance` away from now (either way).
    pub fn new(secrets: &Secrets, tolerance: Duration) -> Result<Self, String> {
        let keys = parse_all(secrets)?;
        if keys.is_empty() {
            return Err("at least one secret is needed to verify signatures".into());
        }
        Ok(Self { keys, tolerance })
    }

    /// Checks the Standard Webhooks headers of a request with `body`, at `now`. The
    /// error says what is wrong (for the 401 message; it never contains a secret).
    pub fn verify(&self, headers: &HeaderMap, body: &[u8], now: SystemTime) -> Result<(), String> {
        let header = |name: &str| {
            headers
                .get(name)
                .ok_or_else(|| format!("the `{name}` header is missing"))
                .and_then(|v| {
                    v.to_str()
                        .map_err(|_| format!("the `{name}` header is not text"))
                })
        };
        let id = header(WEBHOOK_ID)?;
        let timestamp = header(WEBHOOK_TIMESTAMP)?;
        let signatures = header(WEBHOOK_SIGNATURE)?;
        let sent: u64 = timestamp
            .trim()
            .parse()
            .map_err(|_| "`webhook-timestamp` is not a Unix time in seconds".to_owned())?;
        let now = unix_seconds(now);
        let tolerance = self.tolerance.as_secs();
        if sent + tolerance < now {
            return Err(format!(
                "`webhook-timestamp` is {} s old; at most {tolerance} s are accepted",
                now - sent
            ));
        }
        if sent > now + tolerance {
            return Err(format!(
                "`webhook-timestamp` is {} s in the future; at most {tolerance} s are accepted",
                sent - now
            ));
        }
        let candidates: Vec<Vec<u8>> = signatures
            .split_ascii_whitespace()
            .filter_map(|entry| entry.strip_prefix("v1,"))
            .filter_map(|sig| STANDARD.decode(sig).ok())
            .collect();
        if candidates.is_empty() {
            return Err("`webhook-signature` holds no `v1,<base64>` signature".into());
        }
        let timestamp = timestamp.trim();
        for key in &self.keys {
            let expected = mac(key, id, timestamp, body);
            // `verify_slice` compares in constant time.
            if candidates
                .iter()
                .any(|sig| expected.clone().verify_slice(sig).is_ok())
            {
                return Ok(());
            }
        }
        Err("no signature in `webhook-signature` matches a configured secret".into())
    }
}

/// `[[delivery.inbound_signatures]]`: signatures our `createEvent` requires.
///
/// ```toml
/// [[delivery.inbound_signatures]]
/// topics = ["order"]            # absent or empty: every topic
/// secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_..."]   # any may match
/// tolerance_secs = 300          # timestamp skew accepted either way (default 300)
/// ```
///
/// Several entries may cover the same topic (e.g. one per sending peer): a signature
/// by a secret of any of them is accepted.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InboundSignatures {
    /// The topic ids whose events must be signed; every topic when empty.
    #[serde(default)]
    pub topics: Vec<String>,
    /// The accepted secrets (`whsec_...`).
    pub secrets: Secrets,
    /// How far the `webhook-timestamp` may be from now, in seconds, either way.
    #[serde(default = "default_tolerance")]
    pub tolerance_secs: u64,
}

fn default_tolerance() -> u64 {
    300
}

impl InboundSignatures {
    fn covers(&self, topic: &str) -> bool {
        self.topics.is_empty() || self.topics.iter().any(|t| t == topic)
    }
}

/// The inbound signature requirements, ready to check.
#[derive(Debug, Default)]
pub struct InboundVerifier {
    entries: Vec<(InboundSignatures, Verifier)>,
}

impl InboundVerifier {
    /// Prepares the entries; the error names the invalid one.
    pub fn new(entries: &[InboundSignatures]) -> Result<Self, String> {
        let entries = entries
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                Verifier::new(&entry.secrets, Duration::from_secs(entry.tolerance_secs))
                    .map(|verifier| (entry.clone(), verifier))
                    .map_err(|error| format!("delivery.inbound_signatures[{i}]: {error}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { entries })
    }

    /// Whether nothing is required.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether events of `topic` must be signed.
    pub fn requires(&self, topic: &str) -> bool {
        self.entries.iter().any(|(entry, _)| entry.covers(topic))
    }

    /// Verifies a request to create an event in `topic`: `Ok` when no entry covers the
    /// topic or one entry's verifier accepts it; else the reasons.
    pub fn verify(
        &self,
        topic: &str,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), String> {
        let mut reason = None;
        for (_, verifier) in self.entries.iter().filter(|(e, _)| e.covers(topic)) {
            match verifier.verify(headers, body, now) {
                Ok(()) => return Ok(()),
                Err(error) => {
                    reason.get_or_insert(error);
                }
            }
        }
        reason.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of the Standard Webhooks specification.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: u64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn secrets(list: &[&str]) -> Secrets {
        Secrets(list.iter().map(|s| (*s).to_owned()).collect())
    }

    fn at(ts: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(ts)
    }

    #[test]
    fn matches_the_specification_example() {
        let signer = Signer::new(&secrets(&[SECRET])).unwrap();
        assert_eq!(signer.signature(ID, TS, BODY), SIG);
        let mut headers = HeaderMap::new();
        signer.sign(&mut headers, ID, at(TS), BODY);
        assert_eq!(headers[WEBHOOK_ID], ID);
        assert_eq!(headers[WEBHOOK_TIMESTAMP], TS.to_string().as_str());
        assert_eq!(headers[WEBHOOK_SIGNATURE], SIG);
        let verifier = Verifier::new(&secrets(&[SECRET]), Duration::from_secs(300)).unwrap();
        verifier.verify(&headers, BODY, at(TS + 10)).unwrap();
    }

    #[test]
    fn rotation_expiry_and_forgery() {
        let old = format!("whsec_{}", STANDARD.encode(b"old key"));
        let new = format!("whsec_{}", STANDARD.encode(b"new key"));
        let both = Signer::new(&secrets(&[&old, &new])).unwrap();
        let mut headers = HeaderMap::new();
        both.sign(&mut headers, "e-1", at(TS), BODY);
        assert_eq!(
            headers[WEBHOOK_SIGNATURE]
                .to_str()
                .unwrap()
                .split(' ')
                .count(),
            2
        );
        let tolerance = Duration::from_secs(300);
        for secret in [&old, &new] {
            Verifier::new(&secrets(&[secret]), tolerance)
                .unwrap()
                .verify(&headers, BODY, at(TS))
                .unwrap();
        }
        let other = format!("whsec_{}", STANDARD.encode(b"other"));
        let stranger = Verifier::new(&secrets(&[&other]), tolerance).unwrap();
        assert!(
            stranger
                .verify(&headers, BODY, at(TS))
                .unwrap_err()
                .contains("matches")
        );
        let verifier = Verifier::new(&secrets(&[&new]), tolerance).unwrap();
        assert!(
            verifier
                .verify(&headers, b"{}", at(TS))
                .unwrap_err()
                .contains("matches"),
            "another body"
        );
        assert!(
            verifier
                .verify(&headers, BODY, at(TS + 301))
                .unwrap_err()
                .contains("old")
        );
        assert!(
            verifier
                .verify(&headers, BODY, at(TS - 301))
                .unwrap_err()
                .contains("future")
        );
        headers.remove(WEBHOOK_TIMESTAMP);
        assert!(
            verifier
                .verify(&headers, BODY, at(TS))
                .unwrap_err()
                .contains("missing")
        );
    }

    #[test]
    fn secrets_must_be_base64_and_are_not_printed() {
        assert!(parse_secret("whsec_!!").is_err());
        assert!(parse_secret("whsec_").is_err());
        assert_eq!(parse_secret("aGk=").unwrap(), b"hi");
        assert!(!format!("{:?}", secrets(&[SECRET])).contains("MfKQ"));
    }

    #[test]
    fn inbound_entries_cover_topics() {
        let entries = [InboundSignatures {
            topics: vec!["order".into()],
            secrets: secrets(&[SECRET]),
            tolerance_secs: 300,
        }];
        let inbound = InboundVerifier::new(&entries).unwrap();
        assert!(inbound.requires("order") && !inbound.requires("alarm"));
        inbound
            .verify("alarm", &HeaderMap::new(), b"", at(TS))
            .unwrap();
        assert!(
            inbound
                .verify("order", &HeaderMap::new(), b"", at(TS))
                .is_err()
        );
        assert!(
            InboundVerifier::new(&[InboundSignatures {
                topics: vec![],
                secrets: Secrets::default(),
                tolerance_secs: 1,
            }])
            .unwrap_err()
            .contains("inbound_signatures[0]")
        );
    }
}
