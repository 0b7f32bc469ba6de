-- AI responder settings per agent and the knowledge base (issue 7). Empty texts mean "use the
-- built-in default". The temperature is stored in hundredths (30 = 0.3). The API key column is
-- write-only from the dashboard's point of view: it is never sent back to a browser.
ALTER TABLE agents ADD COLUMN fallback_text TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN handoff_text TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN ai_backend TEXT NOT NULL DEFAULT 'embedded';
ALTER TABLE agents ADD COLUMN llm_base_url TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN llm_model TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN llm_api_key_env TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN llm_api_key TEXT;
ALTER TABLE agents ADD COLUMN llm_system_prompt TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN llm_temperature_pct BIGINT NOT NULL DEFAULT 30;
ALTER TABLE agents ADD COLUMN llm_max_tokens BIGINT NOT NULL DEFAULT 400;

CREATE TABLE knowledge_entries (
    id          TEXT PRIMARY KEY,
    agent_id    TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('qa', 'article')),
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX knowledge_entries_agent ON knowledge_entries(agent_id, created_at);
