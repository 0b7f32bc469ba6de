-- Issue 22: the dashboard's filters list one state's conversations page by page, newest
-- activity first, and count each state's conversations (organization, or AI agent for an
-- admin's tab).
CREATE INDEX conversations_org_state ON conversations(org_id, state, last_activity);
CREATE INDEX conversations_agent_state ON conversations(agent_id, state, last_activity);
