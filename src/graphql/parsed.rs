//! Parsed queries kept by their text. The web app and scripts send the same
//! few documents over and over, and parsing one (async-graphql's pest
//! grammar) cost more than the rest of a `confirmUpload`. Only parsing is
//! skipped: validation, limits and execution run on every request.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerResult, Variables};

/// Documents kept; the oldest goes first. A client sending ever new texts
/// only pushes the others out.
const CAPACITY: usize = 256;
/// Longer texts are parsed every time, so the cache stays small.
const MAX_QUERY_BYTES: usize = 8 * 1024;

#[derive(Default)]
pub struct ParsedQueries {
    cache: Arc<Mutex<Cache>>,
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
        Arc::new(ParsedQueries { cache: self.cache.clone() })
    }
}

#[async_trait::async_trait]
impl Extension for ParsedQueries {
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
        if let Some(document) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).documents.get(query) {
            return Ok(document.clone());
        }
        let document = next.run(ctx, query, variables).await?;
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).insert(query, document.clone());
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(query: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(query).expect("parses")
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
