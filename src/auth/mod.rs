//! Who is asking. Every resolver receives a [`Viewer`] from the request
//! context; until OAuth2 sign-in lands, every request runs as one local
//! identity, created at start.

use crate::db::User;

/// The signed-in user a request acts for.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub user_id: String,
    pub login: String,
}

impl From<&User> for Viewer {
    fn from(user: &User) -> Viewer {
        Viewer { user_id: user.id.clone(), login: user.login.clone() }
    }
}

/// The identity requests run as while no sign-in provider is configured.
pub fn local_user() -> User {
    User {
        id: "00000000-0000-0000-0000-000000000001".to_owned(),
        login: "local".to_owned(),
        name: Some("Local user".to_owned()),
        created_at: chrono::Utc::now().naive_utc(),
    }
}
