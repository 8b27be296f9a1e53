-- Subscriptions: the topics agencies offer (flood alerts, water cuts), the numbers
-- subscribed to each (by SMS with JIUNGE <topic>, or from a USSD menu), the numbers that
-- sent STOP, and the broadcasts sent to a topic's subscribers. migrations/postgres/0008
-- makes the same change on Postgres.

CREATE TABLE sms_topics (
    id           TEXT PRIMARY KEY,
    agency_id    TEXT NOT NULL REFERENCES agencies (id) ON DELETE CASCADE,
    -- Normalised, one word: what citizens text after JIUNGE (MAFURIKO).
    name         TEXT NOT NULL UNIQUE,
    -- JSON: a short description per language.
    descriptions TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX sms_topics_agency ON sms_topics (agency_id);

CREATE TABLE subscriptions (
    topic_id      TEXT NOT NULL REFERENCES sms_topics (id) ON DELETE CASCADE,
    -- E.164 digits.
    msisdn        TEXT NOT NULL,
    -- The language the citizen subscribed in: their broadcasts come in it.
    language      TEXT NOT NULL,
    -- sms, ussd.
    channel       TEXT NOT NULL,
    subscribed_at TEXT NOT NULL,
    PRIMARY KEY (topic_id, msisdn)
);
CREATE INDEX subscriptions_msisdn ON subscriptions (msisdn);

-- Numbers that sent STOP: no broadcast and no unsolicited message reaches them until they
-- subscribe again. STOP <topic> only removes that subscription.
CREATE TABLE opt_outs (
    msisdn TEXT PRIMARY KEY,
    at     TEXT NOT NULL
);

CREATE TABLE broadcasts (
    id              TEXT PRIMARY KEY,
    agency_id       TEXT NOT NULL REFERENCES agencies (id) ON DELETE CASCADE,
    topic_id        TEXT NOT NULL REFERENCES sms_topics (id) ON DELETE CASCADE,
    -- JSON: the text per language.
    texts           TEXT NOT NULL,
    sender_id       TEXT,
    -- queued (subscribers still being turned into messages), sending, cancelled.
    status          TEXT NOT NULL,
    -- Subscribers are queued in order of number; the last one queued.
    cursor_msisdn   TEXT NOT NULL DEFAULT '',
    queued          INTEGER NOT NULL DEFAULT 0,
    estimated_parts BIGINT NOT NULL,
    expires_ms      BIGINT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX broadcasts_agency ON broadcasts (agency_id, id);
CREATE INDEX broadcasts_to_queue ON broadcasts (id) WHERE status = 'queued';

-- Why a message is sent: direct (an agency's own send), reply (to a citizen's message),
-- broadcast, notification, result (of a citizen's USSD request). STOP holds back direct
-- and broadcast messages; the others answer something the citizen did.
ALTER TABLE messages ADD COLUMN purpose TEXT NOT NULL DEFAULT 'direct';
ALTER TABLE messages ADD COLUMN broadcast_id TEXT;
ALTER TABLE messages ADD COLUMN topic_id TEXT;
CREATE INDEX messages_broadcast ON messages (broadcast_id) WHERE broadcast_id IS NOT NULL;
