use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::schema::users;
use super::{Db, DbResult, User, db_run};

impl Db {
    /// Inserts the user unless one with the same id exists; returns the stored row.
    pub async fn ensure_user(&self, user: &User) -> DbResult<User> {
        db_run!(self, |conn| {
            diesel::insert_into(users::table).values(user).on_conflict(users::id).do_nothing().execute(conn).await?;
            Ok(users::table.find(&user.id).select(User::as_select()).first(conn).await?)
        })
    }
}
