-- Issue 23: how far each side has read its conversation (the newest seq it saw), per side.
ALTER TABLE conversations ADD COLUMN visitor_seen_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN human_seen_seq INTEGER NOT NULL DEFAULT 0;
