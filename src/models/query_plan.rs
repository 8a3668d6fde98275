//! SQLite's query plans, for tests that check a query reads by index: the query as diesel
//! writes it, planned with its binds (SQLite does not read bound values while planning, so
//! a plan made with literals could use an index the real query cannot).

use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, QueryFragment, SqlQuery};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;

use crate::db::DbConnection;

#[derive(QueryableByName)]
struct Step {
    #[diesel(sql_type = Text)]
    detail: String,
}

/// A migrated SQLite database in a temporary folder.
pub fn database() -> (tempfile::TempDir, crate::db::Db) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = crate::db::DatabaseUrl::parse(&dir.path().join("plan.db").display().to_string())
        .expect("URL");
    let db = crate::db::Db::connect(&url, 1).expect("connect");
    db.migrate().expect("migrate");
    (dir, db)
}

/// SQLite's plan for `query`, its binds given by `bind` in order: one line a step.
pub fn plan<Q>(
    conn: &mut DbConnection,
    query: &Q,
    bind: impl FnOnce(
        BoxedSqlQuery<'static, Sqlite, SqlQuery>,
    ) -> BoxedSqlQuery<'static, Sqlite, SqlQuery>,
) -> Vec<String>
where
    Q: QueryFragment<Sqlite>,
{
    let sql = diesel::debug_query::<Sqlite, _>(query).to_string();
    let sql = sql.split(" -- binds").next().expect("SQL").to_owned();
    let DbConnection::Sqlite(sqlite) = conn else {
        panic!("a SQLite connection")
    };
    bind(diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}")).into_boxed())
        .load::<Step>(sqlite)
        .expect("plan")
        .into_iter()
        .map(|step| step.detail)
        .collect()
}
