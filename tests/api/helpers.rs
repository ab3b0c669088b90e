//! The test harness: a real server on port 0, a real tonic client, and a fresh database
//! per test, cloned from a migrated template.
//!
//! Without `DATABASE_URL`, one throwaway PostgreSQL cluster serves the whole test run
//! (in `target/test-pg`, started by a thread that lives as long as the run, so the
//! cluster stops when the run ends). With `DATABASE_URL`, that server is used instead.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use followup::admin;
use followup::api::proto::followup::v1::unit_service_client::UnitServiceClient;
use followup::auth::principal::Role;
use followup::db::{self, PoolSettings};
use followup::domain::calendar::ManualClock;
use followup::managed_pg::ManagedPostgres;
use followup::server::{Application, ServerSettings};
use followup::service::Services;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Executor, PgConnection};
use tokio::sync::oneshot;
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;

struct TestCluster {
    admin: PgConnectOptions,
    template: String,
}

static CLUSTER: OnceLock<TestCluster> = OnceLock::new();

/// Starts (once per run) the cluster and migrates a template database.
fn cluster() -> &'static TestCluster {
    CLUSTER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        // A thread outside any tokio runtime, alive for the whole run: it owns the
        // cluster, whose server stops when this thread (the process) ends.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let (admin, managed, template) = match std::env::var("DATABASE_URL") {
                Ok(url) => (
                    url.parse::<PgConnectOptions>().expect("DATABASE_URL"),
                    None,
                    format!("followup_template_{}", std::process::id()),
                ),
                Err(_) => {
                    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("test-pg");
                    let cluster = ManagedPostgres::start_throwaway(&root).expect("start the test PostgreSQL");
                    (cluster.connect_options("postgres"), Some(cluster), "followup_template".to_owned())
                }
            };
            runtime.block_on(prepare_template(&admin, &template, managed.is_some()));
            tx.send(TestCluster { admin, template }).unwrap();
            let _keep = managed;
            loop {
                std::thread::park();
            }
        });
        rx.recv().expect("test cluster setup failed; see the panic above")
    })
}

async fn prepare_template(admin: &PgConnectOptions, template: &str, sweep_old: bool) {
    let mut conn = PgConnection::connect_with(admin).await.expect("connect to the test PostgreSQL");
    if sweep_old {
        // Databases left by earlier runs of this private cluster.
        let old: Vec<String> = sqlx::query_scalar("select datname from pg_database where datname like 'test\\_%'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        for name in old {
            conn.execute(format!("drop database if exists \"{name}\" with (force)").as_str()).await.unwrap();
        }
    }
    conn.execute(format!("drop database if exists \"{template}\" with (force)").as_str()).await.unwrap();
    conn.execute(format!("create database \"{template}\"").as_str()).await.unwrap();
    db::migrate(&admin.clone().database(template)).await.expect("migrate the template");
}

/// A fresh database cloned from the migrated template.
pub async fn fresh_database() -> PgConnectOptions {
    let cluster = cluster();
    let name = format!("test_{}", Uuid::new_v4().simple());
    let mut conn = PgConnection::connect_with(&cluster.admin).await.unwrap();
    conn.execute(format!("create database \"{name}\" template \"{}\"", cluster.template).as_str()).await.unwrap();
    cluster.admin.clone().database(&name)
}

/// A fresh database, as a URL for the `followup` binary.
pub async fn fresh_database_url() -> String {
    let options = fresh_database().await;
    let database = options.get_database().expect("a database name").to_owned();
    match std::env::var("DATABASE_URL") {
        Ok(url) => {
            // Same server and credentials, other database.
            let (base, query) = url.split_once('?').map_or((url.as_str(), None), |(b, q)| (b, Some(q)));
            let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
            format!("{server}/{database}{}", query.map(|q| format!("?{q}")).unwrap_or_default())
        }
        Err(_) => {
            let socket = options.get_socket().expect("the managed cluster listens on a socket").display().to_string();
            format!(
                "postgres://{}@localhost/{database}?host={socket}&port={}",
                options.get_username(),
                options.get_port()
            )
        }
    }
}

/// Sends `authorization: Bearer <key>` with every call.
#[derive(Clone)]
pub struct Bearer(Option<MetadataValue<tonic::metadata::Ascii>>);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request.metadata_mut().insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// A client of UnitService that authenticates with a key.
pub type UnitClient = UnitServiceClient<InterceptedService<Channel, Bearer>>;

/// A running server and its database.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Where it serves metrics, if it does.
    pub metrics_addr: Option<SocketAddr>,
    /// Its database, as the owner.
    pub db: PgConnectOptions,
    /// Its clock.
    pub clock: Arc<ManualClock>,
    channel: Channel,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// The instant tests start at unless they set another: 2026-03-02 10:00 in Vietnam.
pub fn default_now() -> DateTime<Utc> {
    "2026-03-02T03:00:00Z".parse().unwrap()
}

/// Settings for a test server on `database`.
pub fn settings(database: PgConnectOptions, clock: Arc<ManualClock>) -> ServerSettings {
    ServerSettings {
        listen: "127.0.0.1:0".parse().unwrap(),
        database,
        pool: PoolSettings { max_connections: 10, acquire_timeout: Duration::from_secs(2) },
        max_message_bytes: 4 * 1024 * 1024,
        shutdown_timeout: Duration::from_secs(5),
        health_interval: Duration::from_millis(200),
        event_retention: Duration::from_secs(30 * 86_400),
        reminder_interval: None,
        max_concurrent_calls: 64,
        clock,
        metrics_listen: None,
        cors_allowed_origins: Vec::new(),
        tls: None,
    }
}

impl TestApp {
    /// A server on a fresh database.
    pub async fn spawn() -> Self {
        Self::spawn_on(fresh_database().await).await
    }

    /// A server on `database`.
    pub async fn spawn_on(database: PgConnectOptions) -> Self {
        Self::spawn_with(database, Arc::new(ManualClock::new(default_now())), None).await
    }

    /// A server on `database` with `clock`, running the reminder scheduler every
    /// `reminders` if given.
    pub async fn spawn_with(database: PgConnectOptions, clock: Arc<ManualClock>, reminders: Option<Duration>) -> Self {
        Self::spawn_custom(database, clock, |s| ServerSettings { reminder_interval: reminders, ..s }).await
    }

    /// A server on a fresh database serving at most `calls` calls at once.
    pub async fn spawn_limited(calls: usize) -> Self {
        let clock = Arc::new(ManualClock::new(default_now()));
        Self::spawn_custom(fresh_database().await, clock, |s| ServerSettings { max_concurrent_calls: calls, ..s }).await
    }

    /// A server whose settings `adjust` changes from the tests' defaults.
    pub async fn spawn_custom(
        database: PgConnectOptions,
        clock: Arc<ManualClock>,
        adjust: impl FnOnce(ServerSettings) -> ServerSettings,
    ) -> Self {
        init_logging();
        let settings = adjust(settings(database.clone(), clock.clone()));
        let app = Application::build(settings).await.expect("build the server");
        let addr = app.local_addr();
        let metrics_addr = app.metrics_addr();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async move {
            let _ = rx.await;
        }));
        let channel =
            Channel::from_shared(format!("http://{addr}")).unwrap().connect().await.expect("connect to the server");
        Self { addr, metrics_addr, db: database, clock, channel, shutdown: Some(tx), server: Some(server) }
    }

    /// A channel to the server.
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// A connection as the database owner, outside row-level security.
    pub async fn operator(&self) -> PgConnection {
        PgConnection::connect_with(&self.db).await.unwrap()
    }

    /// Creates `tenant` if needed and a key of `role` in it, bound to `unit` if given.
    pub async fn key(&self, tenant: &str, role: Role, unit: Option<&str>) -> String {
        let mut conn = self.operator().await;
        admin::create_tenant(&mut conn, tenant, tenant).await.unwrap();
        admin::create_key(&mut conn, tenant, role, unit, "test").await.unwrap().text
    }

    /// The use cases on this server's database and clock, for driving background work
    /// (the reminder scheduler, retention) directly.
    pub async fn services(&self) -> Services {
        Services::connect(&self.db, settings(self.db.clone(), self.clock.clone()).pool, self.clock.clone())
            .await
            .unwrap()
    }

    /// Loads the Hậu Giang demo into `tenant` (created if needed), as `followup demo load` does.
    pub async fn load_demo(&self, tenant: &str) {
        let mut conn = self.operator().await;
        admin::create_tenant(&mut conn, tenant, tenant).await.unwrap();
        let services =
            Services::connect(&self.db, settings(self.db.clone(), self.clock.clone()).pool, self.clock.clone())
                .await
                .unwrap();
        assert!(followup::demo::load(&services, tenant).await.unwrap(), "the demo loads once");
        assert!(!followup::demo::load(&services, tenant).await.unwrap(), "and only once");
    }

    /// An ADMIN key of `tenant`.
    pub async fn admin_key(&self, tenant: &str) -> String {
        self.key(tenant, Role::Admin, None).await
    }

    /// A UnitService client using `key`.
    pub fn units(&self, key: &str) -> UnitClient {
        UnitServiceClient::with_interceptor(self.channel(), bearer(Some(key)))
    }

    /// A UnitService client sending no key.
    pub fn units_anonymous(&self) -> UnitClient {
        UnitServiceClient::with_interceptor(self.channel(), bearer(None))
    }

    /// Stops the server as SIGTERM would, and waits for it.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.server.take() {
            Some(server) => server.await?,
            None => Ok(()),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The interceptor for `key`.
pub fn bearer(key: Option<&str>) -> Bearer {
    Bearer(key.map(|k| format!("Bearer {k}").parse().unwrap()))
}

/// Logs to the test output when `TEST_LOG` is set.
pub fn init_logging() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter("debug,h2=info,hyper=info,tower=info")
                .with_test_writer()
                .try_init();
        }
    });
}

/// An HTTP/1.1 response, read to its end.
#[derive(Debug)]
pub struct HttpResponse {
    /// The status line, e.g. `HTTP/1.1 200 OK`.
    pub status: String,
    /// Header lines, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub body: String,
}

impl HttpResponse {
    /// The value of header `name` (lowercase), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Sends `method path` with `headers` and `body` over plain HTTP/1.1 (as browsers and
/// scrapers do) and reads the whole response; the connection is closed after it.
pub async fn http1(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> HttpResponse {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    let mut lines = head.lines();
    let status = lines.next().unwrap().to_owned();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    HttpResponse { status, headers, body: body.to_owned() }
}

/// The address a `followup` process logged (JSON logs in `log`) once it serves.
pub fn wait_for_address(log: &std::path::Path, limit: Duration) -> String {
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        for line in text.lines() {
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(line)
                && value["message"] == "serving gRPC"
            {
                return value["addr"].as_str().unwrap().to_owned();
            }
        }
        assert!(started.elapsed() < limit, "the server did not start within {limit:?}:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends SIGTERM to `child` and waits up to `limit` for it to exit.
pub fn terminate(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(started.elapsed() < limit, "no exit within {limit:?} of SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}
