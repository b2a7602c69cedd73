-- Per-tenant policies: topic and segment messaging can be switched off (sends to a topic or a
-- segment are then refused as a policy failure).
ALTER TABLE tenants ADD COLUMN topic_messaging_disabled BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN segment_messaging_disabled BIGINT NOT NULL DEFAULT 0;
