-- Incoming SMS: the keyword services agencies register on the gateway's shortcodes, and
-- every message citizens send there, stored before the telco is answered, with what was
-- done with it.

CREATE TABLE sms_services (
    id         TEXT PRIMARY KEY,
    agency_id  TEXT NOT NULL REFERENCES agencies (id) ON DELETE CASCADE,
    shortcode  TEXT NOT NULL,
    -- Normalised: upper case, no accents (MAJI, NEC HAKIKI).
    keyword    TEXT NOT NULL,
    -- The service as the agency described it (JSON): aliases, descriptions, what it does.
    definition TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sms_services_agency ON sms_services (agency_id);

-- Every word that reaches a service (its keyword and aliases): one service per word and
-- shortcode, whichever agency or node registers it.
CREATE TABLE sms_keywords (
    shortcode  TEXT NOT NULL,
    word       TEXT NOT NULL,
    service_id TEXT NOT NULL REFERENCES sms_services (id) ON DELETE CASCADE,
    PRIMARY KEY (shortcode, word)
);

CREATE TABLE inbound_messages (
    id               TEXT PRIMARY KEY,
    telco_id         TEXT NOT NULL,
    -- The telco's id: a second delivery of it is the same message.
    telco_message_id TEXT NOT NULL,
    -- E.164 digits when the sender is a phone number, else as the telco sent it.
    sender           TEXT NOT NULL,
    sender_is_number BOOLEAN NOT NULL,
    shortcode        TEXT NOT NULL,
    text             TEXT NOT NULL,
    link_id          TEXT,
    -- received (to be routed), routing (claimed until due_ms), done.
    status           TEXT NOT NULL,
    due_ms           BIGINT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    -- What it reached and what was done: forwarded, help, ignored (detail says why).
    keyword          TEXT,
    service_id       TEXT,
    agency_id        TEXT,
    outcome          TEXT,
    detail           TEXT,
    -- The gateway's own reply (help), when it sent one.
    reply_id         TEXT,
    received_at      TIMESTAMPTZ NOT NULL,
    handled_at       TIMESTAMPTZ,
    UNIQUE (telco_id, telco_message_id)
);
CREATE INDEX inbound_due ON inbound_messages (due_ms) WHERE status IN ('received', 'routing');
CREATE INDEX inbound_agency ON inbound_messages (agency_id, id);

-- A forwarded message's webhook names it; replies name the message they answer.
ALTER TABLE webhooks ADD COLUMN inbound_id TEXT REFERENCES inbound_messages (id) ON DELETE CASCADE;
ALTER TABLE messages ADD COLUMN in_reply_to TEXT;

-- The gateway's own messages (help replies) are sent as this agency, which has no back
-- office of its own.
INSERT INTO agencies (id, name, backoffice_url, signing_secret, created_at)
VALUES ('mgov', 'mGov gateway', '', '', now())
ON CONFLICT (id) DO NOTHING;
