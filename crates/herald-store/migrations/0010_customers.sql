-- Customer profiles: one person across channels. attributes is a JSON object of strings,
-- identities a JSON array of [channel, id] pairs (kept as data). A user id links to at most
-- one customer; a customer may opt out of push altogether or of single topics.
CREATE TABLE customers (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    id            TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    locale        TEXT NOT NULL DEFAULT '',
    time_zone     TEXT NOT NULL DEFAULT '',
    attributes    TEXT NOT NULL DEFAULT '{}',
    identities    TEXT NOT NULL DEFAULT '[]',
    push_opt_out  BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE customer_users (
    tenant_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX customer_users_customer ON customer_users (tenant_id, customer_id);

CREATE TABLE customer_topic_opt_outs (
    tenant_id    TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    topic        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, topic)
);

-- The devices registered with a customer id.
CREATE INDEX devices_customer ON devices (tenant_id, customer_id);
