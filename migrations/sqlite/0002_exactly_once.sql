-- Exactly once; the same change as migrations/postgres/0002_exactly_once.sql. SQLite cannot
-- drop a NOT NULL, so the transactions table is rebuilt.
CREATE TABLE transactions_new (
    id           TEXT PRIMARY KEY,          -- the request id `tx_...`, also the idempotency key
    agency_id    TEXT NOT NULL,
    service_id   TEXT,
    action       TEXT NOT NULL,
    session_key  TEXT,
    msisdn       TEXT NOT NULL,             -- full number: needed to follow up by SMS
    -- pending, ok, not_found, rejected, failed, timeout
    outcome      TEXT NOT NULL,
    latency_ms   BIGINT NOT NULL,
    attempts     INTEGER NOT NULL,
    amount       TEXT,                      -- "45000.00"
    currency     TEXT,
    reference    TEXT,                      -- control number, booking ref, case id...
    error        TEXT,
    created_at   TEXT NOT NULL,
    completed_at TEXT,                      -- NULL while pending
    language     TEXT,
    params       TEXT,                      -- a JSON object of strings
    late         BOOLEAN NOT NULL DEFAULT 0, -- answered after the citizen was answered
    reconcile_at TEXT                       -- when a pending row is next due for the reconciler
);
INSERT INTO transactions_new (id, agency_id, service_id, action, session_key, msisdn, outcome,
                              latency_ms, attempts, amount, currency, reference, error,
                              created_at, completed_at)
SELECT id, agency_id, service_id, action, session_key, msisdn, outcome, latency_ms, attempts,
       amount, currency, reference, error, created_at, completed_at
  FROM transactions;
DROP TABLE transactions;
ALTER TABLE transactions_new RENAME TO transactions;
CREATE INDEX transactions_agency_created ON transactions (agency_id, created_at);
CREATE INDEX transactions_outcome ON transactions (outcome);
CREATE INDEX transactions_pending ON transactions (reconcile_at) WHERE outcome = 'pending';

DELETE FROM ussd_sessions
 WHERE id NOT IN (SELECT MIN(id) FROM ussd_sessions GROUP BY session_key, started_at);
CREATE UNIQUE INDEX ussd_sessions_key ON ussd_sessions (session_key, started_at);
