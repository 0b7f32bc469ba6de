-- Issue 23: an organization's canned responses (title, shortcut, text with placeholders),
-- inserted by agents in the composer with /shortcut. A shortcut is unique per organization.
CREATE TABLE canned_responses (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    title       TEXT NOT NULL,
    shortcut    TEXT NOT NULL,
    text        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX canned_responses_shortcut ON canned_responses(org_id, shortcut);
