-- Issue 22: visitor names found by their words (or a word's beginning) through a full-text
-- index instead of a scan of the organization's conversations (100,000 conversations: see
-- BENCHMARKS.md, "The inbox at scale"). One row per conversation, under the conversation's
-- rowid; triggers keep it in step in the writing transaction.
CREATE VIRTUAL TABLE conversation_name_search USING fts5(
    name,
    tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO conversation_name_search (rowid, name) SELECT rowid, visitor_name FROM conversations;

CREATE TRIGGER conversation_name_search_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO conversation_name_search (rowid, name) VALUES (NEW.rowid, NEW.visitor_name);
END;

CREATE TRIGGER conversation_name_search_update AFTER UPDATE OF visitor_name ON conversations BEGIN
    UPDATE conversation_name_search SET name = NEW.visitor_name WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER conversation_name_search_delete AFTER DELETE ON conversations BEGIN
    DELETE FROM conversation_name_search WHERE rowid = OLD.rowid;
END;
