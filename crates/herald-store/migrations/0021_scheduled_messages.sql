-- A message sent with send_at: stored 'scheduled' (unpublished, which the outbox relay leaves
-- alone) until the relay releases it at send_at. NULL for a message sent at once.
ALTER TABLE messages ADD COLUMN send_at BIGINT;

-- The relay's release and ListScheduledMessages read the scheduled messages by due time.
CREATE INDEX messages_scheduled ON messages (send_at, id) WHERE state = 'scheduled';
CREATE INDEX messages_scheduled_by_tenant ON messages (tenant_id, send_at, id) WHERE state = 'scheduled';
