//! Every SQL statement the worker can issue, planned by SQLite on the schema the migrations build:
//! none may scan a table that grows with the users (issue: a refresh once read every live session).
//! D1 is SQLite, so its planner makes the same choice on the same schema and indexes.
#![cfg(not(target_arch = "wasm32"))]

use std::fs;
use std::path::Path;

use edge_auth::edge::catalog::catalog;
use rusqlite::Connection;

fn migrated() -> Connection {
    let db = Connection::open_in_memory().expect("open in-memory SQLite");
    let mut files: Vec<_> = fs::read_dir("migrations")
        .expect("read migrations/")
        .map(|entry| entry.expect("list migrations/").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
        .collect();
    files.sort();
    for file in files {
        let sql = fs::read_to_string(&file).expect("read a migration");
        db.execute_batch(&sql)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
    db
}

fn plan(db: &Connection, sql: &str) -> Vec<String> {
    let mut explain = db
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
    // Unbound parameters: the plan depends on which columns are compared, not on the values.
    let nulls = vec![rusqlite::types::Null; explain.parameter_count()];
    explain
        .query_map(rusqlite::params_from_iter(nulls), |row| {
            row.get::<_, String>(3)
        })
        .expect("run EXPLAIN QUERY PLAN")
        .map(|detail| detail.expect("read a plan row"))
        .collect()
}

/// Whether a plan step reads a number of rows that grows with the tables:
/// - `SCAN x` reads every row of x (`USING COVERING INDEX`: every index entry), but for the
///   argument list of `json_each`;
/// - `SEARCH x USING INDEX i (a>?)` with no equality reads a whole range, such as every live
///   session: the shape of the bug this guards against;
/// - `SEARCH x USING ... (a=? ...)` reads only the rows of one key: fine.
fn grows_with_the_tables(step: &str) -> bool {
    // A constant row, or the candidate hashes of one presented code (`json_each` of a JSON
    // array with two entries per key of the ring): neither grows with the tables.
    if step == "SCAN CONSTANT ROW" || step.starts_with("SCAN json_each VIRTUAL TABLE") {
        return false;
    }
    if step.starts_with("SCAN ") {
        return true;
    }
    let Some(constraint) = step
        .strip_prefix("SEARCH ")
        .and_then(|rest| rest.rsplit_once('('))
        .map(|(_, c)| c.trim_end_matches(')'))
    else {
        return false;
    };
    !constraint.split(" AND ").any(|term| {
        term.split_once('=')
            .is_some_and(|(column, _)| !column.ends_with(['<', '>']))
    })
}

#[test]
fn no_statement_reads_rows_in_proportion_to_the_tables() {
    let db = migrated();
    let mut found = Vec::new();
    for (module, sql) in catalog() {
        // The cleanup walks ranges on purpose, in slices bounded by `LIMIT`.
        let bounded = sql.contains(" LIMIT ?");
        for step in plan(&db, sql) {
            if grows_with_the_tables(&step) && !(bounded && step.starts_with("SEARCH ")) {
                found.push(format!("{module}: {step}\n    in: {sql}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "steps that read whole tables or ranges:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_rule_tells_searches_from_scans() {
    let cases = [
        ("SCAN sessions", true),
        ("SCAN t USING COVERING INDEX refresh_tokens_by_session", true),
        ("SEARCH sessions USING INDEX sessions_by_expiry (expires_at>?)", true),
        ("SEARCH s USING INDEX sessions_by_revocation (revoked_at>? AND revoked_at<?)", true),
        ("SEARCH refresh_tokens USING INDEX sqlite_autoindex_refresh_tokens_1 (digest=?)", false),
        ("SEARCH e USING COVERING INDEX code_events_by_account (user_id=? AND purpose=? AND kind=? AND at>?)", false),
        ("SEARCH users USING INTEGER PRIMARY KEY (rowid=?)", false),
        ("SCAN CONSTANT ROW", false),
        ("LIST SUBQUERY 1", false),
    ];
    for (step, expected) in cases {
        assert_eq!(grows_with_the_tables(step), expected, "{step}");
    }
}

#[test]
fn the_catalog_lists_every_statement_in_the_database_modules() {
    // Every statement lives in a capability's `sql/` folder (src/edge/<capability>/sql/) as a
    // constant named `*_SQL`, and `statement()` takes only `&'static str`, so no SQL is
    // assembled at run time outside this list.
    let mut declared = 0;
    let mut sql_files = Vec::new();
    for capability in fs::read_dir(Path::new("src/edge")).expect("read src/edge") {
        let sql = capability.expect("list src/edge").path().join("sql");
        if sql.is_dir() {
            for entry in fs::read_dir(&sql).expect("read a sql folder") {
                sql_files.push(entry.expect("list a sql folder").path());
            }
        }
    }
    assert!(
        sql_files.len() >= 15,
        "the sql folders were found: {sql_files:?}"
    );
    for file in sql_files {
        let source = fs::read_to_string(file).expect("read");
        declared += source
            .lines()
            .filter(|line| {
                let line = line.trim_start();
                (line.starts_with("const ") || line.starts_with("pub const "))
                    && line.contains("_SQL: &str")
            })
            .count();
    }
    assert_eq!(catalog().len(), declared);
    assert!(declared >= 20, "the catalog is not empty: {declared}");
}
