-- Segments: named boolean expressions over topics and device and customer attributes, kept as
-- written (they are parsed when created and again when sent to).
CREATE TABLE segments (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    expression  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- app_version as a key that sorts as versions do (herald_core::segments::version_key), for
-- segment conditions on it; devices registered before this migration get it when registered
-- again.
ALTER TABLE devices ADD COLUMN app_version_key TEXT NOT NULL DEFAULT '';
-- A tenant's devices in id order: a segment's audience is read in that order.
CREATE INDEX devices_tenant ON devices (tenant_id, id);
