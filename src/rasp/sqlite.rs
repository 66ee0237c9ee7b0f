//! `rusqlite` adapter (feature `rusqlite`): checked versions of the `Connection` methods that
//! take SQL text, so adopting RASP is one line at each call site:
//!
//! ```
//! # fn main() -> rusqlite::Result<()> {
//! use sqreen::rasp::sqlite::CheckedConnection;
//! let conn = rusqlite::Connection::open_in_memory()?;
//! conn.execute_batch_checked("CREATE TABLE t (x TEXT)")?;
//! let category = "books";
//! // was: conn.prepare(&format!(...))?
//! let mut stmt = conn.prepare_checked(&format!("SELECT x FROM t WHERE x = '{category}'"))?;
//! # let _ = stmt.query([])?;
//! # Ok(())
//! # }
//! ```
//!
//! The methods return `rusqlite::Result`, so the surrounding error handling stays as it was: a
//! refused query is a `rusqlite::Error::ToSqlConversionFailure` (the one variant that carries any error without an optional feature) holding the [`RaspError`]
//! ([`blocked`] finds it), and the layer answers the request with the block page whatever the
//! handler makes of the error. The query is checked as SQLite reads it ([`Dialect::Sqlite`]).

use rusqlite::{Connection, Params, Row, Statement};

use super::sql::Dialect;
use super::RaspError;

/// The checked methods (implemented for `rusqlite::Connection`).
pub trait CheckedConnection {
    /// `Connection::prepare`, after [`super::check_sql`].
    fn prepare_checked(&self, sql: &str) -> rusqlite::Result<Statement<'_>>;
    /// `Connection::execute`, after [`super::check_sql`].
    fn execute_checked<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    /// `Connection::execute_batch`, after [`super::check_sql`].
    fn execute_batch_checked(&self, sql: &str) -> rusqlite::Result<()>;
    /// `Connection::query_row`, after [`super::check_sql`].
    fn query_row_checked<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>;
}

fn check(sql: &str) -> rusqlite::Result<()> {
    super::check_sql(sql, Dialect::Sqlite)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

impl CheckedConnection for Connection {
    fn prepare_checked(&self, sql: &str) -> rusqlite::Result<Statement<'_>> {
        check(sql)?;
        self.prepare(sql)
    }

    fn execute_checked<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        check(sql)?;
        self.execute(sql, params)
    }

    fn execute_batch_checked(&self, sql: &str) -> rusqlite::Result<()> {
        check(sql)?;
        self.execute_batch(sql)
    }

    fn query_row_checked<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    {
        check(sql)?;
        self.query_row(sql, params, f)
    }
}

/// The RASP refusal inside a `rusqlite::Error`, if it is one.
pub fn blocked(e: &rusqlite::Error) -> Option<&RaspError> {
    match e {
        rusqlite::Error::ToSqlConversionFailure(inner) => inner.downcast_ref::<RaspError>(),
        _ => None,
    }
}
