use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;

use super::schema::users;
use super::{Db, DbResult, User, db_run};

impl Db {
    /// Inserts the user unless one with the same id exists; returns the stored row.
    pub async fn ensure_user(&self, user: &User) -> DbResult<User> {
        db_run!(self, |conn| {
            diesel::insert_into(users::table).values(user).on_conflict(users::id).do_nothing().execute(conn).await?;
            Ok(users::table.find(&user.id).select(User::as_select()).get_result(conn).await?)
        })
    }

    /// The user with `user`'s provider and subject, created from `user` the
    /// first time; later sign-ins refresh what the provider says (login,
    /// name, email, avatar) and keep the id.
    pub async fn upsert_identity(&self, user: &User) -> DbResult<User> {
        db_run!(self, |conn| {
            diesel::insert_into(users::table)
                .values(user)
                .on_conflict((users::provider, users::subject))
                .do_update()
                .set((
                    users::login.eq(excluded(users::login)),
                    users::name.eq(excluded(users::name)),
                    users::email.eq(excluded(users::email)),
                    users::avatar_url.eq(excluded(users::avatar_url)),
                ))
                .execute(conn)
                .await?;
            Ok(users::table
                .filter(users::provider.eq(&user.provider).and(users::subject.eq(&user.subject)))
                .select(User::as_select())
                .get_result(conn)
                .await?)
        })
    }
}
