-- Indexes the order tracking and the notification outbox lean on.

-- The outbox sender takes each chat's oldest pending message, and fails a blocked chat's.
CREATE INDEX outbox_pending_by_chat ON outbox (status, chat_id, id);

-- A chat that blocked the bot is traced back to its user.
CREATE INDEX users_by_chat ON users (chat_id);
