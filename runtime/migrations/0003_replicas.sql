-- Live server replicas (runtime/STORAGE.md): each renews its row with its hub leases;
-- the number of live rows sets every replica's fair share of the hubs.
CREATE TABLE replicas (
    id text PRIMARY KEY,
    alive_until timestamptz NOT NULL
);
