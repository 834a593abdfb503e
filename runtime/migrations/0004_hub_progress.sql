-- Delivery progress and registration details that every replica must see
-- (runtime/STORAGE.md): the base path a hub was registered under (the `href`s of its
-- events), the retry state of its next event, and an epoch that operator actions bump
-- so that a worker started before them cannot overwrite them.
ALTER TABLE hubs
    ADD COLUMN base_path  text,
    ADD COLUMN attempts   integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    ADD COLUMN last_error text,
    ADD COLUMN epoch      bigint  NOT NULL DEFAULT 0;
