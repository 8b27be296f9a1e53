-- Outgoing SMS: agencies' messages, their status history, the telcos that carry them, and
-- the signed webhooks that tell agencies what became of them. migrations/sqlite/0005_sms_out.sql
-- makes the same change for the embedded default.

-- How a telco takes SMS: its send URL and the credentials the gateway presents there (the
-- gateway must send them, so they are kept as given, unlike callback secrets), its
-- messages-per-second limit counted per part, the number prefixes it is the default route
-- for, and whether it takes everything no prefix claims. NULL sms_url: no SMS.
ALTER TABLE telcos ADD COLUMN sms_url TEXT;
ALTER TABLE telcos ADD COLUMN sms_username TEXT;
ALTER TABLE telcos ADD COLUMN sms_secret TEXT;
ALTER TABLE telcos ADD COLUMN sms_parts_per_second INTEGER NOT NULL DEFAULT 50;
ALTER TABLE telcos ADD COLUMN sms_prefixes TEXT NOT NULL DEFAULT '';
ALTER TABLE telcos ADD COLUMN sms_default BOOLEAN NOT NULL DEFAULT FALSE;

-- Comma-separated alphanumeric sender ids the agency may send from.
ALTER TABLE agencies ADD COLUMN sender_ids TEXT NOT NULL DEFAULT '';
-- Whether the agency's callback URL hears every status change or only final ones.
ALTER TABLE agencies ADD COLUMN webhook_every_status BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE messages (
    id               TEXT PRIMARY KEY,
    agency_id        TEXT NOT NULL REFERENCES agencies (id),
    recipient        TEXT NOT NULL,
    sender_id        TEXT,
    text             TEXT NOT NULL,
    encoding         TEXT NOT NULL,
    parts            INTEGER NOT NULL,
    callback_url     TEXT,
    -- queued, sending, sent, delivered, failed, expired.
    status           TEXT NOT NULL,
    telco_id         TEXT,
    telco_message_id TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    -- Queued: when it may be claimed. Sending: when its claim lapses (its dispatcher died).
    due_ms           BIGINT NOT NULL,
    -- Past this it is not sent but expired (the request's validity).
    expires_ms       BIGINT NOT NULL,
    last_error       TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX messages_due ON messages (due_ms) WHERE status IN ('queued', 'sending');
-- Sent messages whose report never came are made final once their validity is long past.
CREATE INDEX messages_unreported ON messages (expires_ms) WHERE status = 'sent';
-- Ids sort by acceptance time, so an agency's history pages by id.
CREATE INDEX messages_agency ON messages (agency_id, id);
CREATE UNIQUE INDEX messages_telco_message ON messages (telco_id, telco_message_id)
    WHERE telco_message_id IS NOT NULL;

-- Every status a message went through, with its time and what caused it.
CREATE TABLE message_events (
    id         BIGSERIAL PRIMARY KEY,
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    status     TEXT NOT NULL,
    detail     TEXT,
    at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX message_events_message ON message_events (message_id, id);

-- The first answer to a request sent with an Idempotency-Key, for 24 hours.
CREATE TABLE idempotency_keys (
    agency_id      TEXT NOT NULL REFERENCES agencies (id) ON DELETE CASCADE,
    key            TEXT NOT NULL,
    request_sha256 TEXT NOT NULL,
    response       TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (agency_id, key)
);

-- Delivery reports that came before the send call returned the telco's message id; matched
-- when it does.
CREATE TABLE early_reports (
    telco_id         TEXT NOT NULL,
    telco_message_id TEXT NOT NULL,
    status           TEXT NOT NULL,
    detail           TEXT,
    received_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (telco_id, telco_message_id, status)
);

-- Signed calls to an agency's callback URL, retried until a 2xx or for 24 hours.
CREATE TABLE webhooks (
    id         BIGSERIAL PRIMARY KEY,
    agency_id  TEXT NOT NULL REFERENCES agencies (id) ON DELETE CASCADE,
    message_id TEXT REFERENCES messages (id) ON DELETE CASCADE,
    url        TEXT NOT NULL,
    payload    TEXT NOT NULL,
    -- pending, delivered, abandoned.
    status     TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    due_ms     BIGINT NOT NULL,
    give_up_ms BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhooks_due ON webhooks (due_ms) WHERE status = 'pending';
CREATE INDEX webhooks_message ON webhooks (message_id);

CREATE TABLE webhook_attempts (
    id          BIGSERIAL PRIMARY KEY,
    webhook_id  BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    at          TIMESTAMPTZ NOT NULL,
    http_status INTEGER,
    error       TEXT
);
CREATE INDEX webhook_attempts_webhook ON webhook_attempts (webhook_id, id);
