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

/// Calls `each` for every row in `id` order, holding one row in memory at a time. Values that are
/// not text (a number in `email`, say) arrive as `None`.
pub fn for_each_user(db: &Connection, mut each: impl FnMut(FlaskUser)) -> rusqlite::Result<()> {
    let mut statement = db.prepare(
        "SELECT id, \
                CASE WHEN typeof(email) = 'text' THEN email END, \
                CASE WHEN typeof(password) = 'text' THEN password END, \
                CASE WHEN typeof(name) = 'text' THEN name END \
         FROM user ORDER BY id",
    )?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        each(FlaskUser {
            id: row.get(0)?,
            email: row.get(1)?,
            password: row.get(2)?,
            name: row.get(3)?,
        });
    }
    Ok(())
}
