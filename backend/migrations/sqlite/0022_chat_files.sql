-- Issue 23, files in the chat: an organization's uploads of the last hour are summed for its
-- hourly budget (`store::messages::check_upload_budget`), by organization and time.
CREATE INDEX attachments_org_recent ON attachments(org_id, created_at);
