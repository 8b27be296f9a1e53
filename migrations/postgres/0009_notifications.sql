-- Notifications from agencies' back offices: the templates each agency registers (its own
-- ids, a text per language), and every notification sent, so that one repeated with the
-- same reference (a payment callback delivered twice) finds the first answer and sends
-- nothing new.

CREATE TABLE notification_templates (
    agency_id  TEXT NOT NULL REFERENCES agencies (id) ON DELETE CASCADE,
    -- The agency's own name for it (payment_receipt): unique per agency only.
    id         TEXT NOT NULL,
    -- The template as the agency described it (JSON): variables, texts, default language.
    definition TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (agency_id, id)
);

CREATE TABLE notifications (
    -- The message it queued.
    message_id     TEXT PRIMARY KEY,
    agency_id      TEXT NOT NULL REFERENCES agencies (id) ON DELETE CASCADE,
    -- The agency's id of the event (a receipt number): one notification each, for ever.
    reference      TEXT,
    template_id    TEXT NOT NULL,
    language       TEXT NOT NULL,
    -- What was asked (normalised) and answered, for a repeat of the same reference.
    request_sha256 TEXT NOT NULL,
    response       TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (agency_id, reference)
);
