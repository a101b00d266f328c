use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::schema::login_attempts;
use super::{Db, DbResult, LoginAttempt, db_run};

impl Db {
    /// Records a sign-in under way, and forgets those started before
    /// `stale_before` (abandoned at the provider).
    pub async fn insert_login_attempt(&self, attempt: &LoginAttempt, stale_before: NaiveDateTime) -> DbResult<()> {
        db_run!(self, |conn| {
            diesel::delete(login_attempts::table.filter(login_attempts::created_at.lt(stale_before)))
                .execute(conn)
                .await?;
            diesel::insert_into(login_attempts::table).values(attempt).execute(conn).await?;
            Ok(())
        })
    }

    /// Takes the attempt: deletes it and returns it if it was there, for
    /// `provider` and started after `stale_before`. Only one callback can
    /// take an attempt, however many race.
    pub async fn take_login_attempt(
        &self,
        id: &str,
        provider: &str,
        stale_before: NaiveDateTime,
    ) -> DbResult<Option<LoginAttempt>> {
        db_run!(self, |conn| {
            let taken: Option<LoginAttempt> = diesel::delete(login_attempts::table.find(id))
                .returning(LoginAttempt::as_returning())
                .get_result(conn)
                .await
                .optional()?;
            Ok(taken.filter(|attempt| attempt.provider == provider && attempt.created_at >= stale_before))
        })
    }
}
