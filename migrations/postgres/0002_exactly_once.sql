-- Exactly once. A back-office call is committed as `pending` before it is made, with what is
-- needed to ask it again (its params and language); its answer updates the same row. A
-- reconciler asks again, with the same request id, for pending rows whose answer never came.
-- migrations/sqlite/0002_exactly_once.sql makes the same change for the embedded default.
ALTER TABLE transactions ALTER COLUMN completed_at DROP NOT NULL;
ALTER TABLE transactions ADD COLUMN language TEXT;
-- A JSON object of strings: the action's params.
ALTER TABLE transactions ADD COLUMN params TEXT;
-- The answer came after the citizen had been answered: they did not see it on screen.
ALTER TABLE transactions ADD COLUMN late BOOLEAN NOT NULL DEFAULT false;
-- When a pending row is next due for the reconciler.
ALTER TABLE transactions ADD COLUMN reconcile_at TIMESTAMPTZ;
CREATE INDEX transactions_pending ON transactions (reconcile_at) WHERE outcome = 'pending';

-- A dialogue's end is recorded once, even when its record is written again (a retried batch);
-- a telco may reuse a session id for a later dialogue, which starts at another time.
DELETE FROM ussd_sessions a USING ussd_sessions b
 WHERE a.session_key = b.session_key AND a.started_at = b.started_at AND a.id > b.id;
CREATE UNIQUE INDEX ussd_sessions_key ON ussd_sessions (session_key, started_at);
