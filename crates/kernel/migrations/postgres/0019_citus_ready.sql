-- Ready for Citus (issue 16). Every key of today's schema already
-- includes the tenant; what stopped Citus was the trigger that kept
-- audit_log append-only (Citus does not distribute a table with
-- triggers). On PostgreSQL the guarantee is now a grant: the application
-- serves as a member of the role madoguchi_app, which may only INSERT and
-- SELECT audit_log; migrations run as the role that owns the tables.
-- (SQLite keeps its triggers.)

DROP TRIGGER audit_log_no_change ON audit_log;
DROP FUNCTION audit_log_append_only();

-- Roles belong to the whole PostgreSQL cluster: made once, by the first
-- database migrated (several may migrate at once), or beforehand by an
-- administrator (CREATE ROLE madoguchi_app NOLOGIN) when the migrating
-- role may not create roles.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'madoguchi_app') THEN
        BEGIN
            CREATE ROLE madoguchi_app NOLOGIN;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL;
            WHEN insufficient_privilege THEN
                RAISE EXCEPTION 'ロール madoguchi_app がなく、作成する権限もありません。管理者が CREATE ROLE madoguchi_app NOLOGIN を実行してから、もう一度 madoguchi migrate を実行してください';
        END;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO madoguchi_app', current_schema());
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO madoguchi_app', current_schema());
    EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO madoguchi_app', current_schema());
    -- Tables and sequences of later migrations (made by the same owner).
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO madoguchi_app', current_schema());
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO madoguchi_app', current_schema());
END $$;

-- The audit log is append-only; the record of migrations is the
-- migrator's (the application only reads it at start).
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM madoguchi_app, PUBLIC;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON madoguchi_migrations FROM madoguchi_app, PUBLIC;
