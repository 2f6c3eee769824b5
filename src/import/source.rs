//! Rows of the Flask API's `user` table, streamed one at a time (the table may hold 100,000 rows).

use rusqlite::{Connection, OpenFlags};

/// One row of `user` (`id`, `email`, `password`, `name`; `otp` and `otp_expiry` are dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlaskUser {
    pub id: i64,
    pub email: Option<String>,
    pub password: Option<String>,
    pub name: Option<String>,
}

/// Opens `users.db` read-only.
pub fn open(path: &str) -> rusqlite::Result<Connection> {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
}

/// Calls `each` for every row in `id` order, holding one row in memory at a time, and stops at
/// the first error, of the table or of `each`. Values that are not text (a number in `email`,
/// say) arrive as `None`.
pub fn for_each_user(
    db: &Connection,
    mut each: impl FnMut(FlaskUser) -> Result<(), String>,
) -> Result<(), String> {
    let unreadable = |e: rusqlite::Error| format!("read users: {e}");
    let mut statement = db
        .prepare(
            "SELECT id, \
                    CASE WHEN typeof(email) = 'text' THEN email END, \
                    CASE WHEN typeof(password) = 'text' THEN password END, \
                    CASE WHEN typeof(name) = 'text' THEN name END \
             FROM user ORDER BY id",
        )
        .map_err(unreadable)?;
    let mut rows = statement.query([]).map_err(unreadable)?;
    while let Some(row) = rows.next().map_err(unreadable)? {
        let user = FlaskUser {
            id: row.get(0).map_err(unreadable)?,
            email: row.get(1).map_err(unreadable)?,
            password: row.get(2).map_err(unreadable)?,
            name: row.get(3).map_err(unreadable)?,
        };
        each(user)?;
    }
    Ok(())
}
