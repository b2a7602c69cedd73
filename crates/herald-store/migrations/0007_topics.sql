-- Topics: named audiences by interest. A subscription names a device, or a user (covering the
-- user's devices, present and future); the pair (kind, subscriber) says which.
CREATE TABLE topics (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE topic_subscriptions (
    tenant_id   TEXT NOT NULL,
    topic       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    subscriber  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, topic, kind, subscriber)
);
-- A device's or a user's subscriptions (to drop them with the device, to list them).
CREATE INDEX topic_subscriptions_subscriber ON topic_subscriptions (tenant_id, kind, subscriber);
