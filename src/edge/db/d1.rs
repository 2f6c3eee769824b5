//! The few helpers every query uses: binding arguments, running batches, reading rows.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1DatabaseSession, D1PreparedStatement, D1Result};

use crate::edge::error::ApiError;

/// The D1 binding as a session of D1's Sessions API (read replication), with the meter its calls
/// add to (one per request, for its log line), which also keeps the session's newest bookmark
/// for the response.
pub struct Db {
    session: D1DatabaseSession,
    meter: Rc<D1Meter>,
}

impl Db {
    /// A session of the Sessions API, started at `constraint_or_bookmark`.
    pub fn session(
        raw: &D1Database,
        constraint_or_bookmark: &str,
        meter: Rc<D1Meter>,
    ) -> Result<Self, ApiError> {
        let session = raw
            .with_session(Some(constraint_or_bookmark))
            .map_err(|e| ApiError::internal("start D1 session", e))?;
        Ok(Self { session, meter })
    }

    fn prepare(&self, sql: &'static str) -> D1PreparedStatement {
        self.session.prepare(sql)
    }

    async fn run(&self, statements: Vec<D1PreparedStatement>) -> worker::Result<Vec<D1Result>> {
        let results = self.session.batch(statements).await?;
        if let Ok(Some(bookmark)) = self.session.get_bookmark() {
            self.meter.keep_bookmark(bookmark);
        }
        Ok(results)
    }
}

/// D1 work summed from each result's `meta`: what D1 bills (rows read and written) and what a
/// request waits for (round trips).
#[derive(Debug, Default)]
pub struct D1Meter {
    statements: Cell<u64>,
    round_trips: Cell<u64>,
    rows_read: Cell<u64>,
    rows_written: Cell<u64>,
    /// The newest bookmark of the request's D1 session, for its `X-D1-Bookmark` header.
    bookmark: RefCell<Option<String>>,
}

/// A reading of a `D1Meter`, as it appears in a log line (`d1`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct D1Figures {
    pub statements: u64,
    pub round_trips: u64,
    pub rows_read: u64,
    pub rows_written: u64,
}

impl D1Meter {
    /// Adds one round trip and its results.
    fn record(&self, results: &[D1Result]) {
        let add = |cell: &Cell<u64>, n: u64| cell.set(cell.get() + n);
        add(&self.round_trips, 1);
        add(&self.statements, results.len() as u64);
        for meta in results.iter().filter_map(|r| r.meta().ok().flatten()) {
            add(&self.rows_read, meta.rows_read.unwrap_or(0) as u64);
            add(&self.rows_written, meta.rows_written.unwrap_or(0) as u64);
        }
    }

    fn keep_bookmark(&self, bookmark: String) {
        *self.bookmark.borrow_mut() = Some(bookmark);
    }

    /// The newest bookmark the request's D1 session saw, if it used one.
    pub fn bookmark(&self) -> Option<String> {
        self.bookmark.borrow().clone()
    }

    pub fn figures(&self) -> D1Figures {
        D1Figures {
            statements: self.statements.get(),
            round_trips: self.round_trips.get(),
            rows_read: self.rows_read.get(),
            rows_written: self.rows_written.get(),
        }
    }
}

/// An integer argument. D1 takes JavaScript numbers (no BigInt); ours stay far below 2^53.
pub fn int(value: i64) -> JsValue {
    JsValue::from_f64(value as f64)
}

pub fn text(value: &str) -> JsValue {
    JsValue::from_str(value)
}

pub fn nullable_text(value: Option<&str>) -> JsValue {
    value.map_or(JsValue::NULL, JsValue::from_str)
}

/// A prepared statement with its arguments bound. Statements of one batch share one argument
/// list; each is bound the prefix it refers to, because D1 refuses more bindings than the
/// statement's highest `?N`. The SQL is a `&'static str`: every statement the worker can issue is
/// a constant, listed in `db::catalog()` and checked by `tests/query_plans.rs`.
pub fn statement(
    db: &Db,
    sql: &'static str,
    args: &[JsValue],
) -> Result<D1PreparedStatement, ApiError> {
    let used = highest_placeholder(sql).min(args.len());
    db.prepare(sql)
        .bind(&args[..used])
        .map_err(|e| ApiError::internal("bind statement arguments", e))
}

/// The largest `N` of the `?N` placeholders in `sql` (0 when there are none).
fn highest_placeholder(sql: &str) -> usize {
    sql.split('?')
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .max()
        .unwrap_or(0)
}

/// Runs statements as one transaction and returns their results in order.
pub async fn batch(
    db: &Db,
    statements: Vec<D1PreparedStatement>,
    context: &'static str,
) -> Result<Vec<D1Result>, ApiError> {
    let results = db
        .run(statements)
        .await
        .map_err(|e| ApiError::internal(context, e))?;
    db.meter.record(&results);
    Ok(results)
}

/// The first `N` results of a batch, to be named where they are read:
/// `let [pair, account_wide, found] = leading(&results, "start login")?;`.
pub fn leading<'a, const N: usize>(
    results: &'a [D1Result],
    context: &'static str,
) -> Result<&'a [D1Result; N], ApiError> {
    results
        .get(..N)
        .and_then(|first| first.try_into().ok())
        .ok_or_else(|| ApiError::internal(context, "fewer results than statements"))
}

/// Whether a statement that returns what it wrote (`RETURNING …`) took effect: it returned a row.
pub fn took_effect(result: &D1Result, context: &'static str) -> Result<bool, ApiError> {
    Ok(!rows::<serde_json::Value>(result, context)?.is_empty())
}

/// The rows of one result.
pub fn rows<T: DeserializeOwned>(
    result: &D1Result,
    context: &'static str,
) -> Result<Vec<T>, ApiError> {
    result.results().map_err(|e| ApiError::internal(context, e))
}

/// The first row of a statement run alone.
pub async fn first<T: DeserializeOwned>(
    db: &Db,
    statement: D1PreparedStatement,
    context: &'static str,
) -> Result<Option<T>, ApiError> {
    let result = db
        .run(vec![statement])
        .await
        .map_err(|e| ApiError::internal(context, e))?
        .pop()
        .ok_or_else(|| ApiError::internal(context, "no result"))?;
    db.meter.record(std::slice::from_ref(&result));
    Ok(rows(&result, context)?.into_iter().next())
}

#[cfg(test)]
mod tests {
    use super::highest_placeholder;

    #[test]
    fn finds_the_highest_numbered_placeholder() {
        assert_eq!(highest_placeholder("SELECT 1"), 0);
        assert_eq!(
            highest_placeholder("WHERE a = ?1 AND b = ?12 OR c = ?3"),
            12
        );
        assert_eq!(highest_placeholder("WHERE x = ?5 -- ?"), 5);
    }
}
