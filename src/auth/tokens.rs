//! API tokens: created, listed and revoked by their owner through GraphQL,
//! sent by scripts as `Authorization: Bearer <secret>`.

use chrono::{DateTime, Utc};

use super::{Auth, Credential, TOUCH_EVERY, Viewer, now, secret};
use crate::db::ApiToken;
use crate::error::{AppError, AppResult};

/// Every token secret starts with this.
const PREFIX: &str = "loupe_";
const MAX_NAME_CHARS: usize = 100;

/// A token just created, with the secret that is never shown again.
pub struct CreatedToken {
    pub token: ApiToken,
    pub secret: String,
}

impl Auth {
    pub async fn create_token(
        &self,
        viewer: &Viewer,
        name: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> AppResult<CreatedToken> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(AppError::BadUserInput(format!("a token's name is 1 to {MAX_NAME_CHARS} characters")));
        }
        let now = now();
        let expires_at = expires_at.map(|at| at.naive_utc());
        if expires_at.is_some_and(|at| at <= now) {
            return Err(AppError::BadUserInput("expiresAt must be in the future".into()));
        }
        let secret = secret::generate(PREFIX);
        let token = ApiToken {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: viewer.user_id.clone(),
            name: name.to_owned(),
            secret_hash: secret::hash(&secret),
            created_at: now,
            last_used_at: None,
            expires_at,
        };
        self.db.insert_token(&token).await?;
        Ok(CreatedToken { token, secret })
    }

    pub async fn list_tokens(&self, viewer: &Viewer) -> AppResult<Vec<ApiToken>> {
        Ok(self.db.list_tokens(&viewer.user_id).await?)
    }

    /// Revokes the viewer's token `id` and closes the websockets that use
    /// it; another user's token is NOT_FOUND, like a missing one.
    pub async fn revoke_token(&self, viewer: &Viewer, id: &str) -> AppResult<()> {
        if !self.db.delete_token(&viewer.user_id, id).await? {
            return Err(AppError::NotFound("API token"));
        }
        self.announce_revoked(Credential::Token(id.to_owned()));
        Ok(())
    }

    /// The token whose secret this is, as a viewer, if it holds; records its use now and then.
    pub(super) async fn token_viewer(&self, secret: &str) -> AppResult<Option<Viewer>> {
        let now = now();
        let Some((token, user)) = self.db.find_live_token(&secret::hash(secret), now).await? else {
            return Ok(None);
        };
        if token.last_used_at.is_none_or(|used| now - used > TOUCH_EVERY) {
            self.db.touch_token(&token.id, now).await?;
        }
        Ok(Some(Viewer::new(user, Credential::Token(token.id))))
    }
}
