use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::cached::Cached;
use super::schema::{api_tokens, users};
use super::{ApiToken, Db, DbResult, User, db_run};

impl Db {
    pub async fn insert_token(&self, token: &ApiToken) -> DbResult<()> {
        db_run!(self, |conn| {
            diesel::insert_into(api_tokens::table).values(token).execute(conn).await?;
            Ok(())
        })
    }

    /// The unexpired token whose secret hashes to `secret_hash`, with its
    /// user: one lookup on a unique index, run for every bearer request.
    pub async fn find_live_token(&self, secret_hash: &str, now: NaiveDateTime) -> DbResult<Option<(ApiToken, User)>> {
        db_run!(self, |conn| {
            Ok(api_tokens::table
                .inner_join(users::table)
                .filter(api_tokens::secret_hash.eq(secret_hash))
                .filter(api_tokens::expires_at.is_null().or(api_tokens::expires_at.gt(now)))
                .select((ApiToken::as_select(), User::as_select()))
                .get_result(conn)
                .await
                .optional()?)
        })
    }

    /// Whether the token still exists and has not expired.
    pub async fn token_is_live(&self, id: &str, now: NaiveDateTime) -> DbResult<bool> {
        db_run!(self, |conn| {
            let found: Option<String> = api_tokens::table
                .filter(api_tokens::id.eq(id))
                .filter(api_tokens::expires_at.is_null().or(api_tokens::expires_at.gt(now)))
                .select(api_tokens::id)
                .get_result(conn)
                .await
                .optional()?;
            Ok(found.is_some())
        })
    }

    pub async fn touch_token(&self, id: &str, now: NaiveDateTime) -> DbResult<()> {
        db_run!(self, |conn| {
            Cached(diesel::update(api_tokens::table.find(id)).set(api_tokens::last_used_at.eq(now)))
                .execute(conn)
                .await?;
            Ok(())
        })
    }

    /// The user's tokens, newest first.
    pub async fn list_tokens(&self, user_id: &str) -> DbResult<Vec<ApiToken>> {
        db_run!(self, |conn| {
            Ok(api_tokens::table
                .filter(api_tokens::user_id.eq(user_id))
                .order((api_tokens::created_at.desc(), api_tokens::id.desc()))
                .select(ApiToken::as_select())
                .load(conn)
                .await?)
        })
    }

    /// Deletes the token if `user_id` owns it; true when it did.
    pub async fn delete_token(&self, user_id: &str, id: &str) -> DbResult<bool> {
        db_run!(self, |conn| {
            let deleted =
                diesel::delete(api_tokens::table.filter(api_tokens::id.eq(id).and(api_tokens::user_id.eq(user_id))))
                    .execute(conn)
                    .await?;
            Ok(deleted > 0)
        })
    }
}
