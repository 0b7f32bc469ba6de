-- Issue #20: failed sign-ins counted in the database (shared by every process), one row per
-- key (the SHA-256 of an account's e-mail or of a client network) and fixed window; indexes for
-- the purge worker (expired sessions, old visitor tokens).
CREATE TABLE sign_in_attempts (
    limit_key     TEXT PRIMARY KEY,
    window_start  BIGINT NOT NULL,
    attempts      BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions(expires_at);
CREATE INDEX visitors_created ON visitors(created_at);
