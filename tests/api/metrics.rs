//! The Prometheus endpoint: off unless asked for, and its counters move with the calls.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use followup::api::proto::followup::v1::{
    self as pb, event_service_client::EventServiceClient, task_service_client::TaskServiceClient,
};
use followup::domain::calendar::ManualClock;
use followup::server::ServerSettings;
use tonic::Code;

use crate::helpers::{TestApp, bearer, default_now, fresh_database, http1};

async fn http_get(addr: SocketAddr, path: &str) -> (String, String) {
    let response = http1(addr, "GET", path, &[], b"").await;
    (response.status, response.body)
}

/// The value of the sample whose line starts with `series` (name and labels), or 0.
fn sample(text: &str, series: &str) -> f64 {
    text.lines().find_map(|line| line.strip_prefix(series).and_then(|rest| rest.trim().parse().ok())).unwrap_or(0.0)
}

async fn scrape(app: &TestApp) -> String {
    let (status, body) = http_get(app.metrics_addr.expect("metrics are on"), "/metrics").await;
    assert!(status.contains("200"), "scrape answered {status}");
    body
}

#[tokio::test]
async fn metrics_are_off_unless_a_listen_address_is_given() {
    let app = TestApp::spawn().await;
    assert_eq!(app.metrics_addr, None);
}

#[tokio::test]
async fn the_scrape_shows_calls_by_method_and_code_and_the_gauges() {
    let clock = Arc::new(ManualClock::new(default_now()));
    let app = TestApp::spawn_custom(fresh_database().await, clock, |s| ServerSettings {
        metrics_listen: Some("127.0.0.1:0".parse().unwrap()),
        reminder_interval: Some(Duration::from_millis(100)),
        ..s
    })
    .await;
    app.load_demo("demo").await;
    let key = app.admin_key("demo").await;
    let mut tasks = TaskServiceClient::with_interceptor(app.channel(), bearer(Some(&key)));

    let ok = r#"followup_rpc_handled_total{service="followup.v1.TaskService",method="ListTasks",code="OK"}"#;
    let invalid =
        r#"followup_rpc_handled_total{service="followup.v1.TaskService",method="ListTasks",code="INVALID_ARGUMENT"}"#;
    let before = scrape(&app).await;
    assert!(before.contains(r#"followup_build_info{version=""#), "build info is there:\n{before}");

    for _ in 0..3 {
        let request = pb::ListTasksRequest { parent: "plans/kh-963-ubnd".into(), ..Default::default() };
        tasks.list_tasks(request).await.unwrap();
    }
    let bad =
        pb::ListTasksRequest { parent: "plans/kh-963-ubnd".into(), filter: "colour = 1".into(), ..Default::default() };
    assert_eq!(tasks.list_tasks(bad).await.unwrap_err().code(), Code::InvalidArgument);

    let after = scrape(&app).await;
    assert_eq!(sample(&after, ok) - sample(&before, ok), 3.0, "three OK ListTasks counted:\n{after}");
    assert_eq!(sample(&after, invalid) - sample(&before, invalid), 1.0, "one rejected ListTasks counted");
    let histogram_count =
        r#"followup_rpc_duration_seconds_count{service="followup.v1.TaskService",method="ListTasks",code="OK"}"#;
    assert!(sample(&after, histogram_count) >= 3.0, "latency histogram observed the calls");
    assert!(after.contains("followup_rpc_duration_seconds_bucket{"), "with buckets");
    assert!(sample(&after, "followup_db_pool_max_connections") >= 1.0, "pool size is reported");
    assert!(after.contains(r#"followup_db_pool_connections{state="idle"}"#));
    assert!(after.contains("followup_db_pool_waiters"));
    assert!(after.contains("followup_rpc_in_flight"));

    // An open WatchEvents stream is a watcher.
    let mut events = EventServiceClient::with_interceptor(app.channel(), bearer(Some(&key)));
    let stream = events.watch_events(pb::WatchEventsRequest::default()).await.unwrap();
    assert!(sample(&scrape(&app).await, "followup_event_watchers") >= 1.0, "the open stream is counted");
    drop(stream);

    // The demo's overdue tasks are due reminders; the scheduler's sends are counted.
    let waited = Instant::now();
    while sample(&scrape(&app).await, "followup_reminders_sent_total") == 0.0 {
        assert!(waited.elapsed() < Duration::from_secs(10), "the scheduler sent no reminder");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Unknown paths do not grow the label set: they are counted under "unknown".
    let (status, _) = http_get(app.metrics_addr.unwrap(), "/nothing-here").await;
    assert!(status.contains("404"), "only /metrics is served: {status}");
}
