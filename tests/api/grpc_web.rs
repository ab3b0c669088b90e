//! gRPC-Web on the gRPC port, for browser portals: CORS preflights are answered for the
//! configured origins only.

use std::sync::Arc;

use followup::domain::calendar::ManualClock;
use followup::server::ServerSettings;

use crate::helpers::{TestApp, default_now, fresh_database, http1};

const PORTAL: &str = "https://portal.haugiang.gov.vn";

async fn serve_for(origins: &[&str]) -> TestApp {
    let clock = Arc::new(ManualClock::new(default_now()));
    let origins = origins.iter().map(|o| o.to_string()).collect();
    TestApp::spawn_custom(fresh_database().await, clock, |s| ServerSettings { cors_allowed_origins: origins, ..s })
        .await
}

fn preflight(origin: &str) -> [(&str, &str); 3] {
    [
        ("Origin", origin),
        ("Access-Control-Request-Method", "POST"),
        ("Access-Control-Request-Headers", "authorization,content-type,x-grpc-web,x-user-agent"),
    ]
}

#[tokio::test]
async fn a_configured_origin_passes_the_preflight_and_may_read_the_grpc_status() {
    let app = serve_for(&[PORTAL]).await;
    let response = http1(app.addr, "OPTIONS", "/followup.v1.TaskService/ListTasks", &preflight(PORTAL), b"").await;
    assert!(response.status.contains(" 200"), "{response:?}");
    assert_eq!(response.header("access-control-allow-origin"), Some(PORTAL));
    let allowed = response.header("access-control-allow-headers").unwrap_or_default();
    for header in ["authorization", "x-grpc-web"] {
        assert!(allowed.contains(header), "{header} may be sent: {allowed}");
    }

    // The call itself: the browser may read how it ended, rich error details included.
    let call = http1(
        app.addr,
        "POST",
        "/grpc.health.v1.Health/Check",
        &[("Origin", PORTAL), ("Content-Type", "application/grpc-web+proto"), ("X-Grpc-Web", "1")],
        &[0, 0, 0, 0, 0],
    )
    .await;
    assert_eq!(call.header("access-control-allow-origin"), Some(PORTAL), "{call:?}");
    let exposed = call.header("access-control-expose-headers").unwrap_or_default();
    assert!(exposed.contains("grpc-status-details-bin"), "rich error details are readable: {call:?}");
}

#[tokio::test]
async fn other_origins_get_no_cors_grant() {
    let app = serve_for(&[PORTAL]).await;
    let response =
        http1(app.addr, "OPTIONS", "/followup.v1.TaskService/ListTasks", &preflight("https://evil.example"), b"").await;
    assert_eq!(response.header("access-control-allow-origin"), None, "{response:?}");
    // With no origins configured, no browser origin is granted either.
    let closed = serve_for(&[]).await;
    let response = http1(closed.addr, "OPTIONS", "/followup.v1.TaskService/ListTasks", &preflight(PORTAL), b"").await;
    assert_eq!(response.header("access-control-allow-origin"), None, "{response:?}");
}

#[tokio::test]
async fn a_grpc_web_call_over_http1_is_answered_in_grpc_web() {
    let app = TestApp::spawn().await;
    // An empty Health/Check request: one uncompressed, zero-length gRPC frame.
    let response = http1(
        app.addr,
        "POST",
        "/grpc.health.v1.Health/Check",
        &[("Content-Type", "application/grpc-web+proto"), ("X-Grpc-Web", "1")],
        &[0, 0, 0, 0, 0],
    )
    .await;
    assert!(response.status.contains(" 200"), "{response:?}");
    assert_eq!(response.header("content-type"), Some("application/grpc-web+proto"));
    // The status travels in a trailer frame inside the body, where browsers can read it.
    assert!(response.body.contains("grpc-status:0"), "{response:?}");
}
