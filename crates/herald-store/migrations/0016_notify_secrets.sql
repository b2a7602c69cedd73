-- A tenant's notify URL signing secrets (sealed under the master key like an endpoint's: the
-- secrets newest first, each with when it stops signing), which sign the reports posted to a
-- message's own notify URL.
CREATE TABLE notify_secrets (
    tenant_id   TEXT NOT NULL PRIMARY KEY REFERENCES tenants (id),
    secrets     BYTEA NOT NULL,
    updated_at  BIGINT NOT NULL
);
