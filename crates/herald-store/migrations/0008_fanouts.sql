-- Fan-outs: a message to a large audience (a topic, a segment) is routed page by page. Its row
-- is the durable checkpoint: the audience source and the key of the last device whose send
-- batches JetStream acknowledged (cursor_key orders the source, cursor_device breaks ties), so
-- a router that stops or dies mid-way is followed from there. holder and lease_until say which
-- router works it, until when; the row goes when the message is routed.
CREATE TABLE fanouts (
    tenant_id      TEXT NOT NULL,
    message_id     TEXT NOT NULL,
    source         BIGINT NOT NULL DEFAULT 0,
    cursor_key     TEXT NOT NULL DEFAULT '',
    cursor_device  TEXT NOT NULL DEFAULT '',
    routed         BIGINT NOT NULL DEFAULT 0,
    holder         TEXT NOT NULL DEFAULT '',
    lease_until    BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, message_id)
);
CREATE INDEX fanouts_lease ON fanouts (lease_until);

-- A user's devices in id order, so the devices of a topic's subscribed users page by (user, id).
DROP INDEX devices_user;
CREATE INDEX devices_user ON devices (tenant_id, user_id, id);
