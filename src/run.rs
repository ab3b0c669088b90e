//! What the binary does for each command.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;

use crate::admin;
use crate::auth::principal::Role;
use crate::cli::{Cli, Command, DbArgs, DemoCommand, KeyCommand, TenantCommand};
use crate::db::{self, PoolSettings};
use crate::domain::calendar::SystemClock;
use crate::managed_pg::{self, ManagedPostgres};
use crate::server::tls::TlsSettings;
use crate::server::{Application, ServerSettings};
use crate::service::Services;

/// The tenant the first managed start creates, so a newcomer can call the API at once.
pub const DEMO_TENANT: &str = "demo";

/// The database a command works on, and the managed cluster behind it if there is one.
#[derive(Debug)]
pub struct Database {
    /// How to connect as the owner.
    pub options: PgConnectOptions,
    /// The managed cluster, stopped when this is dropped (if this process started it).
    pub managed: Option<ManagedPostgres>,
}

/// Connects to `DATABASE_URL`, or starts (or attaches to) the managed cluster.
pub async fn open_database(args: &DbArgs, own_cluster: bool) -> anyhow::Result<Database> {
    if let Some(url) = &args.database_url {
        let options: PgConnectOptions =
            url.parse().map_err(|e| anyhow::anyhow!("DATABASE_URL is not a valid PostgreSQL URL: {e}"))?;
        return Ok(Database { options, managed: None });
    }
    let cluster = ManagedPostgres::start(&args.data_dir, own_cluster)?;
    tracing::info!(url = %cluster.url(managed_pg::DATABASE), "using the managed PostgreSQL");
    let options = cluster.connect_options(managed_pg::DATABASE);
    db::ensure_database(&options, managed_pg::DATABASE).await?;
    Ok(Database { options, managed: Some(cluster) })
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None | Some(Command::Serve) => serve(&cli).await,
        Some(Command::Migrate) => {
            let database = open_database(&cli.db, false).await?;
            db::migrate(&database.options).await?;
            println!("migrations applied");
            Ok(())
        }
        Some(Command::Tenants(TenantCommand::Create { ref tenant, ref display_name })) => {
            let database = open_database(&cli.db, false).await?;
            let mut conn = db::operator_connection(&database.options).await?;
            if admin::create_tenant(&mut conn, tenant, display_name).await? {
                println!("created tenant {tenant}");
            } else {
                println!("tenant {tenant} already exists");
            }
            Ok(())
        }
        Some(Command::Keys(ref command)) => keys(&cli.db, command).await,
        Some(Command::Healthcheck) => healthcheck(cli.serve.listen).await,
        Some(Command::Demo(DemoCommand::Load { ref tenant })) => {
            let database = open_database(&cli.db, false).await?;
            let mut conn = db::operator_connection(&database.options).await?;
            admin::create_tenant(&mut conn, tenant, "Demo province").await?;
            if load_demo(&database.options, pool_settings(&cli.db), tenant).await? {
                println!("loaded plan {} into tenant {tenant}", crate::demo::PLAN_ID);
            } else {
                println!("the demo is already loaded in tenant {tenant}");
            }
            Ok(())
        }
    }
}

async fn healthcheck(listen: std::net::SocketAddr) -> anyhow::Result<()> {
    use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};
    // A server listening on every address is reached on loopback.
    let ip = if listen.ip().is_unspecified() { std::net::Ipv4Addr::LOCALHOST.into() } else { listen.ip() };
    let addr = std::net::SocketAddr::new(ip, listen.port());
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(2))
        .connect()
        .await?;
    let response = HealthClient::new(channel).check(HealthCheckRequest { service: String::new() }).await?;
    match response.into_inner().status() {
        ServingStatus::Serving => {
            println!("SERVING");
            Ok(())
        }
        other => anyhow::bail!("{addr} is {}", other.as_str_name()),
    }
}

async fn keys(args: &DbArgs, command: &KeyCommand) -> anyhow::Result<()> {
    let database = open_database(args, false).await?;
    let mut conn = db::operator_connection(&database.options).await?;
    match command {
        KeyCommand::Create { tenant, role, unit, description } => {
            let role =
                Role::parse(role).ok_or_else(|| anyhow::anyhow!("--role must be ADMIN, MONITOR, UNIT or READER"))?;
            let key = admin::create_key(&mut conn, tenant, role, unit.as_deref(), description).await?;
            println!("created key {} ({role}) for tenant {tenant}; it is shown only now:\n{}", key.key_id, key.text);
        }
        KeyCommand::List { tenant } => {
            println!(
                "{:<16} {:<18} {:<8} {:<20} {:<25} {:<8} description",
                "tenant", "key", "role", "unit", "created", "state"
            );
            for key in admin::list_keys(&mut conn, tenant.as_deref()).await? {
                println!(
                    "{:<16} {:<18} {:<8} {:<20} {:<25} {:<8} {}",
                    key.tenant_id,
                    key.key_id,
                    key.role,
                    key.unit_id.map(|u| format!("units/{u}")).unwrap_or_else(|| "-".into()),
                    key.create_time.format("%Y-%m-%d %H:%M:%S UTC"),
                    if key.revoke_time.is_some() { "revoked" } else { "active" },
                    key.description,
                );
            }
        }
        KeyCommand::Revoke { tenant, key_id } => {
            if admin::revoke_key(&mut conn, tenant, key_id).await? {
                println!("revoked key {key_id} of tenant {tenant}");
            } else {
                anyhow::bail!("no active key {key_id} in tenant {tenant}");
            }
        }
    }
    Ok(())
}

async fn serve(cli: &Cli) -> anyhow::Result<()> {
    let database = open_database(&cli.db, true).await?;
    if !cli.serve.no_migrate {
        db::migrate(&database.options).await?;
    }
    let first_key = if database.managed.is_some() {
        bootstrap_demo(&database.options, pool_settings(&cli.db)).await?
    } else {
        None
    };
    let settings = ServerSettings {
        listen: cli.serve.listen,
        database: database.options.clone(),
        pool: pool_settings(&cli.db),
        max_message_bytes: cli.serve.max_message_bytes,
        shutdown_timeout: Duration::from_secs(cli.serve.shutdown_timeout_secs),
        health_interval: Duration::from_secs(1),
        event_retention: Duration::from_secs(cli.serve.event_retention_days.saturating_mul(86_400)),
        reminder_interval: Some(cli.serve.reminder_interval_secs).filter(|s| *s > 0).map(Duration::from_secs),
        max_concurrent_calls: cli.serve.max_concurrent_calls.max(1),
        clock: Arc::new(SystemClock),
        metrics_listen: cli.serve.metrics_listen,
        cors_allowed_origins: cli.serve.cors_allowed_origins.clone(),
        tls: TlsSettings::from_files(
            cli.serve.tls_cert.as_ref(),
            cli.serve.tls_key.as_ref(),
            cli.serve.tls_client_ca.as_ref(),
        )?,
    };
    let app = Application::build(settings).await?;
    let addr = app.local_addr();
    tracing::info!(%addr, tls = cli.serve.tls_cert.is_some(), grpc_web = true, "serving gRPC");
    if let Some(metrics) = app.metrics_addr() {
        tracing::info!(%metrics, "serving Prometheus metrics at /metrics");
    }
    if let Some(key) = first_key {
        print_first_run_banner(&addr.to_string(), &key);
    }
    app.run_until(shutdown_signal()).await?;
    drop(database);
    Ok(())
}

fn pool_settings(args: &DbArgs) -> PoolSettings {
    PoolSettings { max_connections: args.pool_size, acquire_timeout: Duration::from_millis(args.acquire_timeout_ms) }
}

/// Loads the demo plan into `tenant` through the use cases; false if already there.
pub async fn load_demo(options: &PgConnectOptions, pool: PoolSettings, tenant: &str) -> anyhow::Result<bool> {
    let services = Services::connect(options, pool, Arc::new(SystemClock)).await?;
    let loaded = crate::demo::load(&services, tenant).await.map_err(|e| anyhow::anyhow!("loading the demo: {e:?}"))?;
    services.pool.close().await;
    Ok(loaded)
}

/// On the managed cluster's first start, creates the demo tenant with the Hậu Giang
/// plan and an admin key.
async fn bootstrap_demo(options: &PgConnectOptions, pool: PoolSettings) -> anyhow::Result<Option<String>> {
    let mut conn = db::operator_connection(options).await?;
    if !admin::create_tenant(&mut conn, DEMO_TENANT, "Demo province").await? {
        return Ok(None);
    }
    load_demo(options, pool, DEMO_TENANT).await?;
    let key = admin::create_key(&mut conn, DEMO_TENANT, Role::Admin, None, "first-run admin key").await?;
    Ok(Some(key.text))
}

fn print_first_run_banner(addr: &str, key: &str) {
    println!(
        "\nFirst start: created tenant \"{DEMO_TENANT}\" and its ADMIN API key. It is shown only this once:\n\n    {key}\n\n\
         It holds the Hau Giang plan 963/KH-UBND as demo data. Try it:\n\n    export FOLLOWUP_KEY={key}\n    \
         grpcurl -plaintext -H \"authorization: Bearer $FOLLOWUP_KEY\" -d '{{\"parent\": \"plans/kh-963-ubnd\"}}' \
         {addr} followup.v1.TaskService/ListTasks\n\n\
         Lost it? `cargo run -- keys create --tenant {DEMO_TENANT} --role ADMIN` makes another.\n"
    );
}

/// Completes on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => tracing::info!("received SIGINT"),
        () = terminate => tracing::info!("received SIGTERM"),
    }
}
