//! The SQL the importer hands to `wrangler d1 execute`: multi-row inserts that skip emails already
//! in D1, so a second run imports nothing twice.

use crate::import::review::Account;

/// Rows per `INSERT`, keeping each statement well under D1's 100 KB statement limit.
pub const ROWS_PER_STATEMENT: usize = 100;

/// One `INSERT ... ON CONFLICT (email) DO NOTHING` for these accounts, created at `now`.
pub fn insert_accounts(accounts: &[Account], now: i64) -> String {
    let values: Vec<String> = accounts
        .iter()
        .map(|a| {
            let name = a.name.as_deref().map_or_else(|| "NULL".to_owned(), quote);
            format!(
                "({}, {}, {name}, {now}, {now})",
                quote(&a.email),
                quote(&a.password_hash)
            )
        })
        .collect();
    format!(
        "INSERT INTO users (email, password_hash, name, created_at, updated_at) VALUES\n{}\nON CONFLICT (email) DO NOTHING;\n",
        values.join(",\n")
    )
}

/// An SQL string literal: SQLite has no backslash escapes, only doubled quotes.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_and_conflicts_skipped() {
        let sql = insert_accounts(
            &[
                Account {
                    email: "o'neil@example.com".into(),
                    password_hash: "$2b$x".into(),
                    name: Some("Zoë 'Z'".into()),
                },
                Account {
                    email: "b@example.com".into(),
                    password_hash: "$2b$y".into(),
                    name: None,
                },
            ],
            1_700_000_000,
        );
        assert!(
            sql.contains("('o''neil@example.com', '$2b$x', 'Zoë ''Z''', 1700000000, 1700000000)")
        );
        assert!(sql.contains("('b@example.com', '$2b$y', NULL, 1700000000, 1700000000)"));
        assert!(sql.trim_end().ends_with("ON CONFLICT (email) DO NOTHING;"));
    }
}
