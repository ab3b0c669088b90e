//! Overload and deadlines: past the concurrency limit calls are refused at once with
//! RESOURCE_EXHAUSTED, never queued without bound; a caller's deadline reaches the
//! database as the statement timeout; a call whose caller has gone is not completed.

use std::time::{Duration, Instant};

use followup::api::proto::followup::v1::{self as pb, report_service_client::ReportServiceClient};
use tonic::Code;

use crate::helpers::{TestApp, bearer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_past_the_limit_is_refused_at_once_and_the_rest_are_served() {
    let app = TestApp::spawn_limited(2).await;
    app.load_demo("demo").await;
    let key = app.key("demo", followup::auth::principal::Role::Monitor, None).await;
    let client = ReportServiceClient::with_interceptor(app.channel(), bearer(Some(&key)));
    let calls = (0..60).map(|_| {
        let mut client = client.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let request = pb::ExportPlanProgressRequest {
                name: "plans/kh-963-ubnd".into(),
                as_of: None,
                format: pb::ExportFormat::Xlsx as i32,
            };
            let result = client.export_plan_progress(request).await;
            (result.map(|_| ()).map_err(|s| s.code()), started.elapsed())
        })
    });
    let mut served = 0;
    let mut refused = Vec::new();
    for call in calls.collect::<Vec<_>>() {
        let (result, took) = call.await.unwrap();
        match result {
            Ok(()) => served += 1,
            Err(Code::ResourceExhausted) => refused.push(took),
            Err(other) => panic!("only OK or RESOURCE_EXHAUSTED, got {other:?}"),
        }
    }
    assert!(served >= 2, "the limit's worth of calls is served: {served}");
    assert!(!refused.is_empty(), "a burst of 60 past a limit of 2 is partly refused");
    let slowest = refused.iter().max().unwrap();
    assert!(*slowest < Duration::from_secs(2), "refusals come at once, not after queueing: {slowest:?}");
    // And the server is fine afterwards.
    client
        .clone()
        .get_plan_progress(pb::GetPlanProgressRequest { name: "plans/kh-963-ubnd".into(), as_of: None })
        .await
        .unwrap();
}

#[tokio::test]
async fn the_callers_deadline_becomes_the_statement_timeout() {
    let app = TestApp::spawn().await;
    app.admin_key("hau-giang").await;
    let services = app.services().await;
    // A query that would run a second is stopped at the caller's 100 ms.
    let deadline = Instant::now() + Duration::from_millis(100);
    let started = Instant::now();
    let result = followup::server::deadline::scope(deadline, async {
        let mut tx = followup::store::begin(&services.pool, "hau-giang").await?;
        sqlx::query("select pg_sleep(1)").execute(&mut *tx).await.map_err(followup::store::StoreError::from)?;
        Ok::<_, followup::store::StoreError>(())
    })
    .await;
    assert!(matches!(result, Err(followup::store::StoreError::Cancelled(_))), "{result:?}");
    assert!(started.elapsed() < Duration::from_millis(800));

    // Over gRPC: a call whose deadline has passed ends with DEADLINE_EXCEEDED or
    // CANCELLED, never INTERNAL, and the server serves the next call.
    let key = app.admin_key("hau-giang").await;
    let mut units = app.units(&key);
    let mut request = tonic::Request::new(pb::ListUnitsRequest::default());
    request.set_timeout(Duration::from_micros(1));
    if let Err(status) = units.list_units(request).await {
        assert!(matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled), "{status:?}");
    }
    units.list_units(pb::ListUnitsRequest::default()).await.unwrap();
}

/// This process's resident memory (server and clients), in MiB.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib / 1024.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_bursts_keep_accepted_calls_fast_and_memory_flat() {
    let app = TestApp::spawn_limited(8).await;
    app.load_demo("demo").await;
    let key = app.admin_key("demo").await;
    let client = app.units(&key);
    let mut accepted = Vec::new();
    let mut refused = 0;
    let mut memory = Vec::new();
    for _round in 0..4 {
        let calls: Vec<_> = (0..500)
            .map(|_| {
                let mut client = client.clone();
                tokio::spawn(async move {
                    let started = Instant::now();
                    let result = client.list_units(pb::ListUnitsRequest::default()).await;
                    (result.map(|_| ()).map_err(|s| s.code()), started.elapsed())
                })
            })
            .collect();
        for call in calls {
            match call.await.unwrap() {
                (Ok(()), took) => accepted.push(took),
                (Err(Code::ResourceExhausted), _) => refused += 1,
                (Err(other), _) => panic!("only OK or RESOURCE_EXHAUSTED, got {other:?}"),
            }
        }
        memory.push(rss_mib());
    }
    accepted.sort();
    let p99 = accepted[accepted.len() * 99 / 100];
    eprintln!(
        "4 bursts of 500 at a limit of 8: {} served, {refused} refused; p99 of served {p99:?}; RSS after each burst {memory:.1?} MiB",
        accepted.len()
    );
    assert!(refused > 0 && !accepted.is_empty());
    assert!(p99 < Duration::from_secs(1), "served calls stay fast under a burst: p99 {p99:?}");
    // The first burst warms allocators and pools; later ones must not keep growing.
    let growth = memory[3] - memory[1];
    assert!(growth < 16.0, "memory grows burst after burst: {memory:?} MiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_caller_has_gone_is_not_completed() {
    use crate::tracking_fixture::{Fixture, evidence, task_name};
    use sqlx::Connection;

    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    f.task("t1", "stc", crate::tracking_fixture::date(2026, 12, 31), &[]).await;
    f.issue().await;
    // Another transaction holds the task's row, so the report waits inside the database.
    let mut holder = app.operator().await;
    let mut lock = holder.begin().await.unwrap();
    sqlx::query("select 1 from tasks where task_id = 't1' for update").execute(&mut *lock).await.unwrap();

    let mut tasks = f.admin.tasks.clone();
    let call = tokio::spawn(async move {
        let request = pb::ReportTaskDoneRequest { name: task_name("t1"), evidence: evidence(), ..Default::default() };
        tasks.report_task_done(request).await
    });
    let mut conn = app.operator().await;
    let waiting = Instant::now();
    loop {
        let blocked: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and query like '%task%'",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        if blocked > 0 {
            break;
        }
        assert!(waiting.elapsed() < Duration::from_secs(5), "the report never reached the lock");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The caller goes away (its HTTP/2 stream is reset), then the lock is released.
    call.abort();
    tokio::time::sleep(Duration::from_millis(300)).await;
    lock.commit().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;

    let state: String =
        sqlx::query_scalar("select state from tasks where task_id = 't1'").fetch_one(&mut conn).await.unwrap();
    assert_eq!(state, "NOT_STARTED", "the abandoned report was not applied");
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_records where action = 'ReportTaskDone'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(audited, 0, "nor audited");
    // The same report, by a caller who stays, is applied: the abandoned one would have been.
    let request = pb::ReportTaskDoneRequest { name: task_name("t1"), evidence: evidence(), ..Default::default() };
    let done = f.admin.tasks.clone().report_task_done(request).await.unwrap().into_inner();
    assert_eq!(done.state(), pb::TaskState::ReportedDone);
}
