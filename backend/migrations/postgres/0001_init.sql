-- Handoff schema (PostgreSQL). Timestamps are milliseconds since the Unix epoch; flags are 0/1.
CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT REFERENCES organizations(id),
    email               TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    password_hash       TEXT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('admin', 'client')),
    perm_conversations  BIGINT NOT NULL DEFAULT 1,
    perm_settings       BIGINT NOT NULL DEFAULT 0,
    perm_users          BIGINT NOT NULL DEFAULT 0,
    created_at          BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE agents (
    id               TEXT PRIMARY KEY,
    org_id           TEXT REFERENCES organizations(id),
    name             TEXT NOT NULL,
    greeting         TEXT NOT NULL,
    knowledge        TEXT NOT NULL DEFAULT '',
    handoff_enabled  BIGINT NOT NULL DEFAULT 1,
    handoff_fixed    BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL
);

CREATE TABLE widgets (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations(id),
    agent_id         TEXT NOT NULL REFERENCES agents(id),
    name             TEXT NOT NULL,
    allowed_origins  TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL
);

CREATE TABLE visitors (
    id          TEXT PRIMARY KEY,
    widget_id   TEXT NOT NULL REFERENCES widgets(id),
    token_hash  TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE conversations (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations(id),
    widget_id      TEXT NOT NULL REFERENCES widgets(id),
    agent_id       TEXT NOT NULL REFERENCES agents(id),
    visitor_id     TEXT NOT NULL REFERENCES visitors(id),
    visitor_name   TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('ai', 'requested', 'human', 'closed')),
    holder_id      TEXT REFERENCES users(id),
    holder_name    TEXT,
    state_version  BIGINT NOT NULL DEFAULT 0,
    state_since    BIGINT NOT NULL,
    last_seq       BIGINT NOT NULL DEFAULT 0,
    last_message   TEXT,
    last_activity  BIGINT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX conversations_org_activity ON conversations(org_id, last_activity);
CREATE INDEX conversations_visitor ON conversations(visitor_id);

CREATE TABLE messages (
    conversation_id  TEXT NOT NULL REFERENCES conversations(id),
    seq              BIGINT NOT NULL,
    sender           TEXT NOT NULL,
    author_kind      TEXT NOT NULL CHECK (author_kind IN ('visitor', 'ai', 'agent', 'system')),
    author_id        TEXT,
    author_name      TEXT,
    body             TEXT NOT NULL,
    client_msg_id    TEXT,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_client_msg ON messages(conversation_id, sender, client_msg_id);

CREATE TABLE control_events (
    id               BIGSERIAL PRIMARY KEY,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id),
    event            TEXT NOT NULL,
    actor_kind       TEXT NOT NULL,
    actor_id         TEXT,
    actor_name       TEXT,
    from_state       TEXT NOT NULL,
    to_state         TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX control_events_conversation ON control_events(conversation_id, id);
