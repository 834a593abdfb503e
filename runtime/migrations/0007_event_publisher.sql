-- eventId de-duplication per publisher (DESIGN §4b): the key was (topic, eventId), so
-- one party could learn of another's hidden events by their eventId (409 naming the
-- record, or 201 with its id) and block another's publish by taking its eventId
-- first. It is now (topic, publisher, eventId): a retry by the same publisher finds its
-- event, another publisher's event with the same eventId is its own event.
--
-- `publisher` is the authenticated principal (`<issuer>` U+001F `<name>`); '' is the
-- one publisher of a hub without authentication, and of every event stored before
-- this migration (they stay readable and delivered as they were; a retry of one of
-- them by an authenticated publisher is a new event).
ALTER TABLE events ADD COLUMN publisher text NOT NULL DEFAULT '';
ALTER TABLE events DROP CONSTRAINT events_topic_id_event_id_key;
CREATE UNIQUE INDEX events_dedup ON events (topic_id, publisher, event_id);
