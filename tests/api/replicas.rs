//! Two service processes on one database serve one province consistently: etags and
//! request IDs hold across them. (The reminder scheduler's exactly-once across replicas
//! is in reminders.rs, and a report submitted through both at once in reports.rs.)

use crate::helpers::TestApp;
use crate::units_concurrency::{one_etag_one_winner, one_request_id_one_unit};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etags_hold_across_replicas() {
    let a = TestApp::spawn().await;
    let b = TestApp::spawn_on(a.db.clone()).await;
    let key = a.admin_key("hau-giang").await;
    one_etag_one_winner(&[a.units(&key), b.units(&key)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_hold_across_replicas() {
    let a = TestApp::spawn().await;
    let b = TestApp::spawn_on(a.db.clone()).await;
    let key = a.admin_key("hau-giang").await;
    one_request_id_one_unit(&[a.units(&key), b.units(&key)]).await;
}
