-- Customers top up their own wallet: Telegram Stars, Crypto Pay invoices, receipts an admin
-- approves. One row per payment (an old Stars invoice paid again is a second row).

CREATE TABLE payments (
    payment_id          INTEGER PRIMARY KEY,
    user_id             INTEGER NOT NULL REFERENCES users (user_id),
    chat_id             INTEGER NOT NULL,
    provider            TEXT NOT NULL CHECK (provider IN ('stars', 'cryptopay', 'manual')),
    -- The provider's own ID: Stars telegram_payment_charge_id (known once paid), the Crypto
    -- Pay invoice ID (known once created), "manual-<payment_id>" for a receipt.
    provider_payment_id TEXT,
    payload             TEXT UNIQUE,          -- what the invoice carries back; NULL for repeats
    amount              TEXT NOT NULL,        -- in CURRENCY: what the wallet is credited
    provider_amount     TEXT NOT NULL,        -- in provider_unit (whole Stars for XTR)
    provider_unit       TEXT NOT NULL,        -- XTR, the invoice's fiat, or CURRENCY
    rate                TEXT NOT NULL,        -- provider units per 1 CURRENCY, never recomputed
    state               TEXT NOT NULL CHECK (state IN
                            ('created', 'paid', 'credited', 'rejected', 'expired', 'refunded')),
    origin              TEXT NOT NULL DEFAULT 'balance' CHECK (origin IN ('balance', 'order')),
    repeat_of           INTEGER REFERENCES payments (payment_id),
    pay_url             TEXT,                 -- Crypto Pay: where the customer pays
    paid_asset          TEXT,                 -- Crypto Pay: what the customer paid with
    paid_amount         TEXT,
    reference           TEXT,                 -- manual: the customer's reference or caption
    photo_file_id       TEXT,                 -- manual: the receipt photo
    note                TEXT,                 -- why it was rejected, or an admin's correction
    decided_by          INTEGER,              -- the admin who approved, rejected or refunded
    expires_at          TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    paid_at             TEXT,
    credited_at         TEXT
);
CREATE UNIQUE INDEX payments_by_provider_id ON payments (provider, provider_payment_id)
    WHERE provider_payment_id IS NOT NULL;
CREATE INDEX payments_by_user ON payments (user_id, payment_id);
CREATE INDEX payments_by_state ON payments (provider, state);

-- The state machine, enforced here so no code path can skip a step or go back.
CREATE TRIGGER payments_state_moves BEFORE UPDATE OF state ON payments
WHEN OLD.state <> NEW.state AND (OLD.state || '>' || NEW.state) NOT IN (
    'created>paid', 'created>expired', 'created>rejected',
    'expired>paid', 'paid>credited', 'credited>refunded', 'paid>refunded'
)
BEGIN
    SELECT RAISE(ABORT, 'this payment state change is not allowed');
END;

-- Admins' cards about a receipt, so the first decision can be shown on every card.
CREATE TABLE payment_cards (
    payment_id INTEGER NOT NULL REFERENCES payments (payment_id),
    chat_id    INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (payment_id, chat_id)
);

-- A payment credits the wallet at most once and is reversed at most once, whatever races
-- happen between a repeated notice, the polling job, the webhook and two admins.
ALTER TABLE ledger ADD COLUMN payment_id INTEGER REFERENCES payments (payment_id);
CREATE UNIQUE INDEX ledger_one_credit_per_payment ON ledger (payment_id)
    WHERE kind = 'payment';
CREATE UNIQUE INDEX ledger_one_reversal_per_payment ON ledger (payment_id)
    WHERE kind = 'payment_refund';
