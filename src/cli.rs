//! The command line: `followup` serves; subcommands manage the database, tenants and keys.
//! Every setting is a flag with an environment variable of the same meaning.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::telemetry::LogFormat;

/// followup: follow up inspection conclusions over gRPC.
#[derive(Debug, Parser)]
#[command(name = "followup", version, about, long_about = None)]
pub struct Cli {
    /// Database connection and pool settings.
    #[command(flatten)]
    pub db: DbArgs,

    /// Log format: pretty (for a terminal) or json (for log collectors).
    #[arg(long, env = "FOLLOWUP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,

    /// Server settings (used when no subcommand, or `serve`, is given).
    #[command(flatten)]
    pub serve: ServeArgs,

    /// What to do; serving is the default.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Where the database is.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// PostgreSQL URL. When unset, followup runs its own PostgreSQL in --data-dir.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// Where the managed PostgreSQL keeps its files (used only without --database-url).
    #[arg(long, env = "FOLLOWUP_DATA_DIR", default_value = ".followup", global = true)]
    pub data_dir: PathBuf,

    /// The most database connections the service opens.
    #[arg(long, env = "FOLLOWUP_POOL_SIZE", default_value_t = crate::db::DEFAULT_POOL_SIZE, global = true)]
    pub pool_size: u32,

    /// How long a call waits for a free database connection before it fails with
    /// UNAVAILABLE, in milliseconds.
    #[arg(long, env = "FOLLOWUP_ACQUIRE_TIMEOUT_MS", default_value_t = 3000, global = true)]
    pub acquire_timeout_ms: u64,
}

/// How to serve.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// The address to serve gRPC on.
    #[arg(long, env = "FOLLOWUP_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,

    /// Do not apply pending migrations at start.
    #[arg(long, env = "FOLLOWUP_NO_MIGRATE")]
    pub no_migrate: bool,

    /// The largest request or response message, in bytes.
    #[arg(long, env = "FOLLOWUP_MAX_MESSAGE_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_message_bytes: usize,

    /// How long events are kept for watchers that resume, in days.
    #[arg(long, env = "FOLLOWUP_EVENT_RETENTION_DAYS", default_value_t = 30)]
    pub event_retention_days: u64,

    /// How often the reminder scheduler looks for due reminders, in seconds; 0 turns it
    /// off (for a replica that should not send reminders).
    #[arg(long, env = "FOLLOWUP_REMINDER_INTERVAL_SECS", default_value_t = 60)]
    pub reminder_interval_secs: u64,

    /// The most calls served at once; more are refused at once with RESOURCE_EXHAUSTED.
    #[arg(long, env = "FOLLOWUP_MAX_CONCURRENT_CALLS", default_value_t = 64)]
    pub max_concurrent_calls: usize,

    /// How long in-flight calls may finish after SIGTERM or Ctrl-C, in seconds.
    #[arg(long, env = "FOLLOWUP_SHUTDOWN_TIMEOUT_SECS", default_value_t = 20)]
    pub shutdown_timeout_secs: u64,

    /// Serve Prometheus metrics at http://<address>/metrics (e.g. 0.0.0.0:9464); off
    /// when unset.
    #[arg(long, env = "FOLLOWUP_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Browser origins allowed to call over gRPC-Web, comma-separated
    /// (e.g. https://portal.haugiang.gov.vn), or * for any; none when unset.
    #[arg(long, env = "FOLLOWUP_CORS_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub cors_allowed_origins: Vec<String>,

    /// PEM certificate chain for TLS on the gRPC port; plaintext when unset.
    #[arg(long, env = "FOLLOWUP_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for --tls-cert.
    #[arg(long, env = "FOLLOWUP_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// PEM CA certificate that client certificates must chain to: mutual TLS, callers
    /// without such a certificate are refused at the handshake.
    #[arg(long, env = "FOLLOWUP_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve gRPC (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Manage tenants (provinces).
    #[command(subcommand)]
    Tenants(TenantCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeyCommand),
    /// Demo data: the Hậu Giang plan 963/KH-UBND.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Ask the running server (at --listen) whether it is SERVING; exit 0 if so. For
    /// container health checks, where no other gRPC client is at hand.
    Healthcheck,
}

/// Tenant subcommands.
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant.
    Create {
        /// The tenant's ID: lowercase letters, digits and hyphens, e.g. can-tho.
        tenant: String,
        /// The province's name, e.g. "Thành phố Cần Thơ".
        #[arg(long, default_value = "")]
        display_name: String,
    },
}

/// Demo subcommands.
#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Load the Hậu Giang case (conclusion 146/KLTT-BTĐKT, plan 963/KH-UBND) into a tenant,
    /// creating the tenant if needed; does nothing if it is already loaded.
    Load {
        /// The tenant to load into.
        #[arg(long, default_value = "demo")]
        tenant: String,
    },
}

/// Key subcommands.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a key and print it once.
    Create {
        /// The tenant the key belongs to.
        #[arg(long)]
        tenant: String,
        /// ADMIN, MONITOR, UNIT or READER.
        #[arg(long)]
        role: String,
        /// The unit the key acts for (required for UNIT), e.g. units/so-noi-vu.
        #[arg(long)]
        unit: Option<String>,
        /// A note for operators: who holds the key.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List keys (never their secrets).
    List {
        /// Only this tenant's keys.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Revoke a key: it stops working at once.
    Revoke {
        /// The key's tenant.
        #[arg(long)]
        tenant: String,
        /// The key's id, as `keys list` shows it.
        key_id: String,
    },
}
