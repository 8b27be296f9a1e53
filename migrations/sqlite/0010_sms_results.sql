-- The same change as migrations/postgres/0010_sms_results.sql, for the embedded default
-- (timestamps as RFC 3339 text).

-- Results that follow by SMS. A back-office call whose menu lets its result follow by SMS
-- keeps, next to its intent, what rendering that result needs later (the menu version, the
-- action state, the citizen's language and the variables its screens read), as JSON: the
-- node that made the call may stop before the answer comes.
CREATE TABLE follow_ups (
    transaction_id TEXT PRIMARY KEY,
    context        TEXT NOT NULL,
    created_at     TEXT NOT NULL
);

-- One SMS per result: its key (a transaction id, or a dialogue's step that reached an end
-- screen sent by SMS) is claimed in the same database transaction that queues the message,
-- so a second attempt (a retried hop, the reconciler, another node) queues nothing.
CREATE TABLE sms_results (
    key        TEXT PRIMARY KEY,
    message_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
