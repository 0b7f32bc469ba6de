-- Issue 29: a platform admin's conversations tab per AI agent lists that agent's conversations,
-- most recently active first, across organizations.
CREATE INDEX conversations_agent_activity ON conversations(agent_id, last_activity);
