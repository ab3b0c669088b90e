//! Database faults: PostgreSQL killed with SIGKILL under a steady load, then restarted.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use followup::api::proto::followup::v1 as pb;
use followup::managed_pg::ManagedPostgres;
use tokio::sync::watch;
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

use crate::helpers::TestApp;
use crate::ledger::{self, CALL_DEADLINE, Ledger};

async fn health(app: &TestApp) -> ServingStatus {
    match HealthClient::new(app.channel()).check(HealthCheckRequest::default()).await {
        Ok(response) => response.into_inner().status(),
        Err(status) => panic!("the health service itself must answer: {status:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_crash_loses_no_acknowledged_write_and_the_service_recovers_by_itself() {
    // This test kills its database, so it has a cluster of its own.
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = ManagedPostgres::start(dir.path(), true).unwrap();
    let options = cluster.connect_options("postgres");
    followup::db::migrate(&options).await.unwrap();
    let app = TestApp::spawn_on(options.clone()).await;
    let key = app.admin_key("hau-giang").await;

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let (stop, stopping) = watch::channel(false);
    let writers: Vec<_> = (0..4)
        .map(|w| {
            tokio::spawn(ledger::write(app.units(&key), w, ledger.clone(), stopping.clone(), Duration::from_secs(15)))
        })
        .collect();
    // And a reader, which must fail the same clean way.
    let reads = Arc::new(Mutex::new(Vec::new()));
    let reader = tokio::spawn({
        let (mut client, reads, stopping) = (app.units(&key), reads.clone(), stopping.clone());
        async move {
            while !*stopping.borrow() {
                let mut request = tonic::Request::new(pb::ListUnitsRequest { page_size: 10, ..Default::default() });
                request.set_timeout(CALL_DEADLINE);
                let started = Instant::now();
                let code = client.list_units(request).await.map_or_else(|s| s.code(), |_| Code::Ok);
                reads.lock().unwrap().push((code, started.elapsed()));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    });

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before_crash = ledger.lock().unwrap().acknowledged.len();
    assert!(before_crash > 0, "the load runs before the crash: {:?}", ledger.lock().unwrap().failures.first());
    let killed = Instant::now();
    tokio::task::block_in_place(|| cluster.kill());

    // The process stays up and says the database is gone.
    let mut not_serving_after = None;
    while killed.elapsed() < Duration::from_secs(3) {
        if not_serving_after.is_none() && health(&app).await == ServingStatus::NotServing {
            not_serving_after = Some(killed.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let not_serving_after = not_serving_after.expect("health went NOT_SERVING during the outage");

    tokio::task::block_in_place(|| cluster.restart().unwrap());
    let returned = Instant::now();
    let mut serving_after = None;
    let recovered = loop {
        if serving_after.is_none() && health(&app).await == ServingStatus::Serving {
            serving_after = Some(returned.elapsed());
        }
        let first_ack_after_return = {
            let ledger = ledger.lock().unwrap();
            ledger.acknowledged_at.iter().find(|at| **at > returned).map(|at| at.duration_since(returned))
        };
        if let (Some(recovered), Some(_)) = (first_ack_after_return, serving_after) {
            break recovered;
        }
        assert!(returned.elapsed() < Duration::from_secs(10), "no recovery within 10 s of the database's return");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop.send(true).unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    reader.await.unwrap();

    let ledger = Arc::try_unwrap(ledger).unwrap().into_inner().unwrap();
    let reads = reads.lock().unwrap().clone();
    let failures: Vec<_> = ledger.failures.iter().chain(reads.iter().filter(|(c, _)| *c != Code::Ok)).collect();
    let slowest_failure = failures.iter().map(|(_, took)| *took).max().unwrap_or_default();
    eprintln!(
        "acknowledged {} writes ({} before the crash); {} failed calls, codes {:?}, slowest failure {:?}; \
         NOT_SERVING {:?} after the kill; SERVING {:?} and first acknowledged write {:?} after the database returned",
        ledger.acknowledged.len(),
        before_crash,
        failures.len(),
        failures.iter().map(|(c, _)| format!("{c:?}")).collect::<std::collections::BTreeSet<_>>(),
        slowest_failure,
        not_serving_after,
        serving_after.unwrap(),
        recovered,
    );
    assert!(!failures.is_empty(), "calls during the outage fail");
    for (code, took) in &failures {
        assert_eq!(*code, Code::Unavailable, "failures during the outage are UNAVAILABLE, never INTERNAL or hangs");
        assert!(*took < CALL_DEADLINE, "a failure came after the caller's deadline: {took:?}");
    }
    assert!(recovered < Duration::from_secs(5), "the service recovers within 5 s of the database's return");

    let mut conn = app.operator().await;
    let made = ledger::assert_all_present_once(&mut conn, &ledger).await;
    assert!(made >= ledger.acknowledged.len());
    app.stop().await.unwrap();
}
