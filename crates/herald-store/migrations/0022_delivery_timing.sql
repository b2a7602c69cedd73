-- Local-time delivery and quiet hours. A device's IANA time zone ('' none); a tenant's default
-- zone and quiet hours; a customer's own quiet hours. Quiet hours are two wall-clock times
-- (HH:MM, '' none) and what they do to standard and marketing messages ('' the class's
-- default, 'hold', 'drop').
ALTER TABLE devices ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN default_time_zone TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN quiet_start TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN quiet_end TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN quiet_standard TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN quiet_marketing TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN quiet_start TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN quiet_end TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN quiet_standard TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN quiet_marketing TEXT NOT NULL DEFAULT '';

-- The soonest instant a device a fan-out's pages held back (its local time had not come, or
-- its quiet hours held it) is due: when the fan-out ends, the message is scheduled again then.
ALTER TABLE fanouts ADD COLUMN next_wave BIGINT;
