-- Rate limits as token buckets: one per tenant and scope (a provider's name, or '*' for all)
-- that every sender replica takes from. `units` is what the bucket holds (a push is 60,000
-- units; it refills by per_minute units a millisecond, up to one second's budget), `at` the
-- instant it was last refilled (a replica whose clock is behind refills nothing), `granted`
-- what the last take was given. Replaces rate_buckets, whose per-second windows a replica with
-- another clock could open afresh; rate_buckets stays for the senders of the release before
-- while a deployment is upgraded, and goes in a later release.

CREATE TABLE rate_tokens (
    tenant_id  TEXT NOT NULL,
    scope      TEXT NOT NULL,
    units      BIGINT NOT NULL,
    at         BIGINT NOT NULL,
    granted    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, scope)
);
