-- Whether the panel's own services list marks a service as drip-feed. ``dripfeed`` also holds
-- when it is only inferred from the order type (v2 lists carry no flag); the order form asks
-- "Drip-feed?" up front only for marked services and offers it under More options otherwise.

ALTER TABLE services ADD COLUMN dripfeed_flagged INTEGER NOT NULL DEFAULT 0;
