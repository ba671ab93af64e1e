-- The whole first schema. Money columns hold Decimal text ("12.50"), never REAL.
-- Times are ISO 8601 UTC text with a fixed format, so they sort as text.

CREATE TABLE users (
    user_id     INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    username    TEXT,
    first_name  TEXT NOT NULL DEFAULT '',
    is_blocked  INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX users_by_username ON users (username COLLATE NOCASE);

-- One row per (panel, category name); kept when a category vanishes, marked unavailable.
CREATE TABLE categories (
    category_id INTEGER PRIMARY KEY,
    panel       TEXT NOT NULL,
    name        TEXT NOT NULL,
    platform    TEXT NOT NULL,
    position    INTEGER NOT NULL DEFAULT 0,
    available   INTEGER NOT NULL DEFAULT 1,
    synced_at   TEXT NOT NULL,
    UNIQUE (panel, name)
);
CREATE INDEX categories_by_platform ON categories (platform, available, panel, position);

-- One row per (panel, service ID); item_id is our short number used in buttons.
-- Old orders reference rows here, so a vanished service is marked unavailable, never deleted.
CREATE TABLE services (
    item_id      INTEGER PRIMARY KEY,
    panel        TEXT NOT NULL,
    service_id   TEXT NOT NULL,
    category_id  INTEGER NOT NULL REFERENCES categories (category_id),
    name         TEXT NOT NULL,
    type_name    TEXT NOT NULL,
    order_type   TEXT,                -- an OrderType value; NULL when we cannot place it
    rate         TEXT NOT NULL,       -- the panel's cost rate per 1000 (or per package)
    price_rate   TEXT NOT NULL,       -- the customer's rate after markup
    min_quantity INTEGER NOT NULL,
    max_quantity INTEGER NOT NULL,
    refill       INTEGER NOT NULL DEFAULT 0,
    cancel       INTEGER NOT NULL DEFAULT 0,
    dripfeed     INTEGER NOT NULL DEFAULT 0,
    description  TEXT NOT NULL DEFAULT '',
    raw          TEXT NOT NULL DEFAULT '{}',  -- the panel's fields as it sent them, JSON
    platform     TEXT NOT NULL,
    search_text  TEXT NOT NULL,       -- casefolded "name category" for word search
    position     INTEGER NOT NULL DEFAULT 0,
    available    INTEGER NOT NULL DEFAULT 1,
    synced_at    TEXT NOT NULL,
    UNIQUE (panel, service_id)
);
CREATE INDEX services_by_category ON services (category_id, available, position);
CREATE INDEX services_by_platform ON services (platform, available);
CREATE INDEX services_by_service_id ON services (service_id);

CREATE TABLE orders (
    order_id        INTEGER PRIMARY KEY,   -- the local number the customer sees
    user_id         INTEGER NOT NULL REFERENCES users (user_id),
    chat_id         INTEGER NOT NULL,
    panel           TEXT NOT NULL,
    panel_order_id  TEXT,
    item_id         INTEGER NOT NULL REFERENCES services (item_id),
    service_id      TEXT NOT NULL,
    service_name    TEXT NOT NULL,
    order_type      TEXT NOT NULL,
    link            TEXT,
    quantity        INTEGER NOT NULL,
    fields          TEXT NOT NULL DEFAULT '{}',  -- every form field sent, JSON
    price           TEXT NOT NULL,               -- what the customer pays
    cost            TEXT NOT NULL,               -- what the panel should charge us
    charged         INTEGER NOT NULL,            -- 0 for admins' own orders
    status          TEXT NOT NULL,   -- placing | review | failed | an OrderStatus value
    remains         INTEGER,
    start_count     INTEGER,
    charge          TEXT,                        -- what the panel says it charged
    currency        TEXT,
    error           TEXT,                        -- the panel's words when it refused
    not_found       INTEGER NOT NULL DEFAULT 0,  -- the panel no longer knows this order
    idempotency_key TEXT NOT NULL UNIQUE,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    checked_at      TEXT                         -- last status poll
);
CREATE INDEX orders_by_user ON orders (user_id, order_id);
CREATE INDEX orders_by_panel_status ON orders (panel, status);
CREATE INDEX orders_by_status ON orders (status);
CREATE UNIQUE INDEX orders_by_panel_order_id ON orders (panel, panel_order_id)
    WHERE panel_order_id IS NOT NULL;

-- The money ledger: append-only. A balance is the balance_after of the user's last entry,
-- computed inside the transaction that appends it.
CREATE TABLE ledger (
    entry_id      INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (user_id),
    amount        TEXT NOT NULL,          -- signed: + credit/refund, - debit/order
    balance_after TEXT NOT NULL,
    kind          TEXT NOT NULL,          -- credit | debit | order | refund
    reason        TEXT NOT NULL DEFAULT '',
    order_id      INTEGER REFERENCES orders (order_id),
    admin_id      INTEGER,
    created_at    TEXT NOT NULL
);
CREATE INDEX ledger_by_user ON ledger (user_id, entry_id);
-- An order is charged at most once and refunded (in full or in part) at most once,
-- whatever races happen between the placing code, status sync and an admin.
CREATE UNIQUE INDEX ledger_one_charge_per_order ON ledger (order_id) WHERE kind = 'order';
CREATE UNIQUE INDEX ledger_one_refund_per_order ON ledger (order_id) WHERE kind = 'refund';

CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only: entries cannot be changed');
END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only: entries cannot be deleted');
END;

CREATE TABLE order_events (
    event_id    INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES orders (order_id),
    old_status  TEXT,
    new_status  TEXT NOT NULL,
    remains     INTEGER,
    start_count INTEGER,
    charge      TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX order_events_by_order ON order_events (order_id, event_id);

-- Messages to send, written in the same transaction as the change they announce.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    chat_id      INTEGER NOT NULL,
    text         TEXT NOT NULL,
    parse_mode   TEXT,
    reply_markup TEXT,                    -- JSON, or NULL
    status       TEXT NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'sent', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    not_before   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    sent_at      TEXT,
    dedupe_key   TEXT UNIQUE              -- NULLs do not collide
);
CREATE INDEX outbox_due ON outbox (status, not_before);

CREATE TABLE refills (
    id                INTEGER PRIMARY KEY,
    order_id          INTEGER NOT NULL REFERENCES orders (order_id),
    panel             TEXT NOT NULL,
    panel_request_id  TEXT,
    status            TEXT NOT NULL,
    error             TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX refills_by_order ON refills (order_id);
CREATE INDEX refills_by_panel_status ON refills (panel, status);

CREATE TABLE cancels (
    id                INTEGER PRIMARY KEY,
    order_id          INTEGER NOT NULL REFERENCES orders (order_id),
    panel             TEXT NOT NULL,
    panel_request_id  TEXT,
    status            TEXT NOT NULL,
    error             TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX cancels_by_order ON cancels (order_id);
CREATE INDEX cancels_by_panel_status ON cancels (panel, status);

-- python-telegram-bot persistence: conversations, user/chat/bot data, callback data.
CREATE TABLE ptb_state (
    kind TEXT NOT NULL,
    key  TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
