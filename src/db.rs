//! Connecting to PostgreSQL: the migrator, the operator's connection and the
//! application's pool.

use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, PgConnection, PgPool};

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How long a pooled connection may sit idle before it is checked on its way out.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(1);

/// Connections a pool opens unless told otherwise: about four per core of a small
/// database server. On 2 cores, 16 connections made reads' tails worse (GetTask p99 5.3
/// and 6.6 ms against 3.9 and 4.1 ms at 8) with no gain in writes; see BENCHMARKS.md.
pub const DEFAULT_POOL_SIZE: u32 = 8;

/// Pool settings.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    /// The most connections the pool opens.
    pub max_connections: u32,
    /// How long a call waits for a free connection before it gets UNAVAILABLE.
    pub acquire_timeout: Duration,
}

/// Creates `database` on the server behind `options` if it does not exist yet (the
/// managed cluster's first start).
pub async fn ensure_database(options: &PgConnectOptions, database: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect_with(&options.clone().database("postgres")).await?;
    let exists: bool = sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
        .bind(database)
        .fetch_one(&mut conn)
        .await?;
    if !exists {
        // Identifiers cannot be bound; the name is ours, not a caller's.
        conn.execute(format!("create database \"{}\"", database.replace('"', "\"\"")).as_str()).await?;
    }
    conn.close().await?;
    Ok(())
}

/// Applies pending migrations, as the connecting (owner) role.
pub async fn migrate(options: &PgConnectOptions) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect_with(options).await?;
    MIGRATOR.run(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

/// A connection as the owner role, for operators' commands: row-level security does not
/// bind it, so it can manage every tenant.
pub async fn operator_connection(options: &PgConnectOptions) -> anyhow::Result<PgConnection> {
    Ok(PgConnection::connect_with(options).await?)
}

/// The application's pool. Every session switches to the `followup_app` role, so the
/// tenant policies bind it whatever role the URL names.
///
/// The pool connects lazily: the service starts, and reports NOT_SERVING, while the
/// database is down, and recovers without a restart when it returns.
pub fn app_pool(options: &PgConnectOptions, settings: PoolSettings) -> PgPool {
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        // sqlx pings every connection it hands out, a round trip as costly as a small
        // query; a busy pool's connections were in use a moment ago, so only one idle
        // long enough to have been cut off (a database restart) is checked. A broken
        // connection that slips through fails its call as UNAVAILABLE and is dropped.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= CHECK_AFTER_IDLE {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute("set role followup_app").await?;
                // Transactions set their own timeout from the caller's deadline; this one
                // bounds the statements that run alone (GetTask's read).
                let timeout = crate::store::DEFAULT_STATEMENT_TIMEOUT.as_millis();
                conn.execute(format!("set statement_timeout = {timeout}").as_str()).await?;
                Ok(())
            })
        })
        .connect_lazy_with(options.clone())
}
