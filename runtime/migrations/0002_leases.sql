-- Hub leases: which server replica delivers a hub, until when (runtime/STORAGE.md).
-- A hub is delivered by at most one replica at a time; a lease not renewed expires and
-- another replica takes the hub from its stored cursor.
ALTER TABLE hubs
    ADD COLUMN lease_owner text,
    ADD COLUMN lease_until timestamptz;
CREATE INDEX hubs_lease ON hubs (lease_until);
