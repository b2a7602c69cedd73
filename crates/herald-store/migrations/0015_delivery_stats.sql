-- Delivery analytics, kept by the statements that create and move deliveries, never computed by
-- scanning them. moved_by: the token of the receipt statement that last moved the delivery
-- forward (so the statement tells a move, which it counts, from a repeat, which it does not),
-- and moved_from the status it left;
-- clicked_at: when the delivery was first clicked or a button of it tapped (0: never), so a
-- click counts once.
ALTER TABLE deliveries ADD COLUMN moved_by BIGINT NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN moved_from TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN clicked_at BIGINT NOT NULL DEFAULT 0;

-- Per message: its deliveries that reached each stage.
CREATE TABLE message_stats (
    tenant_id    TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    n_sent       BIGINT NOT NULL,
    n_submitted  BIGINT NOT NULL,
    n_delivered  BIGINT NOT NULL,
    n_read       BIGINT NOT NULL,
    n_clicked    BIGINT NOT NULL,
    n_failed     BIGINT NOT NULL,
    n_expired    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, message_id)
);

-- Per tenant, UTC day (YYYY-MM-DD, the day each stage was reached) and provider.
CREATE TABLE daily_stats (
    tenant_id    TEXT NOT NULL,
    day          TEXT NOT NULL,
    provider     TEXT NOT NULL,
    n_sent       BIGINT NOT NULL,
    n_submitted  BIGINT NOT NULL,
    n_delivered  BIGINT NOT NULL,
    n_read       BIGINT NOT NULL,
    n_clicked    BIGINT NOT NULL,
    n_failed     BIGINT NOT NULL,
    n_expired    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, day, provider)
);
