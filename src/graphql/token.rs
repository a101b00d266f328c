use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::db::ApiToken;
use crate::error::AppResult;

/// An API token, for scripts: sent as `Authorization: Bearer <secret>`.
/// Its secret is shown once, when it is created.
pub struct ApiTokenNode(ApiToken);

#[Object(name = "ApiToken")]
impl ApiTokenNode {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at.and_utc()
    }

    /// When it last authenticated a request (to the minute).
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at.map(|at| at.and_utc())
    }

    /// Null: it never expires.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at.map(|at| at.and_utc())
    }
}

/// A new token and its secret, which is never shown again.
#[derive(SimpleObject)]
pub struct CreatedApiToken {
    token: ApiTokenNode,
    secret: String,
}

#[derive(InputObject)]
pub struct CreateApiTokenInput {
    /// What it is for, 1 to 100 characters.
    name: String,
    /// When it stops working; null: never.
    expires_at: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub struct ApiTokenQuery;

#[Object]
impl ApiTokenQuery {
    /// The viewer's API tokens, newest first (never their secrets).
    async fn api_tokens(&self, ctx: &Context<'_>) -> AppResult<Vec<ApiTokenNode>> {
        let tokens = super::app(ctx)?.auth.list_tokens(super::viewer(ctx)?).await?;
        Ok(tokens.into_iter().map(ApiTokenNode).collect())
    }
}

#[derive(Default)]
pub struct ApiTokenMutation;

#[Object]
impl ApiTokenMutation {
    /// Creates an API token; the answer holds its secret, shown only this once.
    async fn create_api_token(&self, ctx: &Context<'_>, input: CreateApiTokenInput) -> AppResult<CreatedApiToken> {
        let viewer = super::viewer(ctx)?;
        let created = super::app(ctx)?.auth.create_token(viewer, &input.name, input.expires_at).await?;
        Ok(CreatedApiToken { token: ApiTokenNode(created.token), secret: created.secret })
    }

    /// Revokes one of the viewer's API tokens: requests with it are refused
    /// from now on and subscriptions using it end. Returns its id.
    async fn revoke_api_token(&self, ctx: &Context<'_>, id: ID) -> AppResult<ID> {
        let viewer = super::viewer(ctx)?;
        let token_id = super::parse_id(&id, "API token")?;
        super::app(ctx)?.auth.revoke_token(viewer, &token_id).await?;
        Ok(ID(token_id))
    }
}
