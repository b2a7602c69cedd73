-- The attempt of a delivery a sender has claimed: a copy of the same send task (a batch the
-- router published again in another composition) finds it claimed and leaves it, so a
-- delivery is sent once per attempt. NULL until a sender takes it.
ALTER TABLE deliveries ADD COLUMN claimed_attempt BIGINT;

-- How often JetStream refused to take the message (too large, say); the outbox parks it in the
-- dead letters after a few refusals instead of trying it forever.
ALTER TABLE messages ADD COLUMN publish_tries BIGINT NOT NULL DEFAULT 0;

-- The relay takes the oldest unpublished messages of each tenant in turn.
CREATE INDEX messages_unpublished_by_tenant ON messages (tenant_id, created_at) WHERE published_at IS NULL;
