-- Waiting requests, read by the e-mail offer worker every second and by each /metrics scrape
-- (every organization at once: the other indexes on state start with org_id or agent_id).
CREATE INDEX conversations_requested ON conversations(state_since) WHERE state = 'requested';
