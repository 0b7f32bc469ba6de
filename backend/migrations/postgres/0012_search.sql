-- Issue 22: full-text search over message text, and the e-mail address a visitor left in the
-- e-mail form (the message's meta, JSON text: the parser reads the address as one word). A
-- generated column is computed by the statement that writes the row, so the index is always in
-- step with the messages.
ALTER TABLE messages ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', body || ' ' || COALESCE(meta, ''))) STORED;
CREATE INDEX messages_search ON messages USING GIN (search);
