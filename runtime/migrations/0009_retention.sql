-- Retention and dead letters (runtime/STORAGE.md, "Retention").
--
-- When each event was appended: what `max_age` and `max_undelivered_age` measure.
-- Existing events get the time of this migration (a constant default: no table rewrite).
ALTER TABLE events ADD COLUMN stored_at timestamptz NOT NULL DEFAULT now();

-- Why retention halted a hub (events it was not delivered within max_undelivered_age).
ALTER TABLE hubs ADD COLUMN halt_reason text;

-- Where each topic's log begins: the trimmer removes a prefix of the log and moves
-- `first_seq` after it in the same transaction, so the log always holds every sequence
-- from `first_seq` to `topics.last_seq`. Kept apart from `topics` so that the trimmer
-- never touches the row that appends lock. The row is created with its topic.
CREATE TABLE topic_retention (
    topic_id  text   PRIMARY KEY REFERENCES topics (id) ON DELETE CASCADE,
    first_seq bigint NOT NULL DEFAULT 1 CHECK (first_seq >= 1),
    trimmed   bigint NOT NULL DEFAULT 0 CHECK (trimmed >= 0)
);
INSERT INTO topic_retention (topic_id) SELECT id FROM topics;

-- What hubs gave up on: ranges expired by max_undelivered_age, and the backlog of hubs
-- removed after a 410 Gone. Not tied to `hubs` by a foreign key: a removed hub's dead
-- letters stay listed.
CREATE TABLE dead_letters (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hub_id    text   NOT NULL,
    topic_id  text   NOT NULL,
    callback  text   NOT NULL,
    first_seq bigint NOT NULL,
    last_seq  bigint NOT NULL CHECK (last_seq >= first_seq),
    kind      text   NOT NULL CHECK (kind IN ('expired', 'gone')),
    reason    text   NOT NULL,
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dead_letters_hub ON dead_letters (hub_id, id);

-- Which replica runs the trimmer (one at a time; a lease that expires when it dies).
CREATE TABLE trimmer_lease (
    id    integer PRIMARY KEY CHECK (id = 1),
    owner text    NOT NULL,
    until timestamptz NOT NULL
);
