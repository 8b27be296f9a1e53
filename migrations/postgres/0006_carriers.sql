-- The telco that last carried each number's USSD dialogue (and, later, its SMS in). An SMS
-- to that number goes out through it before any prefix is consulted: numbers move between
-- operators, prefixes only guess.
CREATE TABLE carriers (
    msisdn   TEXT PRIMARY KEY,
    telco_id TEXT NOT NULL,
    seen_ms  BIGINT NOT NULL
);
