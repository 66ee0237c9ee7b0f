//! `tokio-postgres` adapter (feature `postgres`): checked versions of the `Client` methods that
//! take SQL text, the query checked as PostgreSQL reads it ([`Dialect::Postgres`]) before it is
//! sent:
//!
//! ```no_run
//! # async fn demo(client: &tokio_postgres::Client, category: &str) -> Result<(), sqreen::rasp::postgres::Error> {
//! use sqreen::rasp::postgres::CheckedClient;
//! // was: client.query(&format!(...), &[]).await?
//! let rows = client
//!     .query_checked(&format!("SELECT name FROM products WHERE category = '{category}'"), &[])
//!     .await?;
//! # let _ = rows;
//! # Ok(())
//! # }
//! ```
//!
//! Why `tokio-postgres` for the second driver (beside `rusqlite`): it is the PostgreSQL client
//! the async Rust web stacks use directly or underneath (`deadpool-postgres`, `bb8-postgres`),
//! its text-taking surface is small (`query`, `query_one`, `query_opt`, `execute`,
//! `batch_execute`, `simple_query`), and it keeps SQL text and bound parameters apart, which
//! is what the check relies on. `tokio_postgres::Error` cannot be built outside its crate, so
//! the methods return this module's [`Error`]: a refusal or the driver's error
//! (`From<tokio_postgres::Error>` for it lets `?` mix both). The check runs before the first
//! await, on the request's task, where the layer's context is.

use std::fmt;

use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row, SimpleQueryMessage};

use super::sql::Dialect;
use super::RaspError;

/// A checked call's failure: RASP refused the query (the layer answers the block page), or the
/// database did.
#[derive(Debug)]
pub enum Error {
    /// RASP refused the query.
    Blocked(RaspError),
    /// The driver's own error.
    Postgres(tokio_postgres::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Blocked(e) => e.fmt(f),
            Error::Postgres(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Blocked(e) => Some(e),
            Error::Postgres(e) => Some(e),
        }
    }
}

impl From<RaspError> for Error {
    fn from(e: RaspError) -> Self {
        Error::Blocked(e)
    }
}

impl From<tokio_postgres::Error> for Error {
    fn from(e: tokio_postgres::Error) -> Self {
        Error::Postgres(e)
    }
}

/// The parameters of a query, as `tokio-postgres` takes them.
pub type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// The checked methods (implemented for `tokio_postgres::Client`).
pub trait CheckedClient {
    /// `Client::query`, after [`super::check_sql`].
    fn query_checked(
        &self,
        sql: &str,
        params: Params<'_>,
    ) -> impl std::future::Future<Output = Result<Vec<Row>, Error>> + Send;
    /// `Client::query_one`, after [`super::check_sql`].
    fn query_one_checked(
        &self,
        sql: &str,
        params: Params<'_>,
    ) -> impl std::future::Future<Output = Result<Row, Error>> + Send;
    /// `Client::execute`, after [`super::check_sql`].
    fn execute_checked(
        &self,
        sql: &str,
        params: Params<'_>,
    ) -> impl std::future::Future<Output = Result<u64, Error>> + Send;
    /// `Client::batch_execute`, after [`super::check_sql`].
    fn batch_execute_checked(
        &self,
        sql: &str,
    ) -> impl std::future::Future<Output = Result<(), Error>> + Send;
    /// `Client::simple_query`, after [`super::check_sql`].
    fn simple_query_checked(
        &self,
        sql: &str,
    ) -> impl std::future::Future<Output = Result<Vec<SimpleQueryMessage>, Error>> + Send;
}

fn check(sql: &str) -> Result<(), Error> {
    super::check_sql(sql, Dialect::Postgres).map_err(Error::Blocked)
}

impl CheckedClient for Client {
    async fn query_checked(&self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, Error> {
        check(sql)?;
        Ok(self.query(sql, params).await?)
    }

    async fn query_one_checked(&self, sql: &str, params: Params<'_>) -> Result<Row, Error> {
        check(sql)?;
        Ok(self.query_one(sql, params).await?)
    }

    async fn execute_checked(&self, sql: &str, params: Params<'_>) -> Result<u64, Error> {
        check(sql)?;
        Ok(self.execute(sql, params).await?)
    }

    async fn batch_execute_checked(&self, sql: &str) -> Result<(), Error> {
        check(sql)?;
        Ok(self.batch_execute(sql).await?)
    }

    async fn simple_query_checked(&self, sql: &str) -> Result<Vec<SimpleQueryMessage>, Error> {
        check(sql)?;
        Ok(self.simple_query(sql).await?)
    }
}
