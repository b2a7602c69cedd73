-- A message's correlation id beside its callback data, so delivery events can carry both
-- without decoding the stored body.
ALTER TABLE messages ADD COLUMN correlation_id TEXT NOT NULL DEFAULT '';
