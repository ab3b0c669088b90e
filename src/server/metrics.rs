//! Prometheus metrics, served on their own port so that scrapers need no API key and the
//! gRPC port stays gRPC only. Each server owns its registry (no process-global state), so
//! several servers in one process (the tests) keep their figures apart.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use prost::Message;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::service::events::EventHub;

/// Labels of one RPC outcome. Values are `&'static str` so recording a call allocates
/// nothing, and come from a closed set (the served methods, the gRPC codes) so a caller
/// probing random paths cannot grow the number of series.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RpcLabels {
    service: &'static str,
    method: &'static str,
    code: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConnectionLabels {
    state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

type LatencyFamily = Family<RpcLabels, Histogram, fn() -> Histogram>;

/// 0.5 ms to ~16 s, doubling: the fast reads sit in the first buckets, exports in the last.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The service's metrics and the registry that exposes them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    handled: Family<RpcLabels, Counter>,
    latency: LatencyFamily,
    in_flight: Gauge,
    connections: Family<ConnectionLabels, Gauge>,
    max_connections: Gauge,
    connection_waiters: Gauge,
    event_watchers: Gauge,
    reminders_sent: Counter,
}

/// `/package.Service/Method` of every method followup serves, split into its labels.
/// Built once from the compiled descriptors; the strings live as long as the process.
fn known_methods() -> &'static HashMap<String, (&'static str, &'static str)> {
    static METHODS: OnceLock<HashMap<String, (&'static str, &'static str)>> = OnceLock::new();
    METHODS.get_or_init(|| {
        let mut methods = HashMap::new();
        let sets = [
            crate::api::proto::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
        ];
        for bytes in sets {
            let Ok(set) = prost_types::FileDescriptorSet::decode(bytes) else { continue };
            for file in set.file {
                for service in &file.service {
                    let full = format!("{}.{}", file.package(), service.name());
                    let service_label: &'static str = Box::leak(full.clone().into_boxed_str());
                    for method in &service.method {
                        let method_label: &'static str = Box::leak(method.name().to_owned().into_boxed_str());
                        methods.insert(format!("/{full}/{}", method.name()), (service_label, method_label));
                    }
                }
            }
        }
        methods
    })
}

/// The name Prometheus users know for a gRPC code (`INVALID_ARGUMENT`, not `3`).
fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

/// Decrements the in-flight gauge when a call ends, however it ends (a caller that goes
/// away drops the call's future).
#[derive(Debug)]
pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry holding every followup metric, all at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("followup");
        let handled = Family::<RpcLabels, Counter>::default();
        registry.register("rpc_handled", "RPCs completed, by service, method and gRPC code", handled.clone());
        let latency = LatencyFamily::new_with_constructor(latency_histogram);
        registry.register(
            "rpc_duration_seconds",
            "Time from a request's arrival to its response headers, by service, method and gRPC code",
            latency.clone(),
        );
        let in_flight = Gauge::default();
        registry.register("rpc_in_flight", "RPCs being served now", in_flight.clone());
        let connections = Family::<ConnectionLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Open database connections, by state (idle or in_use)",
            connections.clone(),
        );
        let max_connections = Gauge::default();
        registry.register(
            "db_pool_max_connections",
            "The most database connections the pool opens",
            max_connections.clone(),
        );
        let connection_waiters = Gauge::default();
        registry.register(
            "db_pool_waiters",
            "Calls waiting for a database connection (in this process)",
            connection_waiters.clone(),
        );
        let event_watchers = Gauge::default();
        registry.register("event_watchers", "Open WatchEvents streams", event_watchers.clone());
        let reminders_sent = Counter::default();
        registry.register("reminders_sent", "Reminders the scheduler sent", reminders_sent.clone());
        let build = Family::<BuildLabels, Gauge>::default();
        build.get_or_create(&BuildLabels { version: env!("CARGO_PKG_VERSION") }).set(1);
        registry.register("build_info", "The running build; the value is always 1", build);
        Self {
            registry,
            handled,
            latency,
            in_flight,
            connections,
            max_connections,
            connection_waiters,
            event_watchers,
            reminders_sent,
        }
    }

    /// Counts a call as started; the returned guard counts it as finished.
    pub fn start_call(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    /// Records a finished call on `path`. Paths followup does not serve are counted under
    /// `unknown`, keeping the label set closed.
    pub fn record_call(&self, path: &str, code: tonic::Code, seconds: f64) {
        let (service, method) = known_methods().get(path).copied().unwrap_or(("unknown", "unknown"));
        let labels = RpcLabels { service, method, code: code_name(code) };
        self.handled.get_or_create(&labels).inc();
        self.latency.get_or_create(&labels).observe(seconds);
    }

    /// Counts reminders the scheduler sent.
    pub fn reminders_sent(&self, sent: u64) {
        self.reminders_sent.inc_by(sent);
    }

    /// The exposition text, with the gauges read at this moment from their sources.
    pub fn render(&self, pool: &PgPool, events: &EventHub) -> String {
        let size = i64::from(pool.size());
        let idle = i64::try_from(pool.num_idle()).unwrap_or(i64::MAX);
        self.connections.get_or_create(&ConnectionLabels { state: "idle" }).set(idle);
        self.connections.get_or_create(&ConnectionLabels { state: "in_use" }).set((size - idle).max(0));
        self.max_connections.set(i64::from(pool.options().get_max_connections()));
        self.connection_waiters.set(crate::store::waiting_for_connection());
        self.event_watchers.set(i64::try_from(events.watchers()).unwrap_or(i64::MAX));
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// Serves `GET /metrics` on `listener` until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    pool: PgPool,
    events: EventHub,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    use axum::http::header::CONTENT_TYPE;
    use axum::routing::get;

    let router = axum::Router::new().route(
        "/metrics",
        get(move || {
            let text = metrics.render(&pool, &events);
            async move { ([(CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text) }
        }),
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await
}

/// Binds the metrics listener, so a taken port fails the start rather than the first scrape.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| anyhow::anyhow!("binding the metrics address {addr}: {e}"))
}
