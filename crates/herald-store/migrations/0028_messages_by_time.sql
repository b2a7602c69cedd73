-- ListMessages pages a tenant's messages newest first.
CREATE INDEX IF NOT EXISTS messages_by_time ON messages (tenant_id, created_at, id);
