//! Browser sessions: a random secret in a cookie, its hash in the database.

use axum::http::{HeaderMap, HeaderValue, header};

use super::{Auth, Credential, Viewer, now, secret};
use crate::db::{Session, User};
use crate::error::AppResult;

/// One of Loupe's cookies (the session's, a sign-in's state): `HttpOnly`
/// (scripts never see it), `SameSite=Lax` (not sent on cross-site
/// subrequests or POSTs, but on the provider's redirect back), `Path=/`.
/// Behind an HTTPS public URL it is also `Secure` with the `__Host-`
/// prefix, which browsers accept only from a secure origin without a
/// `Domain`, so no sibling subdomain can set or shadow it; browsers refuse
/// that prefix over plain HTTP, so a loopback install uses the plain name.
#[derive(Clone, Debug)]
pub struct Cookie {
    name: String,
    secure: bool,
}

impl Cookie {
    pub fn new(public_url: &str, name: &str) -> Cookie {
        let secure = public_url.to_ascii_lowercase().starts_with("https://");
        Cookie { name: if secure { format!("__Host-{name}") } else { name.to_owned() }, secure }
    }

    /// The cookie's value in a request, if it sent one.
    pub fn read<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == self.name.as_str())
            .map(|(_, value)| value.trim_matches('"'))
            .filter(|value| !value.is_empty())
    }

    /// `Set-Cookie` for a value that lasts at most `max_age` seconds.
    pub fn set(&self, secret: &str, max_age: u64) -> HeaderValue {
        self.header(secret, max_age)
    }

    /// `Set-Cookie` that removes the cookie.
    pub fn clear(&self) -> HeaderValue {
        self.header("", 0)
    }

    fn header(&self, value: &str, max_age: u64) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
            self.name
        ))
        .expect("a cookie of hex digits is a valid header")
    }
}

impl Auth {
    /// Signs `user` in: stores a new session and returns its `Set-Cookie`.
    pub async fn start_session(&self, user: &User) -> AppResult<HeaderValue> {
        let secret = secret::generate("");
        let now = now();
        let session = Session {
            id: secret::hash(&secret),
            user_id: user.id.clone(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + self.session_max,
        };
        self.db.insert_session(&session).await?;
        Ok(self.cookie.set(&secret, self.session_max.as_secs()))
    }

    /// Signs the session the request carries out (if it has one) and tells
    /// this instance's websockets of it; returns the `Set-Cookie` that
    /// removes the cookie.
    pub async fn end_session(&self, headers: &HeaderMap) -> AppResult<HeaderValue> {
        if let Some(secret) = self.cookie.read(headers) {
            let id = secret::hash(secret);
            self.db.delete_session(&id).await?;
            self.announce_revoked(Credential::Session(id));
        }
        Ok(self.cookie.clear())
    }

    /// The live session `id` as a viewer; records activity now and then.
    pub(super) async fn session_viewer(&self, id: &str) -> AppResult<Option<Viewer>> {
        let now = now();
        let Some((session, user)) = self.db.find_live_session(id, now, now - self.session_idle).await? else {
            return Ok(None);
        };
        if now - session.last_seen_at > self.touch_every() {
            self.db.touch_session(id, now).await?;
        }
        Ok(Some(Viewer::new(user, Credential::Session(session.id))))
    }
}
