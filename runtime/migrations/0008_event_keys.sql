-- Indexed lookups of listEvent (runtime/STORAGE.md, "Indexed lookups"): a filter on
-- `eventId`, `eventType` or an `eventTime` range (`raisedBefore`/`raisedAfter`) reads
-- the events it selects through an index instead of scanning the topic's log.
--
-- `event_type` is the body's `eventType` when it is a JSON string (without U+0000, which
-- `text` cannot hold); `event_time_us` the instant of `eventTime`, a date-time, in
-- microseconds since 1970-01-01T00:00:00Z (truncated; without an offset: UTC). The
-- service computes both for new events (store/index.rs, `EventKeys`) and the filter is
-- applied on top of what an index selects, so results are what a scan gives.
ALTER TABLE events ADD COLUMN event_type text, ADD COLUMN event_time_us bigint;

-- Rows stored before this migration: the same keys, computed by PostgreSQL. A value it
-- cannot read (a U+0000 escape; a date-time it refuses, e.g. year 0000 or an offset
-- beyond ±15:59) stays NULL. PostgreSQL rounds fractions past the microsecond where the
-- service truncates: the service widens the ranges it asks by a microsecond.
CREATE FUNCTION pg_temp.tmf688_event_type(body json) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    IF json_typeof(body -> 'eventType') = 'string' THEN
        RETURN body ->> 'eventType';
    END IF;
    RETURN NULL;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;

CREATE FUNCTION pg_temp.tmf688_event_time_us(body json) RETURNS bigint LANGUAGE plpgsql
SET timezone = 'UTC' AS $$
DECLARE
    at timestamptz;
BEGIN
    IF json_typeof(body -> 'eventTime') <> 'string' THEN
        RETURN NULL;
    END IF;
    at := (body ->> 'eventTime')::timestamptz;
    RETURN extract(epoch FROM date_trunc('second', at))::bigint * 1000000
         + extract(microseconds FROM at)::bigint % 1000000;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;

UPDATE events SET event_type = pg_temp.tmf688_event_type(body),
                  event_time_us = pg_temp.tmf688_event_time_us(body);

-- Candidates in log order, paged by sequence: (topic, key, seq).
CREATE INDEX events_event_id ON events (topic_id, event_id, seq);
CREATE INDEX events_event_type ON events (topic_id, event_type, seq);
CREATE INDEX events_event_time ON events (topic_id, event_time_us);

-- How many events of a topic carry each eventType: `X-Total-Count` of `?eventType=`
-- without counting rows. Kept by statement triggers on the events' inserts and deletes
-- (a trim of the log included), in the writing transaction.
CREATE TABLE event_type_counts (
    topic_id   text   NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    event_type text   NOT NULL,
    events     bigint NOT NULL,
    PRIMARY KEY (topic_id, event_type)
);
INSERT INTO event_type_counts (topic_id, event_type, events)
SELECT topic_id, event_type, count(*) FROM events
WHERE event_type IS NOT NULL GROUP BY topic_id, event_type;

CREATE FUNCTION tmf688_count_added_event_types() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_type_counts AS c (topic_id, event_type, events)
    SELECT topic_id, event_type, count(*) FROM added
    WHERE event_type IS NOT NULL GROUP BY topic_id, event_type
    ON CONFLICT (topic_id, event_type) DO UPDATE SET events = c.events + excluded.events;
    RETURN NULL;
END $$;

-- Decrements only (a topic being deleted may have lost its counts already).
CREATE FUNCTION tmf688_count_removed_event_types() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE event_type_counts AS c SET events = c.events - r.n
    FROM (SELECT topic_id, event_type, count(*) AS n FROM removed
          WHERE event_type IS NOT NULL GROUP BY topic_id, event_type) AS r
    WHERE c.topic_id = r.topic_id AND c.event_type = r.event_type;
    RETURN NULL;
END $$;

CREATE TRIGGER events_count_added AFTER INSERT ON events
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE PROCEDURE tmf688_count_added_event_types();
CREATE TRIGGER events_count_removed AFTER DELETE ON events
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE PROCEDURE tmf688_count_removed_event_types();
