-- Issue 22: the visitor context panel. What a conversation's widget told about its visitor: the
-- first referrer, the browser's language, time zone (IANA name and minutes east of UTC) and user
-- agent (one row, updated when they change), and the pages of the customer's site the visitor
-- was on (the newest 50; a page is added when its address differs from the newest one).
CREATE TABLE visitor_context (
    conversation_id  TEXT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    referrer         TEXT NOT NULL DEFAULT '',
    language         TEXT NOT NULL DEFAULT '',
    time_zone        TEXT NOT NULL DEFAULT '',
    utc_offset       BIGINT NOT NULL DEFAULT 0,
    user_agent       TEXT NOT NULL DEFAULT '',
    updated_at       BIGINT NOT NULL
);

CREATE TABLE visitor_pages (
    id               BIGSERIAL PRIMARY KEY,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    url              TEXT NOT NULL,
    title            TEXT NOT NULL,
    at               BIGINT NOT NULL
);
CREATE INDEX visitor_pages_conversation ON visitor_pages(conversation_id, id);
