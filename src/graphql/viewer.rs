use async_graphql::{Context, Enum, ID, Object, SimpleObject};

use crate::auth::Credential;
use crate::error::AppResult;

/// The signed-in user.
#[derive(SimpleObject)]
#[graphql(name = "Viewer")]
pub struct ViewerNode {
    id: ID,
    /// The user name at their sign-in provider.
    login: String,
    name: Option<String>,
    email: Option<String>,
    avatar_url: Option<String>,
    /// How this request was authenticated.
    authenticated_by: AuthenticatedBy,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum AuthenticatedBy {
    /// No sign-in provider is configured: everyone is the local user.
    Local,
    Session,
    ApiToken,
}

#[derive(Default)]
pub struct ViewerQuery;

#[Object]
impl ViewerQuery {
    /// Who the request acts for; UNAUTHENTICATED without a session or token.
    async fn viewer(&self, ctx: &Context<'_>) -> AppResult<ViewerNode> {
        let viewer = super::viewer(ctx)?;
        Ok(ViewerNode {
            id: ID(viewer.user_id.clone()),
            login: viewer.login.clone(),
            name: viewer.name.clone(),
            email: viewer.email.clone(),
            avatar_url: viewer.avatar_url.clone(),
            authenticated_by: match viewer.credential {
                Credential::Local => AuthenticatedBy::Local,
                Credential::Session(_) => AuthenticatedBy::Session,
                Credential::Token(_) => AuthenticatedBy::ApiToken,
            },
        })
    }
}
