//! An OpenID Connect provider, found by discovery from its issuer URL.
//! The ID token's signature is checked against the provider's JWKS and its
//! issuer, audience, expiry and nonce against the sign-in; the `openidconnect`
//! crate does the checking.

use std::time::{Duration, Instant};

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use tokio::sync::Mutex;

use super::{Authorization, Identity, ProviderError, ProviderHttp};
use crate::config::ProviderConfig;

/// A signature that fails against the cached keys refetches them (the
/// provider may have rotated its keys), but at most once in this long:
/// forged tokens must not make Loupe hammer the provider.
const MIN_REFRESH: Duration = Duration::from_secs(30);

pub struct Oidc {
    issuer: String,
    client_id: ClientId,
    client_secret: ClientSecret,
    http: ProviderHttp,
    /// Discovery (with the JWKS), fetched at the first sign-in, so a
    /// provider that is down at start does not stop Loupe.
    metadata: Mutex<Cached>,
}

#[derive(Default)]
struct Cached {
    metadata: Option<CoreProviderMetadata>,
    /// When a failed signature last refetched the keys.
    refreshed: Option<Instant>,
}

impl Oidc {
    pub fn new(issuer: &str, config: &ProviderConfig, http: ProviderHttp) -> Oidc {
        Oidc {
            issuer: issuer.to_owned(),
            client_id: ClientId::new(config.client_id.clone()),
            client_secret: ClientSecret::new(config.client_secret.clone()),
            http,
            metadata: Mutex::new(Cached::default()),
        }
    }

    pub async fn authorize(&self, redirect_url: &str) -> Result<Authorization, ProviderError> {
        let client = self.client(self.metadata(false).await?, redirect_url)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Authorization {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    pub async fn identify(
        &self,
        redirect_url: &str,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<Identity, ProviderError> {
        let client = self.client(self.metadata(false).await?, redirect_url)?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| ProviderError::Unavailable(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| ProviderError::Refused(format!("the code was not accepted: {e}")))?;
        let id_token = response.id_token().ok_or_else(|| ProviderError::Refused("no ID token".into()))?;
        let nonce = Nonce::new(nonce.to_owned());
        let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Err(ClaimsVerificationError::SignatureVerification(_)) => {
                let client = self.client(self.metadata(true).await?, redirect_url)?;
                id_token.claims(&client.id_token_verifier(), &nonce).cloned()
            }
            checked => checked.cloned(),
        }
        .map_err(|e| ProviderError::Refused(format!("the ID token does not hold: {e}")))?;
        let subject = claims.subject().as_str().to_owned();
        let email = claims.email().map(|email| email.as_str().to_owned());
        Ok(Identity {
            login: claims
                .preferred_username()
                .map(|name| name.as_str().to_owned())
                .or_else(|| email.clone())
                .unwrap_or_else(|| subject.clone()),
            name: claims.name().and_then(|name| name.get(None)).map(|name| name.as_str().to_owned()),
            avatar_url: claims.picture().and_then(|picture| picture.get(None)).map(|url| url.as_str().to_owned()),
            email,
            subject,
        })
    }

    fn client(
        &self,
        metadata: CoreProviderMetadata,
        redirect_url: &str,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        ProviderError,
    > {
        let redirect =
            RedirectUrl::new(redirect_url.to_owned()).map_err(|e| ProviderError::Unavailable(e.to_string()))?;
        Ok(CoreClient::from_provider_metadata(metadata, self.client_id.clone(), Some(self.client_secret.clone()))
            .set_redirect_uri(redirect))
    }

    /// The provider's metadata and keys: cached, or discovered when there
    /// are none yet or `refresh` asks (unless a refresh was just done).
    async fn metadata(&self, refresh: bool) -> Result<CoreProviderMetadata, ProviderError> {
        let mut cached = self.metadata.lock().await;
        let recently = cached.refreshed.is_some_and(|at| at.elapsed() < MIN_REFRESH);
        if let Some(metadata) = &cached.metadata
            && (!refresh || recently)
        {
            return Ok(metadata.clone());
        }
        let issuer = IssuerUrl::new(self.issuer.clone()).map_err(|e| ProviderError::Unavailable(e.to_string()))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| ProviderError::Unavailable(format!("discovery at {} failed: {e}", self.issuer)))?;
        cached.metadata = Some(metadata.clone());
        if refresh {
            cached.refreshed = Some(Instant::now());
        }
        Ok(metadata)
    }
}
