use async_graphql::{Context, ID, Object, SimpleObject};

use crate::error::AppResult;

/// The signed-in user.
#[derive(SimpleObject)]
#[graphql(name = "Viewer")]
pub struct ViewerNode {
    id: ID,
    login: String,
}

#[derive(Default)]
pub struct ViewerQuery;

#[Object]
impl ViewerQuery {
    /// Who the request acts for.
    async fn viewer(&self, ctx: &Context<'_>) -> AppResult<ViewerNode> {
        let viewer = super::viewer(ctx)?;
        Ok(ViewerNode { id: ID(viewer.user_id.clone()), login: viewer.login.clone() })
    }
}
