//! Every error leaves with a stable `extensions.code`: the [`AppError`]'s
//! own, or `BAD_USER_INPUT` for what the request itself got wrong (syntax,
//! validation, argument values), which carries no AppError. Internal errors
//! say only "internal error"; their details were logged where they happened.
//! Messages are capped: some of async-graphql's quote the request.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest, NextSubscribe};
use async_graphql::futures_util::stream::BoxStream;
use async_graphql::{Response, ServerError};
use futures_util::StreamExt;

use crate::error::AppError;

pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

#[async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        with_codes(next.run(ctx).await)
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream).map(with_codes).boxed()
    }
}

fn with_codes(mut response: Response) -> Response {
    response.errors.iter_mut().for_each(add_code);
    response
}

/// Longest error message sent, in bytes.
const MAX_MESSAGE_BYTES: usize = 1024;

fn add_code(error: &mut ServerError) {
    if error.message.len() > MAX_MESSAGE_BYTES {
        let mut end = MAX_MESSAGE_BYTES;
        while !error.message.is_char_boundary(end) {
            end -= 1;
        }
        error.message.truncate(end);
        error.message.push('…');
    }
    let code = match error.source::<AppError>() {
        Some(err) => err.code(),
        None => "BAD_USER_INPUT",
    };
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
}
