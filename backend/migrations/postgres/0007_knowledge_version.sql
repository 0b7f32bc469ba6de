-- Issue 20: a version of each agent's knowledge base, bumped by every edit, so that each server
-- process rebuilds its search index only when the knowledge changed.
ALTER TABLE agents ADD COLUMN knowledge_version BIGINT NOT NULL DEFAULT 0;
