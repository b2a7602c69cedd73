-- The trace context (W3C traceparent) of the router span that started a fan-out: each page of
-- the fan-out starts a trace of its own that links to it, whichever router takes the job.
ALTER TABLE fanouts ADD COLUMN traceparent TEXT;
