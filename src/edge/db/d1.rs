//! The few helpers every query uses: binding arguments, running batches, reading rows.

use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result};

use crate::edge::error::ApiError;

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
    db: &D1Database,
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
    db: &D1Database,
    statements: Vec<D1PreparedStatement>,
    context: &'static str,
) -> Result<Vec<D1Result>, ApiError> {
    db.batch(statements)
        .await
        .map_err(|e| ApiError::internal(context, e))
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
    statement: D1PreparedStatement,
    context: &'static str,
) -> Result<Option<T>, ApiError> {
    statement
        .first(None)
        .await
        .map_err(|e| ApiError::internal(context, e))
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
