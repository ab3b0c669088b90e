//! Races: concurrent updates with one etag, and concurrent retries of one create, through
//! one server or spread over replicas (see replicas.rs).

use followup::api::proto::followup::v1::{self as pb, UnitKind};
use tonic::Code;

use crate::helpers::{TestApp, UnitClient};
use crate::units::{create, unit};
use crate::{assert_error, violated_fields};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_updates_with_one_etag_one_wins_the_rest_abort() {
    let app = TestApp::spawn().await;
    one_etag_one_winner(&[app.units(&app.admin_key("hau-giang").await)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_retries_of_one_create_make_exactly_one_unit() {
    let app = TestApp::spawn().await;
    one_request_id_one_unit(&[app.units(&app.admin_key("hau-giang").await)]).await;
}

/// Eight updates with one etag, sent at once through `clients` in turn: one wins.
pub async fn one_etag_one_winner(clients: &[UnitClient]) {
    let client = clients[0].clone();
    let snv = create(&mut client.clone(), "snv", unit("Sở Nội vụ", "SNV", UnitKind::Department)).await;
    let attempts = (0..8).map(|i| {
        let mut client = clients[i % clients.len()].clone();
        let snv = snv.clone();
        tokio::spawn(async move {
            client
                .update_unit(pb::UpdateUnitRequest {
                    unit: Some(pb::Unit {
                        name: snv.name.clone(),
                        display_name: format!("Tên {i}"),
                        etag: snv.etag.clone(),
                        ..Default::default()
                    }),
                    update_mask: Some(prost_types::FieldMask { paths: vec!["display_name".into()] }),
                })
                .await
        })
    });
    let results: Vec<_> = futures_join(attempts).await;
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "exactly one update wins");
    for status in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_error(status, Code::Aborted, "ETAG_MISMATCH");
    }
    let now = client.clone().get_unit(pb::GetUnitRequest { name: snv.name }).await.unwrap().into_inner();
    assert_eq!(now.display_name, winners[0].get_ref().display_name, "no lost update");
    assert_eq!(now.etag, "r2");
}

/// Eight retries of one create, sent at once through `clients` in turn: one unit.
pub async fn one_request_id_one_unit(clients: &[UnitClient]) {
    let client = clients[0].clone();
    let request = pb::CreateUnitRequest {
        unit: Some(unit("Sở Nội vụ", "SNV", UnitKind::Department)),
        unit_id: String::new(),
        request_id: "6f1c9a4e-1b2d-4c5e-8f90-123456789abc".into(),
    };
    let attempts = (0..8).map(|i| {
        let mut client = clients[i % clients.len()].clone();
        let request = request.clone();
        tokio::spawn(async move { client.create_unit(request).await })
    });
    let results = futures_join(attempts).await;
    let names: Vec<String> = results.into_iter().map(|r| r.expect("every retry succeeds").into_inner().name).collect();
    assert!(names.windows(2).all(|w| w[0] == w[1]), "every retry returns the first response: {names:?}");
    let all = client.clone().list_units(pb::ListUnitsRequest::default()).await.unwrap().into_inner().units;
    assert_eq!(all.len(), 1, "exactly one unit");

    // The same request id for a different request is refused.
    let status = client
        .clone()
        .create_unit(pb::CreateUnitRequest {
            unit: Some(unit("Sở Tài chính", "STC", UnitKind::Department)), ..request
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
    assert_eq!(violated_fields(&status), ["request_id"]);
}

/// Awaits spawned tasks in order.
async fn futures_join<T>(tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        out.push(task.await.unwrap());
    }
    out
}
