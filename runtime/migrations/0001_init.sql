-- The TMF688 hub's store (runtime/STORAGE.md explains it).
--
-- Bodies are `json` (kept verbatim, as the client's compact JSON, unlike `jsonb`),
-- read back as text. Lists come in creation order: `ord`.

-- Server-assigned ids of topics, hubs and listeners (`hub-7`, ...), unique across
-- replicas sharing the database.
CREATE SEQUENCE ids;

CREATE TABLE topics (
    id       text PRIMARY KEY,
    name     text NOT NULL UNIQUE,
    body     json NOT NULL,
    -- The sequence of the last event of the log (0: empty). Appends lock this row,
    -- bump it and insert in one transaction: sequences are gapless and commit in order.
    last_seq bigint NOT NULL DEFAULT 0,
    ord      bigint GENERATED ALWAYS AS IDENTITY UNIQUE
);

-- The log of each topic: (topic, seq) is the position, (topic, event_id) the
-- de-duplication key. The server id of an event is its sequence in decimal.
CREATE TABLE events (
    topic_id text   NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    seq      bigint NOT NULL,
    event_id text   NOT NULL,
    body     json   NOT NULL,
    PRIMARY KEY (topic_id, seq),
    UNIQUE (topic_id, event_id)
);

-- Hubs: consumers of a topic's log with a cursor (the last sequence delivered).
CREATE TABLE hubs (
    id       text   PRIMARY KEY,
    topic_id text   NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    callback text   NOT NULL,
    query    text,
    owner    text,
    body     json   NOT NULL,
    cursor   bigint NOT NULL DEFAULT 0 CHECK (cursor >= 0),
    state    text   NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'halted')),
    ord      bigint GENERATED ALWAYS AS IDENTITY UNIQUE
);
-- A hub is idempotent per (topic, callback, query, owner), where two absent queries
-- (owners) are equal: NULLs made comparable without PostgreSQL 15's NULLS NOT DISTINCT.
CREATE UNIQUE INDEX hubs_identity ON hubs (
    topic_id, callback,
    (coalesce(query, '')), (query IS NULL),
    (coalesce(owner, '')), (owner IS NULL)
);
CREATE INDEX hubs_topic ON hubs (topic_id, ord);

-- Listeners of the API's own notifications (TMF630 POST /hub).
CREATE TABLE listeners (
    id       text PRIMARY KEY,
    callback text NOT NULL,
    query    text,
    owner    text,
    ord      bigint GENERATED ALWAYS AS IDENTITY UNIQUE
);
