//! GitHub: plain OAuth2 (no ID token), then its user API says who signed in.

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use serde::Deserialize;

use super::{Authorization, Identity, ProviderError, ProviderHttp};
use crate::config::ProviderConfig;

const AUTHORIZE_URL: &str = "https://github.com/login/oauth/authorize";
const TOKEN_URL: &str = "https://github.com/login/oauth/access_token";
const USER_URL: &str = "https://api.github.com/user";

pub struct GitHub {
    client: BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>,
    http: ProviderHttp,
}

#[derive(Deserialize)]
struct GitHubUser {
    id: u64,
    login: String,
    name: Option<String>,
    email: Option<String>,
    avatar_url: Option<String>,
}

impl GitHub {
    pub fn new(config: &ProviderConfig, http: ProviderHttp) -> GitHub {
        let client = BasicClient::new(ClientId::new(config.client_id.clone()))
            .set_client_secret(ClientSecret::new(config.client_secret.clone()))
            .set_auth_uri(AuthUrl::new(AUTHORIZE_URL.into()).expect("a valid URL"))
            .set_token_uri(TokenUrl::new(TOKEN_URL.into()).expect("a valid URL"));
        GitHub { client, http }
    }

    pub fn authorize(&self, redirect_url: &str) -> Result<Authorization, ProviderError> {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self
            .client
            .authorize_url(CsrfToken::new_random)
            .set_redirect_uri(std::borrow::Cow::Owned(redirect(redirect_url)?))
            .add_scope(Scope::new("read:user".into()))
            .add_scope(Scope::new("user:email".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Authorization {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: String::new(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    pub async fn identify(
        &self,
        redirect_url: &str,
        code: &str,
        pkce_verifier: &str,
    ) -> Result<Identity, ProviderError> {
        let token = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_redirect_uri(std::borrow::Cow::Owned(redirect(redirect_url)?))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| ProviderError::Refused(format!("the code was not accepted: {e}")))?;
        let user: GitHubUser = self
            .http
            .client()
            .get(USER_URL)
            .bearer_auth(token.access_token().secret())
            .header("accept", "application/vnd.github+json")
            .send()
            .await
            .and_then(|response| response.error_for_status())
            .map_err(|e| ProviderError::Unavailable(format!("GitHub's user API: {e}")))?
            .json()
            .await
            .map_err(|e| ProviderError::Unavailable(format!("GitHub's user API: {e}")))?;
        Ok(Identity {
            subject: user.id.to_string(),
            login: user.login,
            name: user.name,
            email: user.email,
            avatar_url: user.avatar_url,
        })
    }
}

fn redirect(url: &str) -> Result<RedirectUrl, ProviderError> {
    RedirectUrl::new(url.to_owned()).map_err(|e| ProviderError::Unavailable(e.to_string()))
}
