-- Herald's schema. Every row carries its tenant; instants are Unix milliseconds.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- API keys are stored as the SHA-256 of the key, never in clear.
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    prefix      TEXT NOT NULL,
    key_hash    TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE devices (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    user_id         TEXT,
    customer_id     TEXT,
    platform        TEXT NOT NULL,
    push_token      TEXT NOT NULL,
    browser         TEXT NOT NULL DEFAULT '',
    web_p256dh      TEXT NOT NULL DEFAULT '',
    web_auth        TEXT NOT NULL DEFAULT '',
    sandbox         BIGINT NOT NULL DEFAULT 0,
    app_version     TEXT NOT NULL DEFAULT '',
    locale          TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL,
    state_reason    TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    last_active_at  BIGINT NOT NULL DEFAULT 0,
    UNIQUE (tenant_id, platform, push_token)
);
CREATE INDEX devices_user ON devices (tenant_id, user_id);

-- body: the accepted message as published on the bus (herald.bus.v1.MessageAccepted).
-- published_at stays NULL until JetStream acknowledged the publish (the outbox relay's work list).
CREATE TABLE messages (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    idempotency_key  TEXT,
    body             BYTEA NOT NULL,
    callback_data    TEXT NOT NULL DEFAULT '',
    notify_url       TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL,
    reason           TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    published_at     BIGINT,
    UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX messages_unpublished ON messages (created_at) WHERE published_at IS NULL;

CREATE TABLE deliveries (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL,
    message_id           TEXT NOT NULL,
    device_id            TEXT NOT NULL,
    provider             TEXT NOT NULL,
    status               TEXT NOT NULL,
    reason               TEXT NOT NULL DEFAULT '',
    provider_message_id  TEXT NOT NULL DEFAULT '',
    attempts             BIGINT NOT NULL DEFAULT 0,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX deliveries_message ON deliveries (tenant_id, message_id);

-- sealed: AES-256-GCM under the master key; the other columns are metadata the API may show.
CREATE TABLE credentials (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    provider    TEXT NOT NULL,
    label       TEXT NOT NULL DEFAULT '',
    identifier  TEXT NOT NULL DEFAULT '',
    principal   TEXT NOT NULL DEFAULT '',
    sealed      BYTEA NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, provider)
);
