-- Issue 23: agents see what a visitor types before sending it only where the organization allows it.
ALTER TABLE organizations ADD COLUMN typing_preview BIGINT NOT NULL DEFAULT 0;
