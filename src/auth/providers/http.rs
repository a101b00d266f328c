//! The HTTP client sign-in talks to providers with (discovery, JWKS, token
//! and user endpoints), shaped as oauth2's `AsyncHttpClient`.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use axum::http;
use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse};

/// A provider's answer is at most this big (a JWKS, a token response).
const MAX_RESPONSE_BYTES: usize = 1 << 20;

#[derive(Clone)]
pub struct ProviderHttp(reqwest::Client);

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{0}")]
    Request(#[from] reqwest::Error),
    #[error("{0}")]
    Response(#[from] http::Error),
    #[error("the provider's response is over {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
}

impl ProviderHttp {
    pub fn new() -> ProviderHttp {
        let client = reqwest::Client::builder()
            // A provider's endpoint that redirects elsewhere could send the
            // request (with the client secret) anywhere: never follow.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .user_agent(concat!("loupe/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client builds");
        ProviderHttp(client)
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.0
    }
}

impl<'c> AsyncHttpClient<'c> for ProviderHttp {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let response = self.0.execute(reqwest::Request::try_from(request)?).await?;
            let mut answer = http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                answer = answer.header(name, value);
            }
            if response.content_length().is_some_and(|length| length > MAX_RESPONSE_BYTES as u64) {
                return Err(HttpError::TooLarge);
            }
            let body = response.bytes().await?;
            if body.len() > MAX_RESPONSE_BYTES {
                return Err(HttpError::TooLarge);
            }
            Ok(answer.body(body.to_vec())?)
        })
    }
}
