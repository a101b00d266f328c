//! Who is asking. A request carries one credential: a session cookie (a
//! browser signed in through a provider), an `Authorization: Bearer` API
//! token (a script), or none. [`Auth::resolve`] turns it into a [`Viewer`],
//! which is all resolvers ever know about authentication; the HTTP layer gets
//! it through the [`Authenticated`] extractor.
//!
//! With no sign-in provider configured, a request without a credential acts
//! as the one local user (`Config::validate` allows that only on loopback,
//! unless forced). A credential that was sent but does not hold never falls
//! back to that user: it is refused.
//!
//! Sessions and tokens are looked up in the database on every request (one
//! indexed query joining the user), so a revocation holds at once on every
//! instance for HTTP. Open websockets learn of revocations on their own
//! instance at once and re-check every `--auth-recheck-secs` otherwise.

mod extract;
mod login;
mod providers;
mod secret;
mod sessions;
mod tokens;

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use tokio::sync::broadcast;

use crate::config::Config;
use crate::db::{Db, User};
use crate::error::AppResult;

pub use extract::{Authenticated, bearer_token};
pub use login::{Callback, LoginError};
pub use providers::ProviderError;
pub use sessions::Cookie;
pub use tokens::CreatedToken;

/// The signed-in user a request acts for, and how it was authenticated.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub user_id: String,
    pub login: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub avatar_url: Option<String>,
    pub credential: Credential,
}

/// How a request proved who it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// No provider is configured: the one local user.
    Local,
    /// A browser session, by its id (the hash of the cookie's secret).
    Session(String),
    /// An API token, by its id.
    Token(String),
}

impl Viewer {
    /// The local user, as single-user mode serves every request.
    pub fn local() -> Viewer {
        Viewer::new(local_user(), Credential::Local)
    }

    fn new(user: User, credential: Credential) -> Viewer {
        Viewer {
            user_id: user.id,
            login: user.login,
            name: user.name,
            email: user.email,
            avatar_url: user.avatar_url,
            credential,
        }
    }
}

/// Activity is written back at most this often per session or token, so a
/// busy client costs one read per request, not a write too (sessions with a
/// short idle limit more often: see [`Auth::touch_every`]).
const TOUCH_EVERY: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// Sign-in state shared by every request. Cheap to clone.
#[derive(Clone)]
pub struct Auth {
    db: Db,
    /// Set when no provider is configured: who requests without a credential act as.
    local: Option<User>,
    session_idle: Duration,
    session_max: Duration,
    recheck: Duration,
    cookie: Cookie,
    login: Arc<login::Logins>,
    /// Credentials revoked on this instance, for its open websockets.
    revoked: broadcast::Sender<Credential>,
}

impl Auth {
    /// Sign-in for `config`; `local` is the stored local user, used only
    /// when no provider is configured.
    pub fn new(config: &Config, public_url: &str, db: Db, local: User) -> Auth {
        let local = config.single_user().then_some(local);
        if local.is_some() {
            if config.listen.ip().is_loopback() {
                tracing::info!("no sign-in provider configured: every request acts as the local user (dev mode)");
            } else {
                tracing::warn!(
                    listen = %config.listen,
                    "--insecure-single-user: no sign-in, and everyone who reaches this server acts as the local user"
                );
            }
        }
        Auth {
            db,
            local,
            session_idle: config.session_idle(),
            session_max: config.session_max(),
            recheck: config.auth_recheck(),
            cookie: Cookie::new(public_url, "loupe-session"),
            login: Arc::new(login::Logins::new(&config.providers, public_url)),
            revoked: broadcast::channel(64).0,
        }
    }

    /// Whether requests without a credential act as the local user (no provider configured).
    pub fn single_user(&self) -> bool {
        self.local.is_some()
    }

    /// The session cookie's name and attributes.
    pub fn cookie(&self) -> &Cookie {
        &self.cookie
    }

    /// Who a request acts for: by its bearer token if it sent one, else by
    /// its session cookie, else the local user when there is one. None when
    /// the credential does not hold (unknown, expired, revoked) or none was
    /// sent and sign-in is required.
    pub async fn resolve(&self, bearer: Option<&str>, session: Option<&str>) -> AppResult<Option<Viewer>> {
        if let Some(secret) = bearer {
            return self.token_viewer(secret).await;
        }
        if let Some(secret) = session {
            let viewer = self.session_viewer(&secret::hash(secret)).await?;
            // A stale cookie in single-user mode (sign-in was configured
            // before) is no credential at all.
            if viewer.is_some() || self.local.is_none() {
                return Ok(viewer);
            }
        }
        Ok(self.local.clone().map(|user| Viewer::new(user, Credential::Local)))
    }

    /// Resolves when `credential` no longer holds: revoked on this instance
    /// (at once), or found revoked or expired by a re-check. The local user
    /// never ends.
    pub async fn until_revoked(&self, credential: &Credential) {
        if *credential == Credential::Local {
            return std::future::pending().await;
        }
        let mut revoked = self.revoked.subscribe();
        let mut recheck = tokio::time::interval(self.recheck);
        recheck.tick().await;
        loop {
            tokio::select! {
                event = revoked.recv() => match event {
                    Ok(gone) if gone == *credential => return,
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        if !Box::pin(self.holds(credential)).await {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => {}
                },
                _ = recheck.tick() => {
                    if !Box::pin(self.holds(credential)).await {
                        return;
                    }
                }
            }
        }
    }

    /// Whether the credential is still good. A database failure keeps it:
    /// an outage should not close every socket, and the next check decides.
    /// Boxed where it is awaited: the queries' futures take kilobytes, and
    /// every open websocket waits in [`Auth::until_revoked`].
    async fn holds(&self, credential: &Credential) -> bool {
        let now = now();
        let held = match credential {
            Credential::Local => Ok(true),
            Credential::Session(id) => self.session_viewer(id).await.map(|viewer| viewer.is_some()),
            Credential::Token(id) => self.db.token_is_live(id, now).await.map_err(Into::into),
        };
        held.unwrap_or(true)
    }

    /// How stale a session's last activity may get before it is written
    /// back: a quarter of the idle limit at most, so an active session
    /// never reaches it.
    fn touch_every(&self) -> chrono::TimeDelta {
        let quarter = chrono::TimeDelta::from_std(self.session_idle / 4).unwrap_or(TOUCH_EVERY);
        quarter.min(TOUCH_EVERY)
    }

    fn announce_revoked(&self, credential: Credential) {
        // No receiver (no open socket) is fine.
        let _ = self.revoked.send(credential);
    }
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// The identity requests run as while no sign-in provider is configured.
pub fn local_user() -> User {
    User {
        id: "00000000-0000-0000-0000-000000000001".to_owned(),
        login: "local".to_owned(),
        name: Some("Local user".to_owned()),
        created_at: now(),
        provider: "local".to_owned(),
        subject: "00000000-0000-0000-0000-000000000001".to_owned(),
        email: None,
        avatar_url: None,
    }
}
