-- Outbound webhook endpoints of a tenant. events: the event names it receives, comma-separated;
-- provider: '' for every provider. secrets and auth are sealed under the master key (JSON: the
-- signing secrets newest first, each with when it stops signing; the authorization); auth_kind
-- is what the API may show of it. failing_since: when the first of the failures since the last
-- success happened (0: the last attempt succeeded).
CREATE TABLE webhooks (
    tenant_id         TEXT NOT NULL REFERENCES tenants (id),
    id                TEXT NOT NULL,
    url               TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    events            TEXT NOT NULL,
    provider          TEXT NOT NULL DEFAULT '',
    signature_scheme  TEXT NOT NULL,
    secrets           BYTEA NOT NULL,
    auth_kind         TEXT NOT NULL,
    auth              BYTEA NOT NULL,
    retry_delays      TEXT NOT NULL,
    timeout_secs      BIGINT NOT NULL,
    enabled           BIGINT NOT NULL,
    disabled_reason   TEXT NOT NULL DEFAULT '',
    failing_since     BIGINT NOT NULL DEFAULT 0,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- Every attempt to post an event to an endpoint. id: the attempt's time in milliseconds (13
-- digits) and a random suffix, so ids sort by when the attempts were made.
CREATE TABLE webhook_attempts (
    tenant_id        TEXT NOT NULL,
    id               TEXT NOT NULL,
    webhook_id       TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    message_id       TEXT NOT NULL,
    attempt          BIGINT NOT NULL,
    at               BIGINT NOT NULL,
    outcome          TEXT NOT NULL,
    status_code      BIGINT NOT NULL,
    detail           TEXT NOT NULL,
    duration_ms      BIGINT NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    url              TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX webhook_attempts_webhook ON webhook_attempts (tenant_id, webhook_id, id);
CREATE INDEX webhook_attempts_message ON webhook_attempts (tenant_id, message_id, id);
