//! What every handler takes besides the request. It lives apart from the route table, so the
//! table is the only module that knows every handler and no handler imports it back.

use worker::Env;

use crate::edge::state::State;

/// What a handler gets besides the request: the request's state, the bindings, and the value of
/// the pattern's one parameter (`{id}`), if it has one.
pub struct RouteContext {
    pub data: State,
    pub env: Env,
    param: Option<String>,
}

impl RouteContext {
    /// The context of a request the route table matched, with its pattern's parameter.
    pub fn new(data: State, env: Env, param: Option<String>) -> Self {
        Self { data, env, param }
    }

    /// The path's `{id}` segment, for the one pattern that has one.
    pub fn id(&self) -> Option<&str> {
        self.param.as_deref()
    }
}
