-- Triggers of a tenant: its own (trg_<uuid>) and its changed copies of the built-in ones
-- (trg_incoming_call …). body: the trigger as protobuf (herald.v1.Trigger).
CREATE TABLE triggers (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    id          TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    body        BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX triggers_by_type ON triggers (tenant_id, event_type);

-- Published events and what came of them, kept for events.retention_hours. record: protobuf
-- (herald.v1.EventRecord). request_digest: what a repeat of the idempotency key must match.
CREATE TABLE events (
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    id               TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    idempotency_key  TEXT,
    request_digest   TEXT NOT NULL,
    record           BYTEA NOT NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX events_by_key ON events (tenant_id, idempotency_key);
CREATE INDEX events_by_type ON events (tenant_id, event_type, id);
CREATE INDEX events_by_time ON events (created_at);

-- Users' mobile sessions: one per device (a login on a device replaces its session).
-- voip_device_id: the device of the app's PushKit token ('' without one).
CREATE TABLE mobile_sessions (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    id              TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    voip_device_id  TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX mobile_sessions_by_device ON mobile_sessions (tenant_id, device_id);
CREATE INDEX mobile_sessions_by_user ON mobile_sessions (tenant_id, user_id, id);
