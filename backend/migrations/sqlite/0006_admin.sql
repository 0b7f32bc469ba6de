-- Organizations, users and widgets administration (issue 4).

-- Deactivated users (0) cannot sign in and are not notified; their name stays on past
-- conversations and messages.
ALTER TABLE users ADD COLUMN active INTEGER NOT NULL DEFAULT 1;

CREATE INDEX users_org ON users(org_id);
CREATE INDEX agents_org ON agents(org_id);
CREATE INDEX widgets_org ON widgets(org_id);
CREATE INDEX widgets_agent ON widgets(agent_id);
