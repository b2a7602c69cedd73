-- When a delivery's attempt was claimed: a claim older than the lease (its holder stopped
-- answering, or lost touch with the bus) may be taken over; a younger one is left to its holder.
ALTER TABLE deliveries ADD COLUMN claimed_at BIGINT;
