-- Browser push (issue 5): the server's VAPID key, browsers' subscriptions, and which
-- notifications were already pushed. Pushes travel through the outbox (kind 'push').

-- Keys the server generates once and every process shares (name 'vapid': the VAPID private
-- key, base64url).
CREATE TABLE server_keys (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- One row per browser profile that subscribed (the endpoint identifies it).
CREATE TABLE push_subscriptions (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    endpoint    TEXT NOT NULL UNIQUE,
    p256dh      TEXT NOT NULL,
    auth        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX push_subscriptions_user ON push_subscriptions(user_id);

ALTER TABLE notifications ADD COLUMN pushed BIGINT NOT NULL DEFAULT 0;
