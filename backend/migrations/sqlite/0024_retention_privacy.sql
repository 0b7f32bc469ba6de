-- Issue 27. Retention: an organization's closed conversations are deleted this many days after
-- their last message (NULL: kept forever, the default). The worker finds them through
-- conversations_org_state (org_id, state, last_activity).
ALTER TABLE organizations ADD COLUMN retention_days INTEGER;

-- A visitor's data exported or erased on request (services::visitor_data): who did it and what,
-- counted, never naming the visitor.
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    text        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX audit_log_org ON audit_log(org_id, created_at);
