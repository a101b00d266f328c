use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::cached::Cached;
use super::schema::{sessions, users};
use super::{Db, DbResult, Session, User, db_run};

impl Db {
    /// Stores a new session, and removes those past their absolute expiry
    /// (idle ones go when they reach it too), so the table does not grow
    /// with every sign-in.
    pub async fn insert_session(&self, session: &Session) -> DbResult<()> {
        db_run!(self, |conn| {
            diesel::delete(sessions::table.filter(sessions::expires_at.le(session.created_at))).execute(conn).await?;
            diesel::insert_into(sessions::table).values(session).execute(conn).await?;
            Ok(())
        })
    }

    /// The live session with this id and its user, in one indexed lookup
    /// (every request with a cookie runs it): live means before its absolute
    /// expiry and seen after `idle_since`.
    pub async fn find_live_session(
        &self,
        id: &str,
        now: NaiveDateTime,
        idle_since: NaiveDateTime,
    ) -> DbResult<Option<(Session, User)>> {
        db_run!(self, |conn| {
            Ok(sessions::table
                .inner_join(users::table)
                .filter(sessions::id.eq(id))
                .filter(sessions::expires_at.gt(now))
                .filter(sessions::last_seen_at.gt(idle_since))
                .select((Session::as_select(), User::as_select()))
                .get_result(conn)
                .await
                .optional()?)
        })
    }

    /// Records activity, which pushes the idle expiry back.
    pub async fn touch_session(&self, id: &str, now: NaiveDateTime) -> DbResult<()> {
        db_run!(self, |conn| {
            Cached(diesel::update(sessions::table.find(id)).set(sessions::last_seen_at.eq(now))).execute(conn).await?;
            Ok(())
        })
    }

    /// Ends the session; true when there was one.
    pub async fn delete_session(&self, id: &str) -> DbResult<bool> {
        db_run!(self, |conn| { Ok(diesel::delete(sessions::table.find(id)).execute(conn).await? > 0) })
    }
}
