//! Health follows the database: NOT_SERVING while PostgreSQL is down, SERVING again when
//! it returns, without restarting the service.

use std::time::{Duration, Instant};

use followup::api::proto::followup::v1 as pb;
use followup::managed_pg::ManagedPostgres;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::helpers::TestApp;

async fn status(app: &TestApp, service: &str) -> ServingStatus {
    let response =
        HealthClient::new(app.channel()).check(HealthCheckRequest { service: service.into() }).await.unwrap();
    response.into_inner().status()
}

async fn wait_for(app: &TestApp, want: ServingStatus, limit: Duration) -> Duration {
    let started = Instant::now();
    while status(app, "").await != want {
        assert!(started.elapsed() < limit, "health did not become {want:?} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    started.elapsed()
}

#[tokio::test]
async fn health_flips_with_the_database_and_the_service_recovers() {
    // This test stops its database, so it has a cluster of its own.
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = ManagedPostgres::start(dir.path(), true).unwrap();
    let options = cluster.connect_options("postgres");
    followup::db::migrate(&options).await.unwrap();
    let app = TestApp::spawn_on(options).await;
    let key = app.admin_key("hau-giang").await;
    let mut units = app.units(&key);

    wait_for(&app, ServingStatus::Serving, Duration::from_secs(5)).await;
    assert_eq!(status(&app, "followup.v1.UnitService").await, ServingStatus::Serving);

    cluster.stop();
    wait_for(&app, ServingStatus::NotServing, Duration::from_secs(5)).await;
    assert_eq!(status(&app, "followup.v1.UnitService").await, ServingStatus::NotServing);
    // Calls fail fast with UNAVAILABLE, not INTERNAL, and never hang.
    let started = Instant::now();
    let error = units.list_units(pb::ListUnitsRequest::default()).await.unwrap_err();
    assert_eq!(error.code(), Code::Unavailable, "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(5));

    cluster.restart().unwrap();
    let recovered = wait_for(&app, ServingStatus::Serving, Duration::from_secs(10)).await;
    eprintln!("health back to SERVING {recovered:?} after the database returned");
    units.list_units(pb::ListUnitsRequest::default()).await.expect("calls work again without a restart");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn shutdown_reports_not_serving_and_exits_cleanly() {
    let app = TestApp::spawn().await;
    wait_for(&app, ServingStatus::Serving, Duration::from_secs(5)).await;
    let channel = app.channel();
    app.stop().await.expect("clean exit");
    // The listener is closed: new calls fail with UNAVAILABLE.
    let error = HealthClient::new(channel).check(HealthCheckRequest::default()).await.unwrap_err();
    assert_eq!(error.code(), Code::Unavailable);
}
