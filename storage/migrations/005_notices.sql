-- The outbox records what happened (a notice kind and its data, JSON) for one chat; the
-- sender renders it into text and buttons at send time, in the reader's language. Rows
-- queued before this migration keep their rendered text and are sent as they are.
CREATE TABLE outbox_notices (
    id           INTEGER PRIMARY KEY,
    chat_id      INTEGER NOT NULL,
    kind         TEXT,                    -- a notice kind; NULL for a pre-rendered text
    data         TEXT,                    -- JSON: what the notice says
    text         TEXT,                    -- legacy rows (and texts rendered by handlers)
    parse_mode   TEXT,
    reply_markup TEXT,                    -- JSON, or NULL
    status       TEXT NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'sent', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    not_before   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    sent_at      TEXT,
    dedupe_key   TEXT UNIQUE,             -- NULLs do not collide
    CHECK ((kind IS NULL) = (data IS NULL) AND (kind IS NULL) != (text IS NULL))
);
INSERT INTO outbox_notices (id, chat_id, text, parse_mode, reply_markup, status, attempts,
                            last_error, not_before, created_at, sent_at, dedupe_key)
    SELECT id, chat_id, text, parse_mode, reply_markup, status, attempts, last_error,
           not_before, created_at, sent_at, dedupe_key
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_notices RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, not_before);
CREATE INDEX outbox_pending_by_chat ON outbox (status, chat_id, id);

-- The language a user reads (an IETF code like "en"); NULL: not chosen yet (English).
ALTER TABLE users ADD COLUMN language TEXT;
