//! What every handler takes besides the request. It lives apart from the route table, so the
//! table is the only module that knows every handler and no handler imports it back.

use worker::Env;

use crate::edge::error::ApiError;
use crate::edge::state::State;

/// What a handler gets besides the request: the request's state, the bindings, and the values of
/// the pattern's parameters (`{id}`, `{user_id}`…), in order.
pub struct RouteContext {
    pub data: State,
    pub env: Env,
    params: Vec<String>,
}

impl RouteContext {
    /// The context of a request the route table matched, with its pattern's parameters.
    pub fn new(data: State, env: Env, params: Vec<String>) -> Self {
        Self { data, env, params }
    }

    /// The path's first parameter (`{id}`).
    pub fn id(&self) -> Option<&str> {
        self.param(0)
    }

    /// The path's parameter at `index` (0: the first).
    pub fn param(&self, index: usize) -> Option<&str> {
        self.params.get(index).map(String::as_str)
    }

    /// The path's parameter at `index` as an account id (`{id}` of `/admin/users/{id}`,
    /// `{user_id}` of an organization's member): `404` for anything else.
    pub fn account_id(&self, index: usize) -> Result<i64, ApiError> {
        self.param(index)
            .and_then(|id| id.parse::<i64>().ok())
            .filter(|id| *id > 0)
            .ok_or(ApiError::NotFound)
    }
}
