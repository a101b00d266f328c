//! Parsed queries kept by their text. The web app and scripts send the same
//! few documents over and over, and parsing one (async-graphql's pest
//! grammar) cost more than the rest of a `confirmUpload`. Only parsing is
//! skipped: validation, limits and execution run on every request.
//!
//! A document is kept only after a request with it ran without errors, so
//! it passed the depth and complexity limits: a client cannot fill the cache
//! with huge documents that are refused anyway.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Response, ServerResult, Variables};

/// Documents kept; the oldest goes first. A client sending ever new texts
/// only pushes the others out.
const CAPACITY: usize = 256;
/// Longer texts are parsed every time, so the cache stays small.
const MAX_QUERY_BYTES: usize = 8 * 1024;

#[derive(Default)]
pub struct ParsedQueries {
    cache: Arc<Mutex<Cache>>,
    /// This request's document, parsed here and kept if the request succeeds.
    parsed: Mutex<Option<(String, ExecutableDocument)>>,
}

#[derive(Default)]
struct Cache {
    documents: HashMap<Arc<str>, ExecutableDocument>,
    order: VecDeque<Arc<str>>,
}

impl Cache {
    fn insert(&mut self, query: &str, document: ExecutableDocument) {
        if self.documents.contains_key(query) {
            return;
        }
        if self.order.len() >= CAPACITY
            && let Some(oldest) = self.order.pop_front()
        {
            self.documents.remove(&oldest);
        }
        let key: Arc<str> = query.into();
        self.order.push_back(key.clone());
        self.documents.insert(key, document);
    }
}

impl ExtensionFactory for ParsedQueries {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ParsedQueries { cache: self.cache.clone(), parsed: Mutex::default() })
    }
}

#[async_trait::async_trait]
impl Extension for ParsedQueries {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let response = next.run(ctx).await;
        let parsed = lock(&self.parsed).take();
        if let Some((query, document)) = parsed
            && response.is_ok()
        {
            lock(&self.cache).insert(&query, document);
        }
        response
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if query.len() > MAX_QUERY_BYTES {
            return next.run(ctx, query, variables).await;
        }
        if let Some(document) = lock(&self.cache).documents.get(query) {
            return Ok(document.clone());
        }
        let document = next.run(ctx, query, variables).await?;
        *lock(&self.parsed) = Some((query.to_owned(), document.clone()));
        Ok(document)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(query: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(query).expect("parses")
    }

    struct Query;

    #[async_graphql::Object]
    impl Query {
        async fn a(&self) -> i32 {
            1
        }
    }

    #[tokio::test]
    async fn keeps_only_documents_of_requests_that_succeeded() {
        let parsed = ParsedQueries::default();
        let cache = parsed.cache.clone();
        let schema =
            async_graphql::Schema::build(Query, async_graphql::EmptyMutation, async_graphql::EmptySubscription)
                .extension(parsed)
                .limit_depth(2)
                .finish();
        assert!(schema.execute("{ a }").await.is_ok());
        assert!(schema.execute("{ nope }").await.is_err());
        assert!(schema.execute("{ a __typename __schema { types { fields { name } } } }").await.is_err());
        {
            let kept = lock(&cache);
            assert_eq!(kept.documents.keys().map(|k| &**k).collect::<Vec<_>>(), ["{ a }"]);
        }
        let again = schema.execute("{ a }").await;
        assert_eq!(again.data, async_graphql::value!({ "a": 1 }));
    }

    #[test]
    fn keeps_at_most_capacity_dropping_the_oldest() {
        let mut cache = Cache::default();
        for i in 0..CAPACITY + 10 {
            let query = format!("{{ f{i} }}");
            cache.insert(&query, document(&query));
        }
        assert_eq!((cache.documents.len(), cache.order.len()), (CAPACITY, CAPACITY));
        assert!(!cache.documents.contains_key("{ f0 }"));
        assert!(!cache.documents.contains_key("{ f9 }"));
        assert!(cache.documents.contains_key("{ f10 }"));
        let last = format!("{{ f{} }}", CAPACITY + 9);
        cache.insert(&last, document(&last));
        assert_eq!(cache.order.len(), CAPACITY, "a text already kept is not added twice");
    }
}
