//! The event stream and the audit trail API.

use std::time::Duration;

use followup::api::proto::followup::v1::{
    self as pb, audit_service_client::AuditServiceClient, event_service_client::EventServiceClient,
};
use followup::auth::principal::Role;
use tonic::Code;
use tonic_types::StatusExt;

use crate::assert_error;
use crate::helpers::{TestApp, bearer};
use crate::units::unit;

fn events(
    app: &TestApp,
    key: &str,
) -> EventServiceClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, crate::helpers::Bearer>,
> {
    EventServiceClient::with_interceptor(app.channel(), bearer(Some(key)))
}

async fn create_unit(app: &TestApp, key: &str, id: &str) -> Result<pb::Unit, tonic::Status> {
    app.units(key)
        .create_unit(pb::CreateUnitRequest {
            unit: Some(unit(&format!("Đơn vị {id}"), &id.to_uppercase().replace('-', ""), pb::UnitKind::Agency)),
            unit_id: id.into(),
            request_id: String::new(),
        })
        .await
        .map(|r| r.into_inner())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_that_resumes_misses_nothing_and_sees_nothing_twice() {
    let app = TestApp::spawn().await;
    let key = app.admin_key("hau-giang").await;
    // Writes go on all along, from another task.
    let writer = {
        let mut units = app.units(&key);
        tokio::spawn(async move {
            for i in 0..60 {
                let request = pb::CreateUnitRequest {
                    unit: Some(unit(&format!("Đơn vị {i}"), &format!("U{i}"), pb::UnitKind::Agency)),
                    unit_id: format!("u{i:02}"),
                    request_id: String::new(),
                };
                units.create_unit(request).await.unwrap();
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let mut seen: Vec<i64> = Vec::new();
    let mut cursor = 0;
    // Three sessions: each reads a few events, then disconnects; the last reads to the end.
    for session in 0..3 {
        let mut stream = events(&app, &key)
            .watch_events(pb::WatchEventsRequest { after_event_id: cursor, ..Default::default() })
            .await
            .unwrap()
            .into_inner();
        let want = if session < 2 { 15 } else { usize::MAX };
        let mut got = 0;
        while got < want {
            let next = tokio::time::timeout(Duration::from_secs(5), stream.message()).await;
            let Ok(Ok(Some(event))) = next else { break };
            seen.push(event.event_id);
            cursor = event.event_id;
            got += 1;
            if session == 2 && seen.len() >= 60 {
                break;
            }
        }
        drop(stream);
    }
    writer.await.unwrap();
    let expected: Vec<i64> = (1..=60).collect();
    assert_eq!(seen, expected, "every event once, in order, with no gap");
}

#[tokio::test]
async fn events_are_per_tenant_and_a_rolled_back_write_emits_none() {
    let app = TestApp::spawn().await;
    let a = app.admin_key("hau-giang").await;
    let b = app.admin_key("can-tho").await;
    create_unit(&app, &a, "snv").await.unwrap();
    create_unit(&app, &b, "stc").await.unwrap();
    // A refused write (the code is taken) rolls back: no event, no gap in the IDs.
    let status = app
        .units(&a)
        .create_unit(pb::CreateUnitRequest {
            unit: Some(unit("Khác", "SNV", pb::UnitKind::Agency)),
            unit_id: "other".into(),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    create_unit(&app, &a, "stp").await.unwrap();

    let list = |key: &str| {
        let mut client = events(&app, key);
        async move { client.list_events(pb::ListEventsRequest::default()).await.unwrap().into_inner().events }
    };
    let a_events = list(&a).await;
    assert_eq!(
        a_events.iter().map(|e| (e.event_id, e.resource.as_str(), e.r#type.as_str())).collect::<Vec<_>>(),
        [(1, "units/snv", "unit.created"), (2, "units/stp", "unit.created")]
    );
    let b_events = list(&b).await;
    assert_eq!(b_events.iter().map(|e| e.resource.as_str()).collect::<Vec<_>>(), ["units/stc"]);
    assert_eq!(b_events[0].event_id, 1, "each province counts its own events");

    // Filters by resource prefix and type, and pages.
    let mut client = events(&app, &a);
    let filtered = client
        .list_events(pb::ListEventsRequest {
            resource_prefix: "units/st".into(),
            types: vec!["unit.created".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(filtered.events.len(), 1);
    let first =
        client.list_events(pb::ListEventsRequest { page_size: 1, ..Default::default() }).await.unwrap().into_inner();
    let second = client
        .list_events(pb::ListEventsRequest { page_size: 1, page_token: first.next_page_token, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((first.events[0].event_id, second.events[0].event_id), (1, 2));
}

#[tokio::test]
async fn a_cursor_older_than_the_retention_gets_out_of_range() {
    let app = TestApp::spawn().await;
    let key = app.admin_key("hau-giang").await;
    for id in ["a", "b", "c"] {
        create_unit(&app, &key, id).await.unwrap();
    }
    // Purge everything older than a day, as of a year from now.
    let services = followup::service::Services::connect(
        &app.db,
        crate::helpers::settings(app.db.clone(), app.clock.clone()).pool,
        app.clock.clone(),
    )
    .await
    .unwrap();
    let later = chrono::Utc::now() + chrono::Duration::days(365);
    let purged = followup::service::events::purge_expired(&services, later, Duration::from_secs(86_400)).await.unwrap();
    assert_eq!(purged, 3);
    create_unit(&app, &key, "d").await.unwrap();

    let mut client = events(&app, &key);
    let status =
        client.watch_events(pb::WatchEventsRequest { after_event_id: 1, ..Default::default() }).await.unwrap_err();
    assert_error(&status, Code::OutOfRange, "EVENTS_EXPIRED");
    let info = status.get_error_details().error_info().cloned().unwrap();
    assert_eq!(info.metadata.get("oldest_available_event_id").map(String::as_str), Some("4"));
    let mut stream = client
        .watch_events(pb::WatchEventsRequest { after_event_id: 3, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stream.message().await.unwrap().unwrap().resource, "units/d");
}

#[tokio::test]
async fn the_audit_trail_is_for_monitors_and_admins_and_filters() {
    let app = TestApp::spawn().await;
    let key = app.admin_key("hau-giang").await;
    for id in ["a", "b"] {
        create_unit(&app, &key, id).await.unwrap();
    }
    app.units(&key)
        .dissolve_unit(pb::DissolveUnitRequest {
            name: "units/a".into(),
            reason: "Sáp nhập".into(),
            ..Default::default()
        })
        .await
        .unwrap_err(); // created today: dissolving the same day is refused, and leaves no record
    let mut audit = AuditServiceClient::with_interceptor(app.channel(), bearer(Some(&key)));
    let all =
        audit.list_audit_records(pb::ListAuditRecordsRequest::default()).await.unwrap().into_inner().audit_records;
    let actions: Vec<(&str, &str)> = all.iter().map(|r| (r.action.as_str(), r.resource.as_str())).collect();
    assert_eq!(actions[..2], [("CreateUnit", "units/b"), ("CreateUnit", "units/a")], "newest first");
    let only_a = audit
        .list_audit_records(pb::ListAuditRecordsRequest {
            resource_prefix: "units/a".into(),
            action: "CreateUnit".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .audit_records;
    assert_eq!(only_a.len(), 1);
    let after = only_a[0].after.as_ref().unwrap();
    assert_eq!(
        after.fields.get("code").and_then(|v| v.kind.clone()),
        Some(prost_types::value::Kind::StringValue("A".into()))
    );
    let page = audit
        .list_audit_records(pb::ListAuditRecordsRequest { page_size: 1, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.audit_records.len(), 1);
    assert!(!page.next_page_token.is_empty());

    for role in [Role::Unit, Role::Reader] {
        let unit_arg = (role == Role::Unit).then_some("units/a");
        let other = app.key("hau-giang", role, unit_arg).await;
        let mut client = AuditServiceClient::with_interceptor(app.channel(), bearer(Some(&other)));
        let status = client.list_audit_records(pb::ListAuditRecordsRequest::default()).await.unwrap_err();
        assert_error(&status, Code::PermissionDenied, "ROLE_NOT_ALLOWED");
    }
    let monitor = app.key("hau-giang", Role::Monitor, None).await;
    let mut client = AuditServiceClient::with_interceptor(app.channel(), bearer(Some(&monitor)));
    client.list_audit_records(pb::ListAuditRecordsRequest::default()).await.unwrap();
}
