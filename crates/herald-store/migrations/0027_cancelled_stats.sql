-- Delivery analytics count cancelled deliveries (a recall took them before their provider did)
-- in a stage of their own. Those cancelled before this counted nowhere; they are counted here
-- once, from the deliveries, on the day of their last change.
ALTER TABLE message_stats ADD COLUMN n_cancelled BIGINT NOT NULL DEFAULT 0;
ALTER TABLE daily_stats ADD COLUMN n_cancelled BIGINT NOT NULL DEFAULT 0;

UPDATE message_stats SET n_cancelled = (
    SELECT COUNT(*) FROM deliveries d
    WHERE d.tenant_id = message_stats.tenant_id AND d.message_id = message_stats.message_id
        AND d.status = 'cancelled'
);
