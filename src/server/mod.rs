//! The gRPC server: followup's services, health and reflection behind the trace and auth
//! layers, on a listener bound before serving so callers (and tests) know the port.

pub mod cors;
pub mod deadline;
pub mod health;
pub mod message_limit;
pub mod metrics;
pub mod tls;
pub mod trace;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;

use crate::api::proto::followup::v1::audit_service_server::AuditServiceServer;
use crate::api::proto::followup::v1::conclusion_service_server::ConclusionServiceServer;
use crate::api::proto::followup::v1::event_service_server::EventServiceServer;
use crate::api::proto::followup::v1::holiday_service_server::HolidayServiceServer;
use crate::api::proto::followup::v1::plan_service_server::PlanServiceServer;
use crate::api::proto::followup::v1::recommendation_service_server::RecommendationServiceServer;
use crate::api::proto::followup::v1::reminder_service_server::ReminderServiceServer;
use crate::api::proto::followup::v1::report_schedule_service_server::ReportScheduleServiceServer;
use crate::api::proto::followup::v1::report_service_server::ReportServiceServer;
use crate::api::proto::followup::v1::task_service_server::TaskServiceServer;
use crate::api::proto::followup::v1::unit_service_server::UnitServiceServer;
use crate::api::{self, proto};
use crate::auth::Authenticator;
use crate::auth::layer::AuthLayer;
use crate::db::PoolSettings;
use crate::domain::calendar::Clock;
use crate::service::Services;
use metrics::Metrics;

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The database to use (already migrated).
    pub database: PgConnectOptions,
    /// Pool size and acquire timeout.
    pub pool: PoolSettings,
    /// The largest request or response message, in bytes.
    pub max_message_bytes: usize,
    /// How long in-flight calls may run on after a shutdown signal.
    pub shutdown_timeout: Duration,
    /// How often the database is probed for health.
    pub health_interval: Duration,
    /// How long events are kept for watchers that resume.
    pub event_retention: Duration,
    /// How often the reminder scheduler runs; `None` turns it off.
    pub reminder_interval: Option<Duration>,
    /// The most calls served at once; more are refused with RESOURCE_EXHAUSTED.
    pub max_concurrent_calls: usize,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// Where to serve Prometheus metrics (`/metrics`); `None` serves none.
    pub metrics_listen: Option<SocketAddr>,
    /// Browser origins allowed to call over gRPC-Web (`*` for any).
    pub cors_allowed_origins: Vec<String>,
    /// TLS (and mutual TLS) for the gRPC port; `None` serves plaintext.
    pub tls: Option<tls::TlsSettings>,
}

/// Background upkeep until `stop`: purges events past their retention, hourly.
async fn maintain(services: Services, retention: Duration, mut stop: watch::Receiver<bool>) {
    loop {
        match crate::service::events::purge_expired(&services, services.clock.now(), retention).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "purged expired events"),
            Err(error) => tracing::warn!(%error, "purging expired events failed; will retry"),
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Sends due reminders every `every` until `stop`, reading the time from the services'
/// clock (so tests can move it).
async fn schedule_reminders(
    services: Services,
    every: Duration,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match crate::service::reminders::run_due(&services, services.clock.now()).await {
            Ok(0) => {}
            Ok(sent) => {
                metrics.reminders_sent(u64::try_from(sent).unwrap_or(0));
                tracing::info!(sent, "sent due reminders")
            }
            Err(error) => tracing::warn!(%error, "sending reminders failed; will retry"),
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Reflection over followup's protos and the rich error detail types, so grpcurl can
/// describe the API and print `google.rpc.BadRequest` and `ErrorInfo` details.
fn reflection_builder() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
}

/// A server bound to its port, ready to run.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    settings: ServerSettings,
    pool: PgPool,
    services: Services,
}

impl Application {
    /// Binds the listener and prepares the pool. Fails if the port is taken or the
    /// database cannot be read.
    pub async fn build(settings: ServerSettings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.listen).await?;
        let metrics_listener = match settings.metrics_listen {
            Some(addr) => Some(metrics::bind(addr).await?),
            None => None,
        };
        let services = Services::connect(&settings.database, settings.pool, settings.clock.clone()).await?;
        let pool = services.pool.clone();
        Ok(Self { listener, metrics_listener, settings, pool, services })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// The address metrics are served on, if they are.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().map(|l| l.local_addr().expect("a bound listener has an address"))
    }

    /// Serves until `shutdown` completes, then reports NOT_SERVING, stops accepting, lets
    /// in-flight calls finish for up to the shutdown timeout, and closes the pool.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Self { listener, metrics_listener, settings, pool, services } = self;
        let metrics = Arc::new(Metrics::new());
        let (reporter, health_service) = tonic_health::server::health_reporter();
        health::set_all(&reporter, ServingStatus::NotServing).await;
        let (stop_tx, stop_rx) = watch::channel(false);
        let watcher = tokio::spawn(health::watch_database(
            pool.clone(),
            reporter.clone(),
            settings.health_interval,
            stop_rx.clone(),
        ));
        let hub = services.events.clone();
        let event_listener = tokio::spawn({
            let (pool, stop) = (pool.clone(), stop_rx.clone());
            async move { hub.listen(pool, stop).await }
        });
        let authenticator = Authenticator::new(pool.clone());
        let revocations = tokio::spawn({
            let (authenticator, stop) = (authenticator.clone(), stop_rx.clone());
            async move { authenticator.follow_revocations(stop).await }
        });
        let maintenance = tokio::spawn(maintain(services.clone(), settings.event_retention, stop_rx.clone()));
        let scheduler = settings
            .reminder_interval
            .map(|every| tokio::spawn(schedule_reminders(services.clone(), every, metrics.clone(), stop_rx.clone())));
        let metrics_server = metrics_listener.map(|listener| {
            let (metrics, pool, events, stop) =
                (metrics.clone(), pool.clone(), services.events.clone(), stop_rx.clone());
            tokio::spawn(async move {
                if let Err(error) = metrics::serve(listener, metrics, pool, events, stop).await {
                    tracing::warn!(%error, "the metrics endpoint stopped");
                }
            })
        });

        // Both versions: grpcurl before 1.9 and some GUI clients still speak v1alpha.
        let reflection_v1 = reflection_builder().build_v1()?;
        let reflection_v1alpha = reflection_builder().build_v1alpha()?;

        let max = settings.max_message_bytes;
        // Every service gets the same message limits, set deliberately rather than left
        // to tonic's defaults.
        macro_rules! limited {
            ($server:expr) => {
                $server.max_decoding_message_size(max).max_encoding_message_size(max)
            };
        }
        let units = limited!(UnitServiceServer::new(api::units::UnitApi::new(services.clone())));
        let conclusions =
            limited!(ConclusionServiceServer::new(api::conclusions::ConclusionApi::new(services.clone())));
        let recommendations =
            limited!(RecommendationServiceServer::new(api::recommendations::RecommendationApi::new(services.clone())));
        let plans = limited!(PlanServiceServer::new(api::plans::PlanApi::new(services.clone())));
        let tasks = limited!(TaskServiceServer::new(api::tasks::TaskApi::new(services.clone())));
        let holidays = limited!(HolidayServiceServer::new(api::holidays::HolidayApi::new(services.clone())));
        let schedules = limited!(ReportScheduleServiceServer::new(api::schedules::ScheduleApi::new(services.clone())));
        let reports = limited!(ReportServiceServer::new(api::reports::ReportApi::new(services.clone())));
        let events = limited!(EventServiceServer::new(api::events::EventApi::new(services.clone())));
        let audit = limited!(AuditServiceServer::new(api::audit::AuditApi::new(services.clone())));
        let reminder_api = limited!(ReminderServiceServer::new(api::reminders::ReminderApi::new(services.clone())));

        // Outermost first: every call is traced; an oversized request is answered
        // RESOURCE_EXHAUSTED; past the concurrency limit a call is
        // refused at once with RESOURCE_EXHAUSTED (tonic's answer to tower's Overloaded)
        // rather than queued without bound; its deadline is recorded for the database;
        // then it is authenticated.
        let layers = tower::ServiceBuilder::new()
            .layer(trace::TraceLayer::new(metrics.clone()))
            .layer(message_limit::MessageLimitLayer::new(max))
            .load_shed()
            .concurrency_limit(settings.max_concurrent_calls)
            .layer(deadline::DeadlineLayer)
            .layer(AuthLayer::new(authenticator.clone()))
            .into_inner();

        let mut stopping = stop_rx.clone();
        let signal_reporter = reporter.clone();
        // Larger HTTP/2 windows than the 64 KiB default: a plan's progress or an export is
        // hundreds of kilobytes, and small windows make it wait on window updates.
        let mut builder = Server::builder();
        if let Some(tls) = &settings.tls {
            builder = builder.tls_config(tls.server_config())?;
        }
        // HTTP/1.1 is accepted for gRPC-Web, which browsers speak; the gRPC-Web layer
        // translates it to gRPC before anything else sees the call, and CORS answers
        // browsers' preflight requests before that.
        let serve = builder
            .accept_http1(true)
            .initial_stream_window_size(Some(1024 * 1024))
            .initial_connection_window_size(Some(4 * 1024 * 1024))
            .layer(cors::layer(&settings.cors_allowed_origins)?)
            .layer(tonic_web::GrpcWebLayer::new())
            .layer(layers)
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(units)
            .add_service(conclusions)
            .add_service(recommendations)
            .add_service(plans)
            .add_service(tasks)
            .add_service(holidays)
            .add_service(schedules)
            .add_service(reports)
            .add_service(events)
            .add_service(audit)
            .add_service(reminder_api)
            // Without TCP_NODELAY on accepted connections, Nagle's algorithm and delayed
            // ACKs hold the tail of larger responses for ~40 ms.
            .serve_with_incoming_shutdown(TcpIncoming::from(listener).with_nodelay(Some(true)), async move {
                let _ = stopping.wait_for(|stopped| *stopped).await;
                health::set_all(&signal_reporter, ServingStatus::NotServing).await;
            });
        let mut server = tokio::spawn(serve);

        tokio::select! {
            result = &mut server => {
                result??;
            }
            () = shutdown => {
                tracing::info!(timeout = ?settings.shutdown_timeout, "shutting down: draining in-flight calls");
                let _ = stop_tx.send(true);
                match tokio::time::timeout(settings.shutdown_timeout, &mut server).await {
                    Ok(result) => result??,
                    Err(_) => {
                        tracing::warn!("in-flight calls outlived the shutdown timeout; closing them");
                        server.abort();
                    }
                }
            }
        }
        let _ = stop_tx.send(true);
        let _ = watcher.await;
        let _ = event_listener.await;
        let _ = revocations.await;
        let _ = maintenance.await;
        if let Some(scheduler) = scheduler {
            let _ = scheduler.await;
        }
        if let Some(metrics_server) = metrics_server {
            let _ = metrics_server.await;
        }
        pool.close().await;
        tracing::info!("server stopped");
        Ok(())
    }
}
