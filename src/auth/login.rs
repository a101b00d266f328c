//! Signing in through a provider: `GET /auth/login/<name>` starts an
//! attempt and sends the browser to the provider; the provider sends it
//! back to `GET /auth/callback/<name>` with a code, which becomes a user
//! and a session.
//!
//! The attempt's `state` is in the redirect and, bound to the browser that
//! started it, in a short-lived cookie: the callback needs both to match
//! (so nobody can sign a victim's browser into their own account with a
//! link) and takes the attempt from the database (so a replayed callback
//! finds nothing). Its PKCE verifier and nonce stay on the server.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, HeaderValue};
use chrono::TimeDelta;

use super::providers::{self, Provider, ProviderError, ProviderHttp};
use super::{Auth, Cookie, now, secret};
use crate::config::ProviderConfig;
use crate::db::LoginAttempt;
use crate::error::AppError;

/// How long a person may take at the provider.
const ATTEMPT_TTL: TimeDelta = TimeDelta::minutes(10);
/// Longest path kept to return to after sign-in.
const MAX_RETURN_TO: usize = 2048;

/// The configured providers and what the flow needs around them.
pub struct Logins {
    providers: BTreeMap<String, Provider>,
    public_url: String,
    cookie: Cookie,
}

/// Why a sign-in did not complete; each is shown to the person, who can
/// start again, and logged (none holds a secret).
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("no sign-in provider is called {0:?}")]
    UnknownProvider(String),
    #[error("this sign-in link was already used, expired, or was started in another browser; sign in again")]
    BadState,
    #[error("the provider did not sign you in: {0}")]
    Denied(String),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("internal error")]
    Internal(#[from] AppError),
}

/// What the provider put in the callback's query.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

/// A finished sign-in: where to send the browser and the cookies to set.
pub struct SignedIn {
    pub return_to: String,
    pub session_cookie: HeaderValue,
    pub clear_login_cookie: HeaderValue,
}

impl Logins {
    pub fn new(configs: &[ProviderConfig], public_url: &str) -> Logins {
        Logins {
            providers: providers::build(configs, &ProviderHttp::new()),
            public_url: public_url.trim_end_matches('/').to_owned(),
            cookie: Cookie::new(public_url, "loupe-login"),
        }
    }

    fn redirect_url(&self, name: &str) -> String {
        format!("{}/auth/callback/{name}", self.public_url)
    }

    fn provider(&self, name: &str) -> Result<&Provider, LoginError> {
        self.providers.get(name).ok_or_else(|| LoginError::UnknownProvider(crate::error::echo(name)))
    }
}

impl Auth {
    /// The configured providers' names, in order.
    pub fn provider_names(&self) -> Vec<String> {
        self.login.providers.keys().cloned().collect()
    }

    /// Starts signing in at `provider`; returns the provider's URL to send
    /// the browser to and the cookie that binds the attempt to it.
    /// `return_to` is a path of this site to come back to.
    pub async fn begin_login(
        &self,
        provider: &str,
        return_to: Option<&str>,
    ) -> Result<(String, HeaderValue), LoginError> {
        let logins = &self.login;
        let authorization = logins.provider(provider)?.authorize(&logins.redirect_url(provider)).await?;
        let now = now();
        let attempt = LoginAttempt {
            id: secret::hash(&authorization.state),
            provider: provider.to_owned(),
            pkce_verifier: authorization.pkce_verifier,
            nonce: authorization.nonce,
            return_to: local_path(return_to).to_owned(),
            created_at: now,
        };
        self.db.insert_login_attempt(&attempt, now - ATTEMPT_TTL).await.map_err(AppError::from)?;
        let cookie = logins.cookie.set(&authorization.state, ATTEMPT_TTL.num_seconds() as u64);
        Ok((authorization.url, cookie))
    }

    /// Completes a sign-in at `provider` from its callback: checks the
    /// state, exchanges the code, finds or creates the user and starts a
    /// session.
    pub async fn finish_login(
        &self,
        provider: &str,
        callback: &Callback,
        headers: &HeaderMap,
    ) -> Result<SignedIn, LoginError> {
        let logins = &self.login;
        let chosen = logins.provider(provider)?;
        let state = callback.state.as_deref().ok_or(LoginError::BadState)?;
        if logins.cookie.read(headers) != Some(state) {
            return Err(LoginError::BadState);
        }
        let attempt = self
            .db
            .take_login_attempt(&secret::hash(state), provider, now() - ATTEMPT_TTL)
            .await
            .map_err(AppError::from)?
            .ok_or(LoginError::BadState)?;
        if let Some(error) = &callback.error {
            return Err(LoginError::Denied(crate::error::echo(error)));
        }
        let code = callback.code.as_deref().ok_or_else(|| LoginError::Denied("no code in the callback".into()))?;
        let identity =
            chosen.identify(&logins.redirect_url(provider), code, &attempt.pkce_verifier, &attempt.nonce).await?;
        let user = crate::db::User {
            id: uuid::Uuid::now_v7().to_string(),
            login: identity.login,
            name: identity.name,
            created_at: now(),
            provider: provider.to_owned(),
            subject: identity.subject,
            email: identity.email,
            avatar_url: identity.avatar_url,
        };
        let user = self.db.upsert_identity(&user).await.map_err(AppError::from)?;
        tracing::info!(user = %user.id, provider, "signed in");
        Ok(SignedIn {
            return_to: attempt.return_to,
            session_cookie: self.start_session(&user).await?,
            clear_login_cookie: logins.cookie.clear(),
        })
    }
}

/// `return_to` if it is a path on this site, else `/`: never another site
/// (`//evil.example`, `/\evil.example`, `https://…`), so sign-in cannot be
/// used to send people elsewhere.
fn local_path(return_to: Option<&str>) -> &str {
    match return_to {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && path.len() <= MAX_RETURN_TO
                && !path.chars().any(|c| c.is_control()) =>
        {
            path
        }
        _ => "/",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_local_paths_are_returned_to() {
        for (given, kept) in [
            (Some("/jobs/1?x=2"), "/jobs/1?x=2"),
            (None, "/"),
            (Some("//evil.example"), "/"),
            (Some("/\\evil.example"), "/"),
            (Some("https://evil.example/"), "/"),
            (Some("/a\r\nSet-Cookie: x"), "/"),
        ] {
            assert_eq!(super::local_path(given), kept, "{given:?}");
        }
    }
}
