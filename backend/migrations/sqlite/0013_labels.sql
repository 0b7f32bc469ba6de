-- Issue 22: an organization's conversation labels. `name_key` is the name in lower case (names
-- are unique per organization ignoring case). A conversation's labels are the rows of
-- `conversation_labels`; `conversations.labels` repeats their ids (sorted, comma-separated) for
-- the list's summaries, written in the same transaction; `labels_version` grows with each change
-- (a summary's version) and `labels_at` stamps it (a reconnecting dashboard's catch-up).
CREATE TABLE labels (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    color       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (org_id, name_key)
);

CREATE TABLE conversation_labels (
    conversation_id  TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    label_id         TEXT NOT NULL REFERENCES labels(id) ON DELETE CASCADE,
    added_at         INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, label_id)
);
CREATE INDEX conversation_labels_label ON conversation_labels(label_id, conversation_id);

ALTER TABLE conversations ADD COLUMN labels TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN labels_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN labels_at INTEGER NOT NULL DEFAULT 0;
-- A lagging dashboard's catch-up reads label changes by these (and activity by 0011's).
CREATE INDEX conversations_org_labels_at ON conversations(org_id, labels_at);
CREATE INDEX conversations_agent_labels_at ON conversations(agent_id, labels_at);
