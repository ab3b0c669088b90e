//! An oversized request message is RESOURCE_EXHAUSTED, as gRPC specifies, with the limit
//! in the error details. tonic refuses it while decoding, before any of followup's code
//! runs, and answers OUT_OF_RANGE; this layer rewrites that one answer.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::HeaderValue;
use tower::{Layer, Service};

use crate::error::Error;

/// What tonic's decoder says when a message is over the limit (tonic 0.14).
const TONIC_TOO_LARGE: &str = "decoded message length too large";

/// Rewrites tonic's answer to an oversized request.
#[derive(Debug, Clone, Copy)]
pub struct MessageLimitLayer {
    limit: usize,
}

impl MessageLimitLayer {
    /// For a server whose decoding limit is `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self { limit }
    }
}

impl<S> Layer<S> for MessageLimitLayer {
    type Service = MessageLimitService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MessageLimitService { inner, limit: self.limit }
    }
}

/// The service [`MessageLimitLayer`] makes.
#[derive(Debug, Clone)]
pub struct MessageLimitService<S> {
    inner: S,
    limit: usize,
}

/// True if `headers` are tonic's trailers-only answer to an oversized request.
fn is_too_large(headers: &http::HeaderMap) -> bool {
    headers.get("grpc-status").is_some_and(|s| s == HeaderValue::from_static("11"))
        && headers
            .get("grpc-message")
            .and_then(|m| m.to_str().ok())
            .is_some_and(|m| m.replace("%20", " ").contains(TONIC_TOO_LARGE))
}

impl<S, B, R> Service<http::Request<B>> for MessageLimitService<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let limit = self.limit;
        let future = self.inner.call(request);
        Box::pin(async move {
            let mut response = future.await?;
            if is_too_large(response.headers()) {
                let status = tonic::Status::from(Error::MessageTooLarge { limit });
                let headers = response.headers_mut();
                for name in ["grpc-status", "grpc-message", "grpc-status-details-bin"] {
                    headers.remove(name);
                }
                // Writing a status's own headers cannot fail for a status we built.
                let _ = status.add_header(headers);
            }
            Ok(response)
        })
    }
}
