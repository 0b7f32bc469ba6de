-- The "send email" fallback (issue 6) and the durable outbox behind every e-mail Handoff sends
-- (agents' replies to visitors, notification digests to agents; issues 5 and 6).

-- What a message is besides text: 'chat', 'email_offer', 'email_form', 'email_reply';
-- meta holds the kind's JSON details ({"email": …} / {"to": …}).
ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'chat';
ALTER TABLE messages ADD COLUMN meta TEXT;

-- Per organization: how long a request may wait before the visitor is offered the form, and
-- where replies to agents' e-mails go.
ALTER TABLE organizations ADD COLUMN handoff_timeout_secs INTEGER NOT NULL DEFAULT 120;
ALTER TABLE organizations ADD COLUMN reply_to TEXT NOT NULL DEFAULT '';

-- The state_version of the request the form was offered for (-1: never), so each request is
-- offered once, by whichever server process sees it first.
ALTER TABLE conversations ADD COLUMN offer_version INTEGER NOT NULL DEFAULT -1;

-- Presence: an agent's open dashboard refreshes this every few seconds.
ALTER TABLE users ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;

-- Notifications already included in an e-mail digest.
ALTER TABLE notifications ADD COLUMN emailed INTEGER NOT NULL DEFAULT 0;

-- Files attached to an e-mail form, stored in the database (shared by every server process,
-- written in the same transaction as their message, never under the web root).
CREATE TABLE attachments (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations(id),
    conversation_id  TEXT NOT NULL REFERENCES conversations(id),
    seq              INTEGER NOT NULL,
    position         INTEGER NOT NULL,
    visitor_id       TEXT NOT NULL REFERENCES visitors(id),
    file_name        TEXT NOT NULL,
    content_type     TEXT NOT NULL,
    size             INTEGER NOT NULL,
    sha256           TEXT NOT NULL,
    data             BLOB NOT NULL,
    created_at       INTEGER NOT NULL
);
CREATE INDEX attachments_message ON attachments(conversation_id, seq);

-- Outgoing e-mail. A worker on every server process claims due rows (a lease, so two processes
-- never send the same row at once), sends through SMTP, and retries with backoff.
-- kind 'reply': an agent's answer to a visitor (conversation_id/seq name its message);
-- kind 'digest' (e-mail) and 'push' (browser push): a user's unread notifications, composed when
-- sent (one queued row per user and kind).
CREATE TABLE outbox (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations(id),
    kind             TEXT NOT NULL CHECK (kind IN ('reply', 'digest', 'push')),
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
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_message ON outbox(conversation_id, seq);
CREATE UNIQUE INDEX outbox_queued_digest ON outbox(user_id, kind) WHERE kind IN ('digest', 'push') AND status = 'queued';
