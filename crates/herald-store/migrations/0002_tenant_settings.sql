-- Per-tenant settings. allow_http_web_push: accept http:// Web Push endpoints (local testing).
ALTER TABLE tenants ADD COLUMN allow_http_web_push BIGINT NOT NULL DEFAULT 0;
