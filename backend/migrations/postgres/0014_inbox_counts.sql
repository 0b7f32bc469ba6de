-- Issue 22: the filters' counts (`GROUP BY state, holder_id` over an organization's, or an AI
-- agent's, conversations) read from an index that holds both, without visiting the table
-- (100,000 conversations: see BENCHMARKS.md, "The inbox at scale").
CREATE INDEX conversations_org_state_holder ON conversations(org_id, state, holder_id);
CREATE INDEX conversations_agent_state_holder ON conversations(agent_id, state, holder_id);
-- Search reads a common word's newest hits from the newest messages first (by this index)
-- instead of sorting every match (`backend::services::inbox::search_conversations`).
CREATE INDEX messages_created ON messages(created_at, seq);
