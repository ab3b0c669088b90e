//! One tracing span per RPC, with the method, the caller's tenant, the gRPC code and the
//! latency, and the same outcome in the metrics. Fields are explicit: requests and keys
//! never reach the log.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use tower::{Layer, Service};
use tracing::Instrument;

use super::metrics::Metrics;

/// Adds a span, a completion log line and metrics to every call.
#[derive(Debug, Clone)]
pub struct TraceLayer {
    metrics: Arc<Metrics>,
}

impl TraceLayer {
    /// Records every call's outcome into `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = TraceService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TraceService { inner, metrics: self.metrics.clone() }
    }
}

/// The service [`TraceLayer`] makes.
#[derive(Debug, Clone)]
pub struct TraceService<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

/// The gRPC code of a response: tonic sends errors of unary calls as trailers-only
/// responses, with `grpc-status` among the headers; a missing header means the call went
/// on to stream its body, which for unary calls means OK.
fn grpc_code<B>(response: &http::Response<B>) -> tonic::Code {
    response
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i32>().ok())
        .map(tonic::Code::from_i32)
        .unwrap_or(tonic::Code::Ok)
}

impl<S, B, R> Service<http::Request<B>> for TraceService<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>> + Send,
    S::Future: Send + 'static,
    S::Error: std::fmt::Display + AsRef<dyn std::error::Error + Send + Sync>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let method = request.uri().path().to_owned();
        let span = tracing::info_span!("rpc", method = %method, tenant = tracing::field::Empty, code = tracing::field::Empty, latency_ms = tracing::field::Empty);
        let started = Instant::now();
        let metrics = self.metrics.clone();
        let in_flight = metrics.start_call();
        let future = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        Box::pin(
            async move {
                let result = future.await;
                drop(in_flight);
                let span = tracing::Span::current();
                let elapsed = started.elapsed().as_secs_f64();
                span.record("latency_ms", elapsed * 1000.0);
                match &result {
                    Ok(response) => {
                        let code = grpc_code(response);
                        span.record("code", tracing::field::debug(code));
                        metrics.record_call(&method, code, elapsed);
                        tracing::info!("rpc finished");
                    }
                    // The load-shedding layer refuses a call past the concurrency limit
                    // with an error that tonic answers as RESOURCE_EXHAUSTED.
                    Err(error) if error.as_ref().is::<tower::load_shed::error::Overloaded>() => {
                        span.record("code", tracing::field::debug(tonic::Code::ResourceExhausted));
                        metrics.record_call(&method, tonic::Code::ResourceExhausted, elapsed);
                        tracing::info!("rpc refused: overloaded");
                    }
                    Err(error) => {
                        span.record("code", "TRANSPORT_ERROR");
                        metrics.record_call(&method, tonic::Code::Unknown, elapsed);
                        tracing::warn!(%error, "rpc failed in transport");
                    }
                }
                result
            }
            .instrument(span),
        )
    }
}
