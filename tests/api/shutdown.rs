//! SIGTERM to the real binary during a steady write load: calls in flight finish, new
//! calls are refused with UNAVAILABLE, the process exits 0 within its drain time, and no
//! acknowledged write is lost.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use followup::api::proto::followup::v1::unit_service_client::UnitServiceClient;
use sqlx::Connection;
use tokio::sync::watch;
use tonic::Code;
use tonic::transport::Channel;

use crate::helpers::{bearer, fresh_database_url, wait_for_address};
use crate::ledger::{self, Ledger};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_drains_refuses_new_calls_and_loses_nothing() {
    let url = fresh_database_url().await;
    let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    let mut conn = sqlx::PgConnection::connect_with(&options).await.unwrap();
    followup::admin::create_tenant(&mut conn, "hau-giang", "Hậu Giang").await.unwrap();
    let key = followup::admin::create_key(&mut conn, "hau-giang", followup::auth::principal::Role::Admin, None, "test")
        .await
        .unwrap()
        .text;

    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("followup.log");
    let mut server = Command::new(env!("CARGO_BIN_EXE_followup"))
        .args(["--listen", "127.0.0.1:0", "--shutdown-timeout-secs", "10", "--reminder-interval-secs", "0"])
        .env("DATABASE_URL", &url)
        .env("FOLLOWUP_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let addr = wait_for_address(&log, Duration::from_secs(30));
    let channel = Channel::from_shared(format!("http://{addr}")).unwrap().connect_lazy();

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let (stop, stopping) = watch::channel(false);
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let client = UnitServiceClient::with_interceptor(channel.clone(), bearer(Some(&key)));
            tokio::spawn(ledger::write(client, w, ledger.clone(), stopping.clone(), Duration::ZERO))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = ledger.lock().unwrap().acknowledged.len();
    assert!(before > 0, "the load runs before the signal");

    let signalled = Instant::now();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(server.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = tokio::task::spawn_blocking(move || {
        loop {
            if let Some(status) = server.try_wait().unwrap() {
                return status;
            }
            assert!(signalled.elapsed() < Duration::from_secs(15), "no exit within the drain time");
            std::thread::sleep(Duration::from_millis(10));
        }
    })
    .await
    .unwrap();
    let exited = signalled.elapsed();
    // Calls after the exit are refused, not left hanging.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.send(true).unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    assert!(status.success(), "exit 0 on SIGTERM, got {status}");

    let ledger = Arc::try_unwrap(ledger).unwrap().into_inner().unwrap();
    let codes: std::collections::BTreeSet<String> = ledger.failures.iter().map(|(c, _)| format!("{c:?}")).collect();
    eprintln!(
        "acknowledged {} writes ({before} before SIGTERM); exited {exited:?} after SIGTERM; {} refused calls, codes \
         {codes:?}; {} not sent as the connection closed",
        ledger.acknowledged.len(),
        ledger.failures.len(),
        ledger.unsent,
    );
    assert!(!ledger.failures.is_empty(), "calls after the shutdown are refused");
    for (code, _) in &ledger.failures {
        assert_eq!(*code, Code::Unavailable, "refusals are UNAVAILABLE; in-flight calls finish: {:?}", ledger.failures);
    }
    ledger::assert_all_present_once(&mut conn, &ledger).await;
}
