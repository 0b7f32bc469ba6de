-- Issue 23: a transfer notifies the colleague receiving the conversation (kind 'transfer').
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
    CHECK (kind IN ('request', 'message', 'email_form', 'transfer'));

-- Issue 23: a visitor asks for the transcript of their closed conversation (kind 'transcript',
-- composed when sent; at most one queued or sent per conversation: a failed one may be asked
-- for again).
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('reply', 'digest', 'push', 'transcript'));
CREATE UNIQUE INDEX outbox_transcript ON outbox(conversation_id) WHERE kind = 'transcript' AND status IN ('queued', 'sent');
-- An organization's transcripts of the last hour are counted (a cap): by organization and time.
CREATE INDEX outbox_transcript_recent ON outbox(org_id, created_at) WHERE kind = 'transcript';
