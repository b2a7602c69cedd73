-- Frequency caps: the tenant's caps (a JSON list of {class, max, window_seconds, per_user}),
-- and the pushes they count: one row per message and subject ('device:<id>' or 'user:<id>')
-- of a capped class, written when the router creates the deliveries.
ALTER TABLE tenants ADD COLUMN frequency_caps TEXT NOT NULL DEFAULT '[]';

CREATE TABLE push_log (
    tenant_id   TEXT NOT NULL,
    subject     TEXT NOT NULL,
    class       TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, subject, class, message_id)
);
CREATE INDEX push_log_recent ON push_log (tenant_id, class, subject, at);
