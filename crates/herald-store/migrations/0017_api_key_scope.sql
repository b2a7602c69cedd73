-- What a key may do: 'server' (every call of its tenant) or 'app' (an app client key: register
-- devices and report delivery events only).
ALTER TABLE api_keys ADD COLUMN scope TEXT NOT NULL DEFAULT 'server';
