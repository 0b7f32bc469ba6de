-- Issue 29: when the visitor last wrote, so the dashboard can mark *active* conversations (a
-- visitor chatting now, with the AI or a human) whatever state they are in. Existing rows start
-- at 0: nothing is active until the visitor writes again.
ALTER TABLE conversations ADD COLUMN last_visitor_at BIGINT NOT NULL DEFAULT 0;
