//! The store layer: all SQL lives here. Functions take a connection or transaction; the
//! caller owns begin and commit, so one use case is one transaction.

pub mod audit;
pub mod conclusions;
pub mod events;
pub mod idempotency;
pub mod keys;
pub mod notifications;
pub mod plans;
pub mod progress;
pub mod reminders;
pub mod reports;
pub mod secrets;
pub mod tasks;
pub mod tenants;
pub mod units;

use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres, Transaction};

/// A transaction scoped to one tenant.
pub type Tx = Transaction<'static, Postgres>;

/// What went wrong in the database, classified by what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or the pool has no free connection: retry later.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// A unique constraint refused the write.
    #[error("unique constraint {constraint} violated")]
    UniqueViolation {
        /// The constraint or unique index name.
        constraint: String,
    },
    /// A foreign key refused the write.
    #[error("foreign key {constraint} violated")]
    ForeignKeyViolation {
        /// The constraint name.
        constraint: String,
    },
    /// The statement ran past its time limit and was cancelled.
    #[error("statement cancelled: {0}")]
    Cancelled(#[source] sqlx::Error),
    /// A serialization failure or deadlock: the transaction can be retried.
    #[error("transaction conflict: {0}")]
    Conflict(#[source] sqlx::Error),
    /// Anything else: a bug or a schema mismatch.
    #[error(transparent)]
    Other(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        use sqlx::Error as E;
        match &error {
            E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::Tls(_) | E::WorkerCrashed => StoreError::Unavailable(error),
            E::Database(db) => {
                let code = db.code().unwrap_or_default().into_owned();
                let constraint = db.constraint().unwrap_or_default().to_owned();
                match code.as_str() {
                    "23505" => StoreError::UniqueViolation { constraint },
                    "23503" => StoreError::ForeignKeyViolation { constraint },
                    "57014" => StoreError::Cancelled(error),
                    "40001" | "40P01" => StoreError::Conflict(error),
                    // Connection exceptions, shutdown in progress, cannot connect now,
                    // too many connections.
                    c if c.starts_with("08") || c.starts_with("57P") || c == "53300" => StoreError::Unavailable(error),
                    _ => StoreError::Other(error),
                }
            }
            _ => StoreError::Other(error),
        }
    }
}

/// The statement timeout of a transaction whose caller set no deadline: long enough for
/// any legitimate query, short enough that a runaway one cannot hold a connection.
pub(crate) const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

/// Begins a transaction in which row-level security admits only `tenant`'s rows, and
/// statements stop when the caller's gRPC deadline passes.
///
/// Both settings are transaction-local, so a pooled connection never carries one
/// caller's tenant or deadline into another's transaction.
pub async fn begin(pool: &PgPool, tenant: &str) -> Result<Tx, StoreError> {
    begin_planned(pool, tenant, Planning::PerCall).await
}

/// How the statements of a transaction are planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planning {
    /// PostgreSQL's own choice, which for most statements means planning each call
    /// for its values.
    PerCall,
    /// Each statement planned once per connection and the plan reused: for queries whose
    /// best plan depends on which filters are present but not on their values, where
    /// planning costs more than running (a page of one plan's tasks).
    Reused,
}

/// [`begin`], with the transaction's statements planned as `planning` says.
pub async fn begin_planned(pool: &PgPool, tenant: &str, planning: Planning) -> Result<Tx, StoreError> {
    let timeout = statement_timeout();
    // 0 would mean "no timeout" to PostgreSQL: a caller already out of time gets 1 ms.
    let millis = timeout.as_millis().clamp(1, u128::from(u32::MAX));
    bounded_wait(timeout, pool.begin_with(begin_statement(tenant, millis, planning))).await
}

/// `BEGIN` and the transaction's settings in one round trip. Two statements at once need
/// the simple-query protocol, which takes no parameters, so the tenant goes in as a
/// quoted literal (it is an ID, and quoted whatever it holds).
fn begin_statement(tenant: &str, timeout_ms: u128, planning: Planning) -> String {
    let plans = match planning {
        Planning::PerCall => "",
        Planning::Reused => ", set_config('plan_cache_mode', 'force_generic_plan', true)",
    };
    format!(
        "begin; select set_config('followup.tenant_id', {}, true), set_config('statement_timeout', '{timeout_ms}', true){plans}",
        quote_literal(tenant)
    )
}

/// `text` as an escape-string literal: its meaning does not depend on
/// `standard_conforming_strings`.
fn quote_literal(text: &str) -> String {
    format!("E'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// A connection for one statement that scopes itself to its tenant (a read in one round
/// trip); the caller's deadline bounds the wait for it as in [`begin`].
pub async fn connection(pool: &PgPool) -> Result<PoolConnection<Postgres>, StoreError> {
    bounded_wait(statement_timeout(), pool.acquire()).await
}

/// What is left of the caller's deadline, capped at the default statement timeout.
fn statement_timeout() -> Duration {
    match crate::server::deadline::current() {
        Some(deadline) => deadline.saturating_duration_since(Instant::now()).min(DEFAULT_STATEMENT_TIMEOUT),
        None => DEFAULT_STATEMENT_TIMEOUT,
    }
}

/// Waits for a pooled connection, counted while it waits. While the database is
/// unreachable the pool keeps retrying its connection until its acquire timeout; a
/// caller with a deadline is told UNAVAILABLE before that deadline instead of having its
/// call cut off with nothing to go on.
async fn bounded_wait<T>(
    timeout: Duration,
    acquire: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, StoreError> {
    let _waiting = Waiting::start();
    if crate::server::deadline::current().is_none() {
        return Ok(acquire.await?);
    }
    Ok(tokio::time::timeout(acquire_budget(timeout), acquire)
        .await
        .map_err(|_| StoreError::Unavailable(sqlx::Error::PoolTimedOut))??)
}

/// Calls waiting for a database connection right now, in this process (a metric: a
/// process serves one application).
static WAITING_FOR_CONNECTION: AtomicI64 = AtomicI64::new(0);

/// How many calls wait for a database connection now.
pub fn waiting_for_connection() -> i64 {
    WAITING_FOR_CONNECTION.load(Ordering::Relaxed)
}

/// Counts one wait for a connection while it lives (a caller that goes away drops it).
struct Waiting;

impl Waiting {
    fn start() -> Self {
        WAITING_FOR_CONNECTION.fetch_add(1, Ordering::Relaxed);
        Self
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        WAITING_FOR_CONNECTION.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How long to wait for a connection when `remaining` is left of the caller's deadline:
/// most of it, keeping a margin to send the answer in.
fn acquire_budget(remaining: Duration) -> Duration {
    let margin = (remaining / 10).max(Duration::from_millis(20));
    remaining.saturating_sub(margin)
}

/// Commits `tx`.
pub async fn commit(tx: Tx) -> Result<(), StoreError> {
    Ok(tx.commit().await?)
}

/// `%text%` with LIKE's own metacharacters escaped, so a search for `50%` means 50%.
pub(crate) fn like_pattern(text: &str) -> String {
    format!("%{}%", escape_like(text))
}

/// `text` with LIKE's metacharacters escaped (for `escape '\\'`).
pub(crate) fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{acquire_budget, like_pattern, quote_literal};

    #[test]
    fn a_literal_holds_whatever_text_it_is_given() {
        assert_eq!(quote_literal("hau-giang"), "E'hau-giang'");
        assert_eq!(quote_literal(r"x'; drop table tasks; --\"), r"E'x\'; drop table tasks; --\\'");
    }

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(like_pattern(r"50%_a\b"), r"%50\%\_a\\b%");
    }

    #[test]
    fn the_connection_wait_leaves_time_to_answer_before_the_deadline() {
        assert_eq!(acquire_budget(Duration::from_secs(1)), Duration::from_millis(900));
        assert_eq!(acquire_budget(Duration::from_millis(100)), Duration::from_millis(80));
        assert_eq!(acquire_budget(Duration::from_millis(10)), Duration::ZERO);
    }
}
