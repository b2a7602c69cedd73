-- The counts of the messages whose deliveries existed before delivery analytics: each delivery
-- counted at every stage its status says it reached (clicks were not recorded before). Per-day
-- counts start with the upgrade: the day a past stage was reached is not known.
INSERT INTO message_stats (tenant_id, message_id, n_sent, n_submitted, n_delivered, n_read,
                           n_clicked, n_failed, n_expired)
SELECT tenant_id, message_id, COUNT(*),
       SUM(CASE WHEN status IN ('submitted', 'delivered', 'read') THEN 1 ELSE 0 END),
       SUM(CASE WHEN status IN ('delivered', 'read') THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'read' THEN 1 ELSE 0 END),
       0,
       SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'expired' THEN 1 ELSE 0 END)
FROM deliveries
GROUP BY tenant_id, message_id
ON CONFLICT (tenant_id, message_id) DO NOTHING;
