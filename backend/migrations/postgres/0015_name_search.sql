-- Issue 22: visitor names found by their words (or a word's beginning) through a full-text
-- index instead of a scan of the organization's conversations (100,000 conversations: see
-- BENCHMARKS.md, "The inbox at scale"). A generated column: written by the statement that
-- writes the row.
ALTER TABLE conversations ADD COLUMN name_search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', visitor_name)) STORED;
CREATE INDEX conversations_name_search ON conversations USING GIN (name_search);
