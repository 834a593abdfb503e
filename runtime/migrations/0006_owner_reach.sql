-- Need-to-know by bound party (DESIGN §4b): what a hub receives is decided when it is
-- registered, from the credential that registered it — everything for an admin, the
-- events of the party the credential is bound to (an API key's `party`, default its
-- name; a JWT `sub` listed in its entry's `subjects`), or only events naming no party.
-- Stored as `all`, `party:<id>` or `none`; NULL only where there is no owner.
ALTER TABLE hubs ADD COLUMN owner_reach text;
ALTER TABLE listeners ADD COLUMN owner_reach text;

-- Owners recorded before: an API key's name was its party then and is by default now,
-- so those hubs keep what they received. A JWT `sub` (or an owner of unknown kind) was
-- never bound to a party: such hubs now receive only events naming no party (register
-- again, under an entry with `subjects`, to receive a party's events).
UPDATE hubs SET owner_reach = CASE WHEN owner_issuer = 'api-key' THEN 'party:' || owner
                                   ELSE 'none' END
 WHERE owner IS NOT NULL;
UPDATE listeners SET owner_reach = CASE WHEN owner_issuer = 'api-key' THEN 'party:' || owner
                                        ELSE 'none' END
 WHERE owner IS NOT NULL;
