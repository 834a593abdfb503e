-- Identity = (issuer, name) (DESIGN §4b): an owner's name means something only within
-- the namespace of the credential kind that authenticated it (`api-key`,
-- `jwt:<issuer>`), so an API key and a JWT `sub` of the same name are different owners.
ALTER TABLE hubs ADD COLUMN owner_issuer text;
ALTER TABLE listeners ADD COLUMN owner_issuer text;

-- Owners recorded before: the credential kind is unknown, so no caller matches them
-- any more (an admin still sees and removes them). Safer than guessing a namespace.
UPDATE hubs SET owner_issuer = 'unknown' WHERE owner IS NOT NULL;
UPDATE listeners SET owner_issuer = 'unknown' WHERE owner IS NOT NULL;

-- A hub is idempotent per (topic, callback, query, owner) with the owner's namespace.
DROP INDEX hubs_identity;
CREATE UNIQUE INDEX hubs_identity ON hubs (
    topic_id, callback,
    (coalesce(query, '')), (query IS NULL),
    (coalesce(owner_issuer, '')), (coalesce(owner, '')), (owner IS NULL)
);
