//! A steady write load that keeps a ledger of what the server acknowledged, for the fault
//! tests: afterwards every acknowledged write must be in the database, exactly once.
//!
//! Each writer creates units one after another with a `request_id`; a call that fails is
//! retried with the same `request_id` (as a portal retrying would) until it succeeds, so a
//! write whose acknowledgement was lost must not be applied twice.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use followup::api::proto::followup::v1::{self as pb, UnitKind};
use sqlx::PgConnection;
use tokio::sync::watch;
use tonic::Code;

use crate::helpers::UnitClient;

/// What the load saw.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Display names of the units the server acknowledged creating.
    pub acknowledged: Vec<String>,
    /// When each acknowledgement arrived.
    pub acknowledged_at: Vec<Instant>,
    /// Failed calls: their code and how long they took.
    pub failures: Vec<(Code, Duration)>,
    /// Latency of successful calls.
    pub latencies: Vec<Duration>,
    /// Calls the client library failed because their connection closed before they were
    /// sent.
    pub unsent: usize,
}

/// How long each call may take before the client gives up on it.
pub const CALL_DEADLINE: Duration = Duration::from_secs(1);

/// Creates units as writer `writer` until `stop` turns true, then retries the pending
/// one (if any) until `give_up`.
pub async fn write(
    mut client: UnitClient,
    writer: usize,
    ledger: Arc<Mutex<Ledger>>,
    stop: watch::Receiver<bool>,
    give_up: Duration,
) {
    let mut sequence = 0;
    let mut stopped_at = None;
    let mut note_stop = || {
        if stopped_at.is_none() && *stop.borrow() {
            stopped_at = Some(Instant::now());
        }
        stopped_at
    };
    loop {
        note_stop();
        let display_name = format!("Đơn vị thử {writer}-{sequence}");
        let request_id = uuid::Uuid::new_v4().to_string();
        // Retry this one write until it is acknowledged.
        loop {
            let mut request = tonic::Request::new(pb::CreateUnitRequest {
                unit: Some(pb::Unit {
                    display_name: display_name.clone(),
                    code: format!("W{writer}X{sequence}"),
                    kind: UnitKind::Department as i32,
                    ..Default::default()
                }),
                unit_id: String::new(),
                request_id: request_id.clone(),
            });
            request.set_timeout(CALL_DEADLINE);
            let started = Instant::now();
            let result = client.create_unit(request).await;
            let took = started.elapsed();
            {
                let mut ledger = ledger.lock().unwrap();
                match result {
                    Ok(_) => {
                        ledger.acknowledged.push(display_name.clone());
                        ledger.acknowledged_at.push(Instant::now());
                        ledger.latencies.push(took);
                        break;
                    }
                    // tonic's client calls a request whose connection closed before it
                    // was sent CANCELLED; the server never saw it (a shutdown's race).
                    Err(status)
                        if status.code() == Code::Cancelled && format!("{status:?}").contains("connection closed") =>
                    {
                        ledger.unsent += 1
                    }
                    Err(status) => ledger.failures.push((status.code(), took)),
                }
            }
            if note_stop().is_some_and(|at| at.elapsed() >= give_up) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if note_stop().is_some() {
            return;
        }
        sequence += 1;
    }
}

/// Asserts every acknowledged unit exists exactly once, and nothing else was created
/// twice; returns how many units the load made.
pub async fn assert_all_present_once(conn: &mut PgConnection, ledger: &Ledger) -> usize {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "select display_name, count(*) from units where display_name like 'Đơn vị thử %' group by display_name",
    )
    .fetch_all(conn)
    .await
    .unwrap();
    let duplicated: Vec<_> = rows.iter().filter(|(_, n)| *n > 1).collect();
    assert!(duplicated.is_empty(), "a retried request_id created a second unit: {duplicated:?}");
    let stored: std::collections::HashSet<_> = rows.iter().map(|(name, _)| name.as_str()).collect();
    let lost: Vec<_> = ledger.acknowledged.iter().filter(|name| !stored.contains(name.as_str())).collect();
    assert!(lost.is_empty(), "{} acknowledged writes were lost: {lost:?}", lost.len());
    rows.len()
}
