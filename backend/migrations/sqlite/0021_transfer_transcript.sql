-- Issue 23: a transfer notifies the colleague receiving the conversation (kind 'transfer').
-- SQLite cannot change a CHECK constraint: the table is rebuilt with the same rows and indexes.
CREATE TABLE notifications_new (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations(id),
    user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id),
    kind             TEXT NOT NULL CHECK (kind IN ('request', 'message', 'email_form', 'transfer')),
    text             TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    read_at          INTEGER,
    emailed          INTEGER NOT NULL DEFAULT 0,
    pushed           INTEGER NOT NULL DEFAULT 0
);
INSERT INTO notifications_new (id, org_id, user_id, conversation_id, kind, text, created_at, read_at, emailed, pushed)
    SELECT id, org_id, user_id, conversation_id, kind, text, created_at, read_at, emailed, pushed FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_user ON notifications(user_id, created_at);
CREATE UNIQUE INDEX notifications_unread_message ON notifications(user_id, conversation_id)
    WHERE kind = 'message' AND read_at IS NULL;

-- Issue 23: a visitor asks for the transcript of their closed conversation (kind 'transcript',
-- composed when sent; at most one queued or sent per conversation: a failed one may be asked
-- for again). Rebuilt like notifications above.
CREATE TABLE outbox_new (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations(id),
    kind             TEXT NOT NULL CHECK (kind IN ('reply', 'digest', 'push', 'transcript')),
    conversation_id  TEXT REFERENCES conversations(id),
    seq              INTEGER,
    user_id          TEXT REFERENCES users(id) ON DELETE CASCADE,
    to_addr          TEXT NOT NULL,
    reply_to         TEXT NOT NULL DEFAULT '',
    subject          TEXT NOT NULL DEFAULT '',
    body             TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'skipped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    lease_until      INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER
);
INSERT INTO outbox_new SELECT id, org_id, kind, conversation_id, seq, user_id, to_addr, reply_to, subject, body, status,
    attempts, next_attempt_at, lease_until, last_error, created_at, sent_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_message ON outbox(conversation_id, seq);
CREATE UNIQUE INDEX outbox_queued_digest ON outbox(user_id, kind) WHERE kind IN ('digest', 'push') AND status = 'queued';
CREATE UNIQUE INDEX outbox_transcript ON outbox(conversation_id) WHERE kind = 'transcript' AND status IN ('queued', 'sent');
-- An organization's transcripts of the last hour are counted (a cap): by organization and time.
CREATE INDEX outbox_transcript_recent ON outbox(org_id, created_at) WHERE kind = 'transcript';
