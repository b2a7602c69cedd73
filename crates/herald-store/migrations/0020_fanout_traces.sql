-- The trace context (W3C traceparent) of a fan-out's message, as ingest published it: each page
-- of the fan-out starts a trace of its own that links to it, whichever router takes the job.
ALTER TABLE fanouts ADD COLUMN traceparent TEXT;
