-- Rate limits: the tenant's limits (a JSON list of {provider, per_minute}), and one bucket per
-- tenant and scope (a provider's name, or '*' for all) that every sender replica spends from:
-- the pushes `used` in the wall-clock `second`, and `prev`, what was used before the last
-- take (so a take answers what it was granted).
ALTER TABLE tenants ADD COLUMN rate_limits TEXT NOT NULL DEFAULT '[]';

CREATE TABLE rate_buckets (
    tenant_id  TEXT NOT NULL,
    scope      TEXT NOT NULL,
    second     BIGINT NOT NULL,
    used       BIGINT NOT NULL,
    prev       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, scope)
);
