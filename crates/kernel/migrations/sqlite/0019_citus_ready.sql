-- Ready for Citus (issue 16): on PostgreSQL this migration replaces the
-- trigger that keeps audit_log append-only with grants (Citus does not
-- distribute a table with triggers). Every key of the schema already
-- includes the tenant, so SQLite's tables need no rebuild, and SQLite
-- keeps its triggers (one process, no roles): nothing changes here.
SELECT 1;
