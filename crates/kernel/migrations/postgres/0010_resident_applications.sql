-- A signed-in resident's own applications (申請の一覧), newest first.
CREATE INDEX applications_resident ON applications (tenant, resident_subject, submitted_at);
