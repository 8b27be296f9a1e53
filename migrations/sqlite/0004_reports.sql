-- Reports per agency (`mgov report`). A finished dialogue records the agency of its service,
-- the state it ended in and the states of its service it reached, so that a report can say
-- where citizens stop without replaying anything. Rows written before this migration have
-- them NULL and are reported as "not recorded". The same change as
-- migrations/postgres/0004_reports.sql, for the embedded default.
ALTER TABLE ussd_sessions ADD COLUMN agency_id TEXT;
-- The state of the dialogue's service it was in when it ended; NULL when it ended outside
-- that service (on the root menu, or in another service it moved on to).
ALTER TABLE ussd_sessions ADD COLUMN last_state TEXT;
-- A JSON array of the service's states the dialogue reached, in the order first reached.
ALTER TABLE ussd_sessions ADD COLUMN states TEXT;
CREATE INDEX ussd_sessions_agency_started ON ussd_sessions (agency_id, started_at);
