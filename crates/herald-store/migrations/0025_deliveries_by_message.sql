-- A message's deliveries in id order (which is device order): a removal of a recalled
-- message's pushes reads the devices they reached page by page, in keyset order.
CREATE INDEX IF NOT EXISTS deliveries_message_order ON deliveries (tenant_id, message_id, id);
DROP INDEX IF EXISTS deliveries_message;
