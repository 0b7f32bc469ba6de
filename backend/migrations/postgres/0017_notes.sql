-- Issue 23: agents' private notes in a conversation. Not messages: no sequence number of the
-- conversation's, never read by the visitor's socket, the widget, the AI or an e-mail to the
-- visitor. A note is shown after the message after_seq (the conversation's last_seq when it was
-- written); pos orders the notes. (conversation_id, author_id, client_note_id) is unique: a
-- retried note is stored once.
CREATE TABLE notes (
    pos              BIGSERIAL PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    author_id        TEXT NOT NULL,
    author_name      TEXT NOT NULL,
    text             TEXT NOT NULL,
    after_seq        BIGINT NOT NULL,
    client_note_id   TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE UNIQUE INDEX notes_client_note ON notes(conversation_id, author_id, client_note_id);
