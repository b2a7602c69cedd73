-- What a fan-out's audience was when it started (a segment's expression), so a fan-out resumed
-- after a crash reads the same audience even if the segment was changed or deleted meanwhile.
ALTER TABLE fanouts ADD COLUMN pinned TEXT NOT NULL DEFAULT '';
