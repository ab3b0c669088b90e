//! Cross-origin access for browser portals calling over gRPC-Web.

use std::time::Duration;

use http::{HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Request headers a gRPC-Web client sends: its framing, the deadline and our key.
const ALLOWED_HEADERS: &[&str] = &["authorization", "content-type", "grpc-timeout", "x-grpc-web", "x-user-agent"];

/// Response headers a browser script must be able to read to learn how a call ended.
const EXPOSED_HEADERS: &[&str] = &["grpc-status", "grpc-message", "grpc-status-details-bin"];

/// The CORS policy for `origins` (exact origins such as `https://portal.haugiang.gov.vn`,
/// or `*` for any). With no origins, browsers may call only from the service's own origin.
pub fn layer(origins: &[String]) -> anyhow::Result<CorsLayer> {
    let allow_origin = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        let values = origins
            .iter()
            .map(|o| HeaderValue::from_str(o).map_err(|_| anyhow::anyhow!("{o:?} is not a valid CORS origin")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        AllowOrigin::list(values)
    };
    Ok(CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([Method::POST])
        .allow_headers(ALLOWED_HEADERS.iter().map(|h| HeaderName::from_static(h)).collect::<Vec<_>>())
        .expose_headers(EXPOSED_HEADERS.iter().map(|h| HeaderName::from_static(h)).collect::<Vec<_>>())
        .max_age(Duration::from_secs(24 * 3600)))
}
