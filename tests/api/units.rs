//! UnitService: creating, reading, updating and dissolving units, and every refusal.

use followup::api::proto::followup::v1::{self as pb, UnitKind};
use followup::api::proto::google::r#type::Date;
use prost_types::FieldMask;
use tonic::Code;

use crate::helpers::{TestApp, UnitClient};
use crate::{assert_error, violated_fields};

pub fn unit(display_name: &str, code: &str, kind: UnitKind) -> pb::Unit {
    pb::Unit { display_name: display_name.into(), code: code.into(), kind: kind as i32, ..Default::default() }
}

pub async fn create(client: &mut UnitClient, id: &str, unit: pb::Unit) -> pb::Unit {
    client
        .create_unit(pb::CreateUnitRequest { unit: Some(unit), unit_id: id.into(), request_id: String::new() })
        .await
        .unwrap_or_else(|s| panic!("create {id}: {s:?}"))
        .into_inner()
}

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() })
}

#[tokio::test]
async fn create_get_and_defaults() {
    let app = TestApp::spawn().await;
    let mut client = app.units(&app.admin_key("hau-giang").await);
    let ubnd =
        create(&mut client, "ubnd", unit("Ủy ban nhân dân tỉnh Hậu Giang", "UBND", UnitKind::PeoplesCommittee)).await;
    assert_eq!(ubnd.name, "units/ubnd");
    assert_eq!(ubnd.etag, "r1");
    // valid_from defaults to today in Vietnam: the test clock says 2026-03-02 10:00 there.
    assert_eq!(ubnd.valid_from, Some(Date { year: 2026, month: 3, day: 2 }));
    assert!(ubnd.create_time.is_some() && ubnd.valid_to.is_none());

    let snv = create(
        &mut client,
        "",
        pb::Unit { parent: "units/ubnd".into(), ..unit("Sở Nội vụ", "SNV", UnitKind::Department) },
    )
    .await;
    assert!(snv.name.starts_with("units/") && snv.name.len() == "units/".len() + 16, "generated id: {}", snv.name);
    assert_eq!(snv.parent, "units/ubnd");

    let got = client.get_unit(pb::GetUnitRequest { name: snv.name.clone() }).await.unwrap().into_inner();
    assert_eq!(got, snv);

    // "Today" turns at midnight in Vietnam: 17:00 UTC on 30 June is 00:00 on 1 July there.
    app.clock.set("2025-06-30T16:59:59Z".parse().unwrap());
    let before = create(&mut client, "before-midnight", unit("A", "A", UnitKind::Agency)).await;
    assert_eq!(before.valid_from, Some(Date { year: 2025, month: 6, day: 30 }));
    app.clock.set("2025-06-30T17:00:00Z".parse().unwrap());
    let after = create(&mut client, "after-midnight", unit("B", "B", UnitKind::Agency)).await;
    assert_eq!(after.valid_from, Some(Date { year: 2025, month: 7, day: 1 }));
}

#[tokio::test]
async fn names_are_stored_in_nfc() {
    let app = TestApp::spawn().await;
    let mut client = app.units(&app.admin_key("hau-giang").await);
    let nfd = "So\u{31b}\u{309} No\u{323}\u{302}i vu\u{323}"; // "Sở Nội vụ" with combining marks
    let created = create(&mut client, "snv", unit(nfd, "SNV", UnitKind::Department)).await;
    assert_eq!(created.display_name, "Sở Nội vụ");
}

#[tokio::test]
async fn create_names_every_bad_field() {
    let app = TestApp::spawn().await;
    let mut client = app.units(&app.admin_key("hau-giang").await);
    let status = client
        .create_unit(pb::CreateUnitRequest {
            unit: Some(pb::Unit {
                display_name: " ".into(),
                code: "KH-UBND".into(),
                kind: 42,
                parent: "plans/x".into(),
                valid_from: Some(Date { year: 2025, month: 2, day: 30 }),
                ..Default::default()
            }),
            unit_id: "Bad_ID".into(),
            request_id: "not-a-uuid".into(),
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
    let mut fields = violated_fields(&status);
    fields.sort();
    assert_eq!(
        fields,
        ["request_id", "unit.code", "unit.display_name", "unit.kind", "unit.parent", "unit.valid_from", "unit_id"]
    );
    assert!(status.message().contains("unit.code"), "message stands on its own: {}", status.message());

    let status = client.create_unit(pb::CreateUnitRequest::default()).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["unit"]);
}

#[tokio::test]
async fn missing_and_malformed_names() {
    let app = TestApp::spawn().await;
    let mut client = app.units(&app.admin_key("hau-giang").await);
    let status = client.get_unit(pb::GetUnitRequest { name: "units/nope".into() }).await.unwrap_err();
    assert_error(&status, Code::NotFound, "RESOURCE_NOT_FOUND");
    assert_eq!(status.message(), "units/nope was not found");
    for bad in ["", "nope", "units/", "units/A", "units/a/b", "units/x' or '1'='1"] {
        let status = client.get_unit(pb::GetUnitRequest { name: bad.into() }).await.unwrap_err();
        assert_error(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
        assert_eq!(violated_fields(&status), ["name"], "{bad:?}");
    }
}

#[tokio::test]
async fn duplicate_ids_and_codes_are_refused() {
    let app = TestApp::spawn().await;
    let mut client = app.units(&app.admin_key("hau-giang").await);
    create(&mut client, "snv", unit("Sở Nội vụ", "SNV", UnitKind::Department)).await;
    let req = |id: &str, code: &str| pb::CreateUnitRequest {
        unit: Some(unit("Khác", code, UnitKind::Agency)),
        unit_id: id.into(),
        request_id: String::new(),
    };
    let status = client.create_unit(req("snv", "OTHER")).await.unwrap_err();
    assert_error(&status, Code::AlreadyExists, "UNIT_ALREADY_EXISTS");
    let status = client.create_unit(req("other", "SNV")).await.unwrap_err();
    assert_error(&status, Code::AlreadyExists, "UNIT_CODE_TAKEN");
    assert!(!status.message().to_lowercase().contains("constraint"), "no SQL leaks: {}", status.message());
}

#[tokio::test]
async fn parent_must_exist_and_be_open() {
    let app = TestApp::spawn().await;
    let mut client = app.units(&app.admin_key("hau-giang").await);
    let status = client
        .create_unit(pb::CreateUnitRequest {
            unit: Some(pb::Unit {
                parent: "units/ghost".into(), ..unit("Sở Nội vụ", "SNV", UnitKind::Department)
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "RESOURCE_NOT_FOUND");

    create(
        &mut client,
        "hg",
        pb::Unit {
            valid_from: Some(Date { year: 2004, month: 1, day: 1 }),
            ..unit("Tỉnh Hậu Giang", "HG", UnitKind::PeoplesCommittee)
        },
    )
    .await;
    client
        .dissolve_unit(pb::DissolveUnitRequest {
            name: "units/hg".into(),
            valid_to: Some(Date { year: 2025, month: 7, day: 1 }),
            ..Default::default()
        })
        .await
        .unwrap();
    let status = client
        .create_unit(pb::CreateUnitRequest {
            unit: Some(pb::Unit { parent: "units/hg".into(), ..unit("Sở Nội vụ", "SNV", UnitKind::Department) }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "PARENT_DISSOLVED");
}

#[tokio::test]
async fn update_with_mask_and_etag() {
    let app = TestApp::spawn().await;
    let mut client = app.units(&app.admin_key("hau-giang").await);
    let snv = create(&mut client, "snv", unit("Sở Nội vụ", "SNV", UnitKind::Department)).await;
    let updated = client
        .update_unit(pb::UpdateUnitRequest {
            unit: Some(pb::Unit {
                name: snv.name.clone(),
                display_name: "Sở Nội vụ tỉnh Hậu Giang".into(),
                code: "IGNORED".into(),
                etag: snv.etag.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["display_name"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.display_name, "Sở Nội vụ tỉnh Hậu Giang");
    assert_eq!(updated.code, "SNV", "fields outside the mask stay");
    assert_ne!(updated.etag, snv.etag);

    // The first etag is stale now.
    let status = client
        .update_unit(pb::UpdateUnitRequest {
            unit: Some(pb::Unit {
                name: snv.name.clone(),
                display_name: "x".into(),
                etag: snv.etag.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["display_name"]),
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::Aborted, "ETAG_MISMATCH");

    for (paths, field) in [
        (vec![], "update_mask"),
        (vec!["name"], "update_mask"),
        (vec!["etag"], "update_mask"),
        (vec!["kind"], "unit.kind"),
    ] {
        let status = client
            .update_unit(pb::UpdateUnitRequest {
                unit: Some(pb::Unit { name: snv.name.clone(), ..Default::default() }),
                update_mask: mask(&paths),
            })
            .await
            .unwrap_err();
        assert_error(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
        assert_eq!(violated_fields(&status), [field], "{paths:?}");
    }
}

#[tokio::test]
async fn tree_has_no_cycles() {
    let app = TestApp::spawn().await;
    let mut client = app.units(&app.admin_key("hau-giang").await);
    create(&mut client, "a", unit("A", "A", UnitKind::PeoplesCommittee)).await;
    create(&mut client, "b", pb::Unit { parent: "units/a".into(), ..unit("B", "B", UnitKind::Department) }).await;
    create(&mut client, "c", pb::Unit { parent: "units/b".into(), ..unit("C", "C", UnitKind::Agency) }).await;
    // a under its grandchild, and a under itself.
    for (target, parent) in [("units/a", "units/c"), ("units/a", "units/a")] {
        let status = client
            .update_unit(pb::UpdateUnitRequest {
                unit: Some(pb::Unit { name: target.into(), parent: parent.into(), ..Default::default() }),
                update_mask: mask(&["parent"]),
            })
            .await
            .unwrap_err();
        assert_error(&status, Code::FailedPrecondition, "UNIT_TREE_CYCLE");
    }
    // Moving c to the root and back under a is fine.
    for parent in ["", "units/a"] {
        let moved = client
            .update_unit(pb::UpdateUnitRequest {
                unit: Some(pb::Unit { name: "units/c".into(), parent: parent.into(), ..Default::default() }),
                update_mask: mask(&["parent"]),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(moved.parent, parent);
    }
}

#[tokio::test]
async fn dissolve_frees_the_code_and_names_a_successor() {
    let app = TestApp::spawn().await;
    let mut client = app.units(&app.admin_key("can-tho").await);
    let day = |y, m, d| Some(Date { year: y, month: m, day: d });
    create(
        &mut client,
        "hau-giang",
        pb::Unit { valid_from: day(2004, 1, 1), ..unit("Tỉnh Hậu Giang", "HG", UnitKind::PeoplesCommittee) },
    )
    .await;
    create(
        &mut client,
        "can-tho",
        pb::Unit { valid_from: day(2004, 1, 1), ..unit("Thành phố Cần Thơ", "CT", UnitKind::PeoplesCommittee) },
    )
    .await;

    let status = client
        .dissolve_unit(pb::DissolveUnitRequest {
            name: "units/hau-giang".into(),
            valid_to: day(2000, 1, 1),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["valid_to"]);
    let status = client
        .dissolve_unit(pb::DissolveUnitRequest {
            name: "units/hau-giang".into(),
            successor: "units/hau-giang".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["successor"]);

    let dissolved = client
        .dissolve_unit(pb::DissolveUnitRequest {
            name: "units/hau-giang".into(),
            valid_to: day(2025, 7, 1),
            successor: "units/can-tho".into(),
            reason: "Nghị quyết 202/2025/QH15 sắp xếp đơn vị hành chính cấp tỉnh".into(),
            etag: "r1".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(dissolved.valid_to, day(2025, 7, 1));
    assert_eq!(dissolved.successor, "units/can-tho");

    let status = client
        .dissolve_unit(pb::DissolveUnitRequest { name: "units/hau-giang".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "UNIT_ALREADY_DISSOLVED");

    // The code HG is free again, and the dissolved unit cannot be a successor.
    create(
        &mut client,
        "hg-new",
        pb::Unit { valid_from: day(2025, 7, 1), ..unit("Đơn vị mới", "HG", UnitKind::Agency) },
    )
    .await;
    let status = client
        .dissolve_unit(pb::DissolveUnitRequest {
            name: "units/hg-new".into(),
            successor: "units/hau-giang".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "SUCCESSOR_DISSOLVED");
}

#[tokio::test]
async fn every_change_is_audited_with_an_event() {
    let app = TestApp::spawn().await;
    let mut client = app.units(&app.admin_key("hau-giang").await);
    let since_2004 = Some(Date { year: 2004, month: 1, day: 1 });
    let snv = create(
        &mut client,
        "snv",
        pb::Unit { valid_from: since_2004, ..unit("Sở Nội vụ", "SNV", UnitKind::Department) },
    )
    .await;
    client
        .update_unit(pb::UpdateUnitRequest {
            unit: Some(pb::Unit { name: snv.name.clone(), code: "SNV2".into(), ..Default::default() }),
            update_mask: mask(&["code"]),
        })
        .await
        .unwrap();
    client
        .dissolve_unit(pb::DissolveUnitRequest {
            name: snv.name.clone(),
            reason: "sáp nhập".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    // A refused change leaves no trace.
    client.dissolve_unit(pb::DissolveUnitRequest { name: snv.name.clone(), ..Default::default() }).await.unwrap_err();

    let mut conn = app.operator().await;
    type Json = Option<serde_json::Value>;
    let audit: Vec<(String, String, Option<String>, Json, Json)> = sqlx::query_as(
        "select action, actor, reason, before, after from audit_records where tenant_id = 'hau-giang' and resource = 'units/snv' order by audit_id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(actions, ["CreateUnit", "UpdateUnit", "DissolveUnit"]);
    assert!(audit.iter().all(|a| a.1.starts_with("keys/")));
    assert_eq!(audit[1].3.as_ref().unwrap()["code"], "SNV");
    assert_eq!(audit[1].4.as_ref().unwrap()["code"], "SNV2");
    assert_eq!(audit[2].2.as_deref(), Some("sáp nhập"));

    let events: Vec<String> = sqlx::query_scalar(
        "select type from events where tenant_id = 'hau-giang' and resource = 'units/snv' order by event_id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(events, ["unit.created", "unit.updated", "unit.dissolved"]);
}
