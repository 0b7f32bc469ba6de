-- The dashboard's bell (issue 5): one row per user and event, and each user's preferences.
-- A visitor's messages to one conversation collapse into one unread row per user (batching).
CREATE TABLE notifications (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations(id),
    user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id),
    kind             TEXT NOT NULL CHECK (kind IN ('request', 'message', 'email_form')),
    text             TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    read_at          INTEGER
);
CREATE INDEX notifications_user ON notifications(user_id, created_at);
-- At most one unread "message" notification per user and conversation (the batching rule).
CREATE UNIQUE INDEX notifications_unread_message ON notifications(user_id, conversation_id)
    WHERE kind = 'message' AND read_at IS NULL;

CREATE TABLE notification_prefs (
    user_id    TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    via_email  INTEGER NOT NULL DEFAULT 0,
    via_push   INTEGER NOT NULL DEFAULT 0,
    events     TEXT NOT NULL DEFAULT 'requests' CHECK (events IN ('all', 'requests'))
);
