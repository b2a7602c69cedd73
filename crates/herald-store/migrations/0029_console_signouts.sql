-- Console sessions signed out before they expire: the sealed session cookie names its id, and a
-- signed-out id is refused until the cookie would have expired anyway (then the row goes).
CREATE TABLE IF NOT EXISTS console_signouts (
    id          TEXT PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);
