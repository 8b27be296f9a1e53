-- Core durable records. migrations/sqlite/0001_core.sql holds the same tables for the
-- embedded default; keep the two in step (same names, same meaning).

CREATE TABLE telcos (
    id               TEXT PRIMARY KEY,
    wire_format      TEXT NOT NULL,
    -- Callback credentials: both set, or both NULL for the embedded loopback demo telcos.
    username         TEXT,
    secret_sha256    TEXT,
    -- Comma-separated CIDRs allowed to call us; empty means any.
    allowed_networks TEXT NOT NULL DEFAULT '',
    screen_limit     INTEGER NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    CHECK ((username IS NULL) = (secret_sha256 IS NULL))
);

CREATE TABLE agencies (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    backoffice_url TEXT NOT NULL,
    -- Stored as given, not hashed: the gateway itself must use it as the HMAC key that
    -- signs requests and webhooks to the agency, so it cannot be one-way hashed.
    signing_secret TEXT NOT NULL,
    -- Comma-separated names of the back-office actions the agency offers.
    actions        TEXT NOT NULL DEFAULT '',
    callback_url   TEXT,
    created_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_keys (
    id         BIGSERIAL PRIMARY KEY,
    agency_id  TEXT NOT NULL REFERENCES agencies (id) ON DELETE CASCADE,
    -- First 8 characters of the key, to find its row; unique so that a lookup is exact.
    key_prefix TEXT NOT NULL UNIQUE,
    key_sha256 TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

-- Published menu sources, so that every node can load a version another node published.
CREATE TABLE menu_versions (
    service_id TEXT NOT NULL,
    version    TEXT NOT NULL,
    agency_id  TEXT NOT NULL,
    source     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (service_id, version)
);

-- The language each number chose.
CREATE TABLE citizens (
    msisdn     TEXT PRIMARY KEY,
    language   TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- One row per finished USSD dialogue, for reports. Only the masked number is kept:
-- reports do not need the full one.
CREATE TABLE ussd_sessions (
    id            BIGSERIAL PRIMARY KEY,
    session_key   TEXT NOT NULL,
    telco_id      TEXT NOT NULL,
    msisdn_masked TEXT NOT NULL,
    service_id    TEXT,
    network       TEXT,
    hops          INTEGER NOT NULL,
    -- completed, user_cancelled, telco_timeout, abandoned, failed, unavailable
    end_reason    TEXT NOT NULL,
    started_at    TIMESTAMPTZ NOT NULL,
    ended_at      TIMESTAMPTZ NOT NULL,
    duration_ms   BIGINT NOT NULL
);
CREATE INDEX ussd_sessions_started_at ON ussd_sessions (started_at);

-- One row per back-office call. No foreign key to agencies: the log must keep a call even
-- if the agency's record changes or goes.
CREATE TABLE transactions (
    id           TEXT PRIMARY KEY,          -- the request id `tx_...`, also the idempotency key
    agency_id    TEXT NOT NULL,
    service_id   TEXT,
    action       TEXT NOT NULL,
    session_key  TEXT,
    msisdn       TEXT NOT NULL,             -- full number: needed to follow up by SMS
    -- ok, not_found, rejected, failed, timeout
    outcome      TEXT NOT NULL,
    latency_ms   BIGINT NOT NULL,
    attempts     INTEGER NOT NULL,
    amount       NUMERIC(20, 2),
    currency     TEXT,
    reference    TEXT,                      -- control number, booking ref, case id...
    error        TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    completed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX transactions_agency_created ON transactions (agency_id, created_at);
CREATE INDEX transactions_outcome ON transactions (outcome);
