//! Ready for Citus (issue 16): the migrated schema, read from PostgreSQL's
//! catalogue (not from the SQL text), follows the rules that let Citus
//! distribute it by municipality; `madoguchi migrate --citus` distributes
//! every table once, in an order Citus accepts; the application's role may
//! only INSERT and SELECT the audit log; and no SQL of the code joins two
//! tables without the same tenant.
//!
//! When `MADOGUCHI_TEST_CITUS_URL` is set, these tests (and the
//! PostgreSQL variant of every HTTP test) run on a Citus coordinator, and
//! the first also checks what Citus recorded for each table.

use std::collections::BTreeMap;

use kernel::schema::{placement, Placement};
use sqlx::Row;
use testkit::TestDatabase;

/// What the rules need to know of the schema, from `pg_catalog`.
#[derive(Default)]
struct Catalogue {
    tables: Vec<String>,
    /// table → its columns in order: (name, type, not null).
    columns: BTreeMap<String, Vec<(String, String, bool)>>,
    /// (table, index, its columns) of every unique index (primary keys too).
    uniques: Vec<(String, String, Vec<String>)>,
    foreign_keys: Vec<ForeignKey>,
    /// (table, trigger) of every trigger that is not a constraint's own.
    triggers: Vec<(String, String)>,
}

struct ForeignKey {
    name: String,
    table: String,
    columns: Vec<String>,
    references: String,
    referenced: Vec<String>,
}

fn list(text: String) -> Vec<String> {
    text.split(',').map(str::to_string).collect()
}

/// Rows of five text columns.
async fn rows(
    conn: &mut sqlx::AnyConnection,
    sql: String,
) -> Vec<(String, String, String, String, String)> {
    sqlx::query_as(&sql).fetch_all(conn).await.unwrap()
}

async fn read_catalogue(conn: &mut sqlx::AnyConnection) -> Catalogue {
    const HERE: &str = "current_schema()::regnamespace";
    let mut c = Catalogue::default();
    for (table, column, ty, not_null, _) in rows(conn, format!(
        "SELECT t.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod),
                CASE WHEN a.attnotnull THEN 'y' ELSE 'n' END, ''
         FROM pg_attribute a JOIN pg_class t ON t.oid = a.attrelid
         WHERE t.relnamespace = {HERE} AND t.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY t.relname, a.attnum"
    ))
    .await
    {
        if !c.tables.contains(&table) {
            c.tables.push(table.clone());
        }
        c.columns
            .entry(table)
            .or_default()
            .push((column, ty, not_null == "y"));
    }
    for (table, index, columns, _, _) in rows(
        conn,
        format!(
        "SELECT t.relname::text, i.relname::text,
                COALESCE((SELECT string_agg(a.attname::text, ',' ORDER BY k.n)
                          FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
                          JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum), ''),
                '', ''
         FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
         WHERE x.indisunique AND t.relnamespace = {HERE}
         ORDER BY 1, 2"
    ))
    .await
    {
        c.uniques.push((table, index, list(columns)));
    }
    let cols = |side: &str, rel: &str| {
        format!(
            "(SELECT string_agg(a.attname::text, ',' ORDER BY k.n)
              FROM unnest(f.{side}) WITH ORDINALITY AS k(attnum, n)
              JOIN pg_attribute a ON a.attrelid = f.{rel} AND a.attnum = k.attnum)"
        )
    };
    for (name, table, columns, references, referenced) in rows(
        conn,
        format!(
        "SELECT f.conname::text, t.relname::text, {}, r.relname::text, {}
         FROM pg_constraint f JOIN pg_class t ON t.oid = f.conrelid JOIN pg_class r ON r.oid = f.confrelid
         WHERE f.contype = 'f' AND t.relnamespace = {HERE}
         ORDER BY 2, 1",
        cols("conkey", "conrelid"),
        cols("confkey", "confrelid")
    ))
    .await
    {
        c.foreign_keys.push(ForeignKey {
            name,
            table,
            columns: list(columns),
            references,
            referenced: list(referenced),
        });
    }
    for (table, trigger, _, _, _) in rows(
        conn,
        format!(
            "SELECT t.relname::text, g.tgname::text, '', '', ''
         FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid
         WHERE NOT g.tgisinternal AND t.relnamespace = {HERE}
         ORDER BY 1, 2"
        ),
    )
    .await
    {
        c.triggers.push((table, trigger));
    }
    c
}

/// Every way a table of `c` breaks the rules, given where each table lives.
fn violations(c: &Catalogue, place: &dyn Fn(&str) -> Option<Placement>) -> Vec<String> {
    let mut out = Vec::new();
    for t in &c.tables {
        let columns = &c.columns[t];
        match place(t) {
            None => out.push(format!(
                "{t}: not classified (kernel::schema::TABLES: distributed, reference or coordinator-local)"
            )),
            Some(Placement::Distributed) => {
                let first = &columns[0];
                if first != &("tenant".to_string(), "text".to_string(), true) {
                    out.push(format!(
                        "{t}: a distributed table's first column is `tenant TEXT NOT NULL`, not {first:?}"
                    ));
                }
            }
            Some(Placement::Reference) => {
                if columns.iter().any(|(n, _, _)| n == "tenant") {
                    out.push(format!(
                        "{t}: a reference table holds no tenant's rows, but has a tenant column"
                    ));
                }
            }
            Some(Placement::CoordinatorLocal { reason }) => {
                if reason.trim().is_empty() {
                    out.push(format!("{t}: coordinator-local without a reason"));
                }
            }
        }
    }
    let distributed = |t: &str| place(t) == Some(Placement::Distributed);
    for (t, index, columns) in &c.uniques {
        if distributed(t) && !columns.iter().any(|c| c == "tenant") {
            out.push(format!(
                "{t}: unique index {index} ({}) does not include tenant",
                columns.join(", ")
            ));
        }
    }
    for (t, trigger) in &c.triggers {
        if distributed(t) {
            out.push(format!(
                "{t}: trigger {trigger} (Citus does not distribute a table with triggers)"
            ));
        }
    }
    for f in &c.foreign_keys {
        let what = format!(
            "{}: foreign key {} ({}) → {} ({})",
            f.table,
            f.name,
            f.columns.join(", "),
            f.references,
            f.referenced.join(", ")
        );
        let to = place(&f.references);
        match place(&f.table) {
            Some(Placement::Distributed) => match to {
                Some(Placement::Reference) => {}
                Some(Placement::Distributed) => {
                    let paired = f
                        .columns
                        .iter()
                        .zip(&f.referenced)
                        .any(|(a, b)| a == "tenant" && b == "tenant");
                    if !paired {
                        out.push(format!("{what} does not pair tenant with tenant"));
                    }
                }
                _ => out.push(format!(
                    "{what}: a distributed table may reference only distributed or reference tables"
                )),
            },
            Some(Placement::Reference) if to != Some(Placement::Reference) => out.push(format!(
                "{what}: a reference table may reference only reference tables"
            )),
            Some(Placement::CoordinatorLocal { .. })
                if !matches!(to, Some(Placement::CoordinatorLocal { .. })) =>
            {
                out.push(format!(
                    "{what}: a coordinator-local table may reference only coordinator-local tables"
                ))
            }
            _ => {}
        }
    }
    out
}

async fn connect(url: &str) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    <sqlx::AnyConnection as sqlx::Connection>::connect(url)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_migrated_schema_is_ready_for_citus() {
    let Some(d) = TestDatabase::create().await else {
        return;
    };
    let mut conn = connect(&d.owner_url).await;
    let c = read_catalogue(&mut conn).await;
    assert!(c.tables.len() >= 41, "{:?}", c.tables);
    let found = violations(&c, &placement);
    assert!(
        found.is_empty(),
        "tables that Citus would not distribute:\n{}",
        found.join("\n")
    );
    let missing: Vec<&str> = kernel::schema::TABLES
        .iter()
        .map(|t| t.name)
        .filter(|n| !c.tables.iter().any(|t| t == n))
        .collect();
    assert!(
        missing.is_empty(),
        "classified in kernel::schema but not in the schema: {missing:?}"
    );
    // The one trigger today's schema had (audit_log's) is gone on
    // PostgreSQL; its guarantee is the grants (see below).
    assert!(c.triggers.is_empty(), "{:?}", c.triggers);
    if testkit::citus_admin_url().is_some() {
        // What Citus recorded: every distributed table hash-distributed by
        // tenant in one co-location group, every reference table as one,
        // and the coordinator-local tables left alone.
        let recorded: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT logicalrelid::regclass::text, partmethod::text, colocationid::text FROM pg_dist_partition",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let group = |t: &str| recorded.iter().find(|r| r.0 == t).cloned();
        let anchor = group(kernel::schema::ANCHOR).expect("tenants is distributed");
        for t in &c.tables {
            match placement(t).unwrap() {
                Placement::Distributed => {
                    let r = group(t).unwrap_or_else(|| panic!("{t} is not distributed"));
                    assert_eq!((r.1.as_str(), &r.2), ("h", &anchor.2), "{t}");
                }
                Placement::Reference => {
                    assert_eq!(group(t).map(|r| r.1), Some("n".to_string()), "{t}")
                }
                Placement::CoordinatorLocal { .. } => assert_eq!(group(t), None, "{t}"),
            }
        }
    }
    drop(conn);
    d.drop().await;
}

/// The rules fail on each kind of table Citus would refuse: the test
/// above cannot pass by reading nothing.
#[tokio::test]
async fn each_broken_rule_is_named() {
    let Some(d) = TestDatabase::create().await else {
        return;
    };
    let mut conn = connect(&d.owner_url).await;
    sqlx::raw_sql(
        "CREATE TABLE scratch_parent (tenant TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (tenant, id), UNIQUE (id));
         CREATE TABLE scratch_child (tenant TEXT NOT NULL, id TEXT NOT NULL, parent TEXT REFERENCES scratch_parent (id), PRIMARY KEY (id));
         CREATE TABLE scratch_late (id TEXT NOT NULL, tenant TEXT NOT NULL, PRIMARY KEY (tenant, id));
         CREATE TABLE scratch_global (tenant TEXT NOT NULL, name TEXT PRIMARY KEY);
         CREATE TABLE scratch_stray (tenant TEXT NOT NULL);
         CREATE FUNCTION scratch_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no'; END; $$;
         CREATE TRIGGER scratch_no_change BEFORE UPDATE ON scratch_parent FOR EACH ROW EXECUTE FUNCTION scratch_refuse();",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let c = read_catalogue(&mut conn).await;
    let place = |t: &str| match t {
        "scratch_parent" | "scratch_child" | "scratch_late" => Some(Placement::Distributed),
        "scratch_global" => Some(Placement::Reference),
        _ => placement(t),
    };
    let found = violations(&c, &place);
    assert_eq!(
        found,
        [
            "scratch_global: a reference table holds no tenant's rows, but has a tenant column",
            "scratch_late: a distributed table's first column is `tenant TEXT NOT NULL`, not (\"id\", \"text\", true)",
            "scratch_stray: not classified (kernel::schema::TABLES: distributed, reference or coordinator-local)",
            "scratch_child: unique index scratch_child_pkey (id) does not include tenant",
            "scratch_parent: unique index scratch_parent_id_key (id) does not include tenant",
            "scratch_parent: trigger scratch_no_change (Citus does not distribute a table with triggers)",
            "scratch_child: foreign key scratch_child_parent_fkey (parent) → scratch_parent (id) does not pair tenant with tenant",
        ]
    );
    drop(conn);
    d.drop().await;
}

/// `madoguchi migrate --citus` as an operator runs it: one line per table
/// of the database, each as classified, a table after the tables it
/// references, every distributed table co-located with `tenants`.
#[tokio::test]
async fn migrate_citus_prints_each_table_once_in_a_valid_order() {
    let Some(d) = TestDatabase::create().await else {
        return;
    };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_madoguchi"))
        .args(["migrate", "--citus", "--database-url", &d.owner_url])
        .env_remove("MADOGUCHI_BIND")
        .env("MADOGUCHI_MODE", "development")
        .env("MADOGUCHI_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next(),
        Some("-- madoguchi: distribute the schema by municipality (run on the Citus coordinator)")
    );
    let lines: Vec<&str> = lines.collect();
    let mut conn = connect(&d.owner_url).await;
    let c = read_catalogue(&mut conn).await;
    let quoted = |t: &str| format!("('{t}'");
    let position = |t: &str| {
        let at: Vec<usize> = (0..lines.len())
            .filter(|i| {
                lines[*i].contains(&quoted(t)) || lines[*i].starts_with(&format!("-- {t}:"))
            })
            .collect();
        assert_eq!(at.len(), 1, "{t} is on {} lines:\n{stdout}", at.len());
        at[0]
    };
    assert_eq!(lines.len(), c.tables.len(), "{stdout}");
    for t in &c.tables {
        let line = lines[position(t)];
        let expected = match placement(t).unwrap() {
            Placement::Reference => format!("SELECT create_reference_table('{t}');"),
            Placement::Distributed if t == "tenants" => {
                "SELECT create_distributed_table('tenants', 'tenant', colocate_with => 'none');"
                    .to_string()
            }
            Placement::Distributed => format!(
                "SELECT create_distributed_table('{t}', 'tenant', colocate_with => 'tenants');"
            ),
            Placement::CoordinatorLocal { reason } => {
                format!("-- {t}: stays on the coordinator ({reason})")
            }
        };
        assert_eq!(line, expected);
    }
    // Citus distributes a table only after the tables its foreign keys
    // reference, and co-locates with `tenants` only once it is distributed.
    for f in &c.foreign_keys {
        assert!(
            position(&f.references) < position(&f.table),
            "{} is distributed before {}, which it references",
            f.table,
            f.references
        );
    }
    let first_distributed = lines
        .iter()
        .position(|l| l.contains("create_distributed_table"))
        .unwrap();
    assert_eq!(first_distributed, position("tenants"));
    drop(conn);
    d.drop().await;
}

fn sqlstate(r: Result<sqlx::any::AnyQueryResult, sqlx::Error>) -> Option<String> {
    match r {
        Err(sqlx::Error::Database(e)) => e.code().map(|c| c.into_owned()),
        other => panic!("expected a database error, got {other:?}"),
    }
}

/// On PostgreSQL the audit log is append-only by grants (migration 0019):
/// the application's role may INSERT and SELECT it and move the chain's
/// head, and PostgreSQL refuses it an UPDATE, a DELETE or a TRUNCATE of
/// the log (insufficient privilege, 42501), and any change of the record
/// of migrations.
#[tokio::test]
async fn the_application_role_may_only_append_to_the_audit_log() {
    let Some(d) = TestDatabase::create().await else {
        return;
    };
    let mut app = connect(&d.app_url).await;
    let who: String = sqlx::query("SELECT current_user::text")
        .fetch_one(&mut app)
        .await
        .unwrap()
        .get(0);
    assert_eq!(who, testkit::APP_LOGIN);
    let run = |sql: &'static str| sqlx::query(sql);
    run(
        "INSERT INTO audit_log (tenant, seq, at, actor, action, target, detail, prev_hash, hash)
         VALUES ('122289', 1, 0, 'staff:tanaka', 'test.append', 'x', '{}', '', 'h1')",
    )
    .execute(&mut app)
    .await
    .unwrap();
    run("INSERT INTO audit_heads (tenant, seq, hash) VALUES ('122289', 1, 'h1')")
        .execute(&mut app)
        .await
        .unwrap();
    run("UPDATE audit_heads SET seq = 2, hash = 'h2' WHERE tenant = '122289'")
        .execute(&mut app)
        .await
        .unwrap();
    let count: i64 = run("SELECT COUNT(*) FROM audit_log WHERE tenant = '122289'")
        .fetch_one(&mut app)
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 1);
    for sql in [
        "UPDATE audit_log SET actor = 'staff:someone-else' WHERE tenant = '122289' AND seq = 1",
        "DELETE FROM audit_log WHERE tenant = '122289' AND seq = 1",
        "TRUNCATE audit_log",
        "INSERT INTO madoguchi_migrations (version, name, checksum, applied_at) VALUES (99, 'x', 'x', 0)",
        "DELETE FROM madoguchi_migrations",
    ] {
        assert_eq!(
            sqlstate(run(sql).execute(&mut app).await).as_deref(),
            Some("42501"),
            "{sql}"
        );
    }
    let entry: (String, String) =
        sqlx::query_as("SELECT actor, hash FROM audit_log WHERE tenant = '122289' AND seq = 1")
            .fetch_one(&mut app)
            .await
            .unwrap();
    assert_eq!(entry, ("staff:tanaka".to_string(), "h1".to_string()));
    drop(app);
    d.drop().await;
}

/// A server signed in as the application's role migrates nothing: on a
/// database without the schema it stops, saying to migrate as the owner
/// (PostgreSQL 15 and later give no role CREATE on the public schema
/// unless granted).
#[tokio::test]
async fn the_application_role_does_not_migrate() {
    // Makes sure the application's login role exists.
    let Some(d) = TestDatabase::create().await else {
        return;
    };
    let admin = testkit::postgres_admin_url().unwrap();
    let name = format!("mdg_test_empty_{}", std::process::id());
    let mut conn = connect(&admin).await;
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let url = testkit::with_login(
        &testkit::replace_database(&admin, &name),
        testkit::APP_LOGIN,
        testkit::APP_LOGIN,
    );
    let db = kernel::Db::connect(&url, 1).await.unwrap();
    let e = kernel::migrate::run(&db).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "madoguchi_migrations を作成できません（テーブルを所有するロールで madoguchi migrate を実行してください）"
    );
    let cause = e
        .downcast_ref::<sqlx::Error>()
        .and_then(|e| e.as_database_error());
    assert_eq!(cause.and_then(|c| c.code()).as_deref(), Some("42501"));
    db.close().await;
    sqlx::raw_sql(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .unwrap();
    d.drop().await;
}

/// SQLite keeps its triggers (one process, no roles).
#[tokio::test]
async fn sqlite_keeps_the_audit_log_append_only_by_triggers() {
    let path = std::env::temp_dir().join(format!("madoguchi-citus-{}.db", std::process::id()));
    let db = kernel::Db::connect(&format!("sqlite://{}", path.display()), 2)
        .await
        .unwrap();
    kernel::migrate::run(&db).await.unwrap();
    sqlx::query(
        "INSERT INTO audit_log (tenant, seq, at, actor, action, target, detail, prev_hash, hash)
         VALUES ('122289', 1, 0, 'staff:tanaka', 'test.append', 'x', '{}', '', 'h1')",
    )
    .execute(db.write())
    .await
    .unwrap();
    for sql in [
        "UPDATE audit_log SET actor = 'x' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 1",
    ] {
        let e = sqlx::query(sql).execute(db.write()).await.unwrap_err();
        assert!(
            e.to_string().contains("audit_log is append-only"),
            "{sql}: {e}"
        );
    }
    db.close().await;
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
}

// --------------------------------------------------------------- joins

/// The joins of every SQL literal in the code whose ON clause does not
/// equate the two tables' tenants (Citus runs a join on one node only
/// when it is on the distribution column).
fn joins_across_tenants(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for literal in text.split('"').skip(1).step_by(2) {
        for (at, _) in literal.match_indices(" JOIN ") {
            let rest = &literal[at + " JOIN ".len()..];
            let end = [" WHERE ", " JOIN ", " ORDER ", " GROUP ", ")"]
                .iter()
                .filter_map(|k| rest.find(k))
                .min()
                .unwrap_or(rest.len());
            let clause = &rest[..end];
            let equated = clause.split(" AND ").any(|p| {
                let sides: Vec<&str> = p.split(" ON ").last().unwrap_or(p).split('=').collect();
                sides.len() == 2 && sides.iter().all(|s| s.trim().ends_with(".tenant"))
            });
            if !equated {
                out.push(format!(
                    "JOIN {}",
                    clause.split_whitespace().collect::<Vec<_>>().join(" ")
                ));
            }
        }
    }
    out
}

#[test]
fn no_join_in_the_code_crosses_tenants() {
    let mut found = Vec::new();
    for (krate, dir) in crate::structure::crates() {
        for (m, text) in crate::structure::modules_of(&dir.join("src")) {
            for j in joins_across_tenants(&text) {
                found.push(format!("{krate}/src/{}: {j}", m.join("/")));
            }
        }
    }
    assert!(
        found.is_empty(),
        "joins without tenant equality:\n{}",
        found.join("\n")
    );
}

#[test]
fn a_join_without_tenant_equality_is_found() {
    let text = r#"
        let a = "SELECT 1 FROM visit_items i JOIN applications a ON a.tenant = i.tenant AND a.id = i.application_id WHERE i.tenant = $1";
        let b = "SELECT 1 FROM visit_items i JOIN applications a ON a.id = i.application_id WHERE i.tenant = $1";
        let c = "SELECT 1 FROM x JOIN y ON y.id = x.id AND y.tenant = $1 WHERE x.tenant = $1";
    "#;
    assert_eq!(
        joins_across_tenants(text),
        [
            "JOIN applications a ON a.id = i.application_id",
            "JOIN y ON y.id = x.id AND y.tenant = $1",
        ]
    );
}
