//! Sign-in providers: any number of OpenID Connect providers and GitHub,
//! each run through the authorization-code flow with PKCE and `state` (and
//! a `nonce` for OpenID Connect). A provider starts a sign-in
//! ([`Provider::authorize`]) and turns the code it sent back into an
//! [`Identity`] it vouches for ([`Provider::identify`]); keeping the
//! attempt between the two is `auth::login`'s job.

mod github;
mod http;
mod oidc;

use std::collections::BTreeMap;

use crate::config::{ProviderConfig, ProviderKind};

pub use http::ProviderHttp;

/// Who a provider says signed in.
#[derive(Clone, Debug)]
pub struct Identity {
    /// The provider's stable id for the person (OpenID `sub`, GitHub's numeric id).
    pub subject: String,
    pub login: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub avatar_url: Option<String>,
}

/// A sign-in just started: where to send the browser, and what to keep
/// until it comes back.
pub struct Authorization {
    pub url: String,
    pub state: String,
    /// Empty for plain OAuth2 (GitHub), which has no ID token.
    pub nonce: String,
    pub pkce_verifier: String,
}

/// Why a provider could not vouch for anyone. The messages hold no secret.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider could not be reached or answered nonsense.
    #[error("the sign-in provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider answered, but what it sent does not hold (a refused
    /// code, an ID token with a bad signature, audience, expiry or nonce).
    #[error("sign-in refused: {0}")]
    Refused(String),
}

/// One configured provider (boxed: their clients are large and of unequal size).
pub enum Provider {
    Oidc(Box<oidc::Oidc>),
    GitHub(Box<github::GitHub>),
}

impl Provider {
    /// Starts a sign-in that returns to `redirect_url`.
    pub async fn authorize(&self, redirect_url: &str) -> Result<Authorization, ProviderError> {
        match self {
            Provider::Oidc(oidc) => oidc.authorize(redirect_url).await,
            Provider::GitHub(github) => github.authorize(redirect_url),
        }
    }

    /// Exchanges the code (with the attempt's PKCE verifier) and checks what comes back.
    pub async fn identify(
        &self,
        redirect_url: &str,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<Identity, ProviderError> {
        match self {
            Provider::Oidc(oidc) => oidc.identify(redirect_url, code, pkce_verifier, nonce).await,
            Provider::GitHub(github) => github.identify(redirect_url, code, pkce_verifier).await,
        }
    }
}

/// The configured providers by name, in name order.
pub fn build(configs: &[ProviderConfig], http: &ProviderHttp) -> BTreeMap<String, Provider> {
    configs
        .iter()
        .map(|config| {
            let provider = match &config.kind {
                ProviderKind::Oidc { issuer } => {
                    Provider::Oidc(Box::new(oidc::Oidc::new(issuer, config, http.clone())))
                }
                ProviderKind::GitHub => Provider::GitHub(Box::new(github::GitHub::new(config, http.clone()))),
            };
            (config.name.clone(), provider)
        })
        .collect()
}
