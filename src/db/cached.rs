//! [`Cached`]: a statement kept prepared in its connection's statement cache.

use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};

/// Keeps `Q` prepared between runs, keyed by its SQL text and bind types.
///
/// diesel prepares every UPDATE, raw `sql_query` and INSERT with optional
/// values anew on each run, because their SQL text can differ for one Rust
/// type and its cache would key them by type. Keyed by their text, as here
/// (no static query id), that cannot mix two statements up. Preparing the
/// job queue's statements each time was 13% of the server's instructions on
/// a small-file journey (SQLite parsing the SQL of the claim, the finish,
/// the confirm).
#[derive(Debug, Clone, Copy)]
pub struct Cached<Q>(pub Q);

impl<Q> QueryId for Cached<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Cached<Q> {
    type SqlType = Q::SqlType;
}

impl<Q: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for Cached<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}
