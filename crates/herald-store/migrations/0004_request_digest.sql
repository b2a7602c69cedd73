-- The digest of the request that created a message with an idempotency key: a repeat of the key
-- with another request is refused. NULL for messages stored before (their repeats are answered).
ALTER TABLE messages ADD COLUMN request_digest TEXT;
