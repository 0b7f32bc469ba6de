-- Issue 22: full-text search over message text, and the e-mail address a visitor left in the
-- e-mail form (the message's meta). An FTS5 table holding each message's words with its
-- conversation and seq; triggers keep it in step with `messages` in the writing transaction.
CREATE VIRTUAL TABLE message_search USING fts5(
    text,
    conversation_id UNINDEXED,
    seq UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO message_search (text, conversation_id, seq)
SELECT body || ' ' || COALESCE(CASE WHEN json_valid(meta) THEN json_extract(meta, '$.email') END, ''), conversation_id, seq
FROM messages;

CREATE TRIGGER message_search_insert AFTER INSERT ON messages BEGIN
    INSERT INTO message_search (text, conversation_id, seq)
    VALUES (NEW.body || ' ' || COALESCE(CASE WHEN json_valid(NEW.meta) THEN json_extract(NEW.meta, '$.email') END, ''),
            NEW.conversation_id, NEW.seq);
END;

CREATE TRIGGER message_search_update AFTER UPDATE OF body, meta ON messages BEGIN
    UPDATE message_search
    SET text = NEW.body || ' ' || COALESCE(CASE WHEN json_valid(NEW.meta) THEN json_extract(NEW.meta, '$.email') END, '')
    WHERE conversation_id = OLD.conversation_id AND seq = OLD.seq;
END;

CREATE TRIGGER message_search_delete AFTER DELETE ON messages BEGIN
    DELETE FROM message_search WHERE conversation_id = OLD.conversation_id AND seq = OLD.seq;
END;
