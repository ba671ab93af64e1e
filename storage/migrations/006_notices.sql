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

-- Refills and cancels are one thing: a request about an order, asked of its panel, with a
-- kind. Refills keep their IDs; cancels move above every ID either table used, so an ID a
-- dedupe key already names ("cancel:<id>:<status>") never comes back for another cancel.
CREATE TABLE panel_requests (
    id                INTEGER PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('refill', 'cancel')),
    order_id          INTEGER NOT NULL REFERENCES orders (order_id),
    panel             TEXT NOT NULL,
    panel_request_id  TEXT,
    status            TEXT NOT NULL,
    error             TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
INSERT INTO panel_requests (id, kind, order_id, panel, panel_request_id, status, error,
                            created_at, updated_at)
    SELECT id, 'refill', order_id, panel, panel_request_id, status, error, created_at,
           updated_at
    FROM refills;
INSERT INTO panel_requests (id, kind, order_id, panel, panel_request_id, status, error,
                            created_at, updated_at)
    SELECT id + MAX(COALESCE((SELECT MAX(id) FROM refills), 0),
                    COALESCE((SELECT MAX(id) FROM cancels), 0)),
           'cancel', order_id, panel, panel_request_id, status, error, created_at, updated_at
    FROM cancels;
DROP TABLE refills;
DROP TABLE cancels;
CREATE INDEX panel_requests_by_order ON panel_requests (order_id, kind);
CREATE INDEX panel_requests_by_panel_status ON panel_requests (panel, kind, status);
