//! Hostile and careless input: oversized messages, over-long strings and lists, strange
//! names and text. Each is refused with a clear status naming the field, or stored as
//! plain text; none reaches the database as anything but a bound value.

use std::sync::Arc;

use followup::api::proto::followup::v1::{
    self as pb, UnitKind, audit_service_client::AuditServiceClient, event_service_client::EventServiceClient,
    holiday_service_client::HolidayServiceClient,
};
use followup::domain::calendar::ManualClock;
use followup::server::ServerSettings;
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::{TestApp, bearer, default_now, fresh_database};
use crate::units::{create, unit};
use crate::{assert_error, violated_fields};

#[tokio::test]
async fn a_message_over_the_limit_is_resource_exhausted_with_the_limit() {
    let clock = Arc::new(ManualClock::new(default_now()));
    let app =
        TestApp::spawn_custom(fresh_database().await, clock, |s| ServerSettings { max_message_bytes: 64 * 1024, ..s })
            .await;
    let mut units = app.units(&app.admin_key("hau-giang").await);
    let huge = pb::CreateUnitRequest {
        unit: Some(unit(&"Sở ".repeat(40_000), "SNV", UnitKind::Department)),
        unit_id: String::new(),
        request_id: String::new(),
    };
    let status = units.create_unit(huge).await.unwrap_err();
    assert_error(&status, Code::ResourceExhausted, "MESSAGE_TOO_LARGE");
    assert_eq!(status.get_error_details().error_info().unwrap().metadata["limit_bytes"], "65536");
    assert!(status.message().contains("65536 bytes"), "{}", status.message());

    // Under the limit, an over-long name is the field's own error.
    let long = pb::CreateUnitRequest {
        unit: Some(unit(&"S".repeat(301), "SNV", UnitKind::Department)),
        unit_id: String::new(),
        request_id: String::new(),
    };
    let status = units.create_unit(long).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["unit.display_name"]);
    // And the server still serves.
    create(&mut units, "snv", unit("Sở Nội vụ", "SNV", UnitKind::Department)).await;
}

#[tokio::test]
async fn filters_of_audit_and_events_have_limits() {
    let app = TestApp::spawn().await;
    let key = app.admin_key("hau-giang").await;
    let mut audit = AuditServiceClient::with_interceptor(app.channel(), bearer(Some(&key)));
    let request = pb::ListAuditRecordsRequest {
        resource_prefix: "x".repeat(501),
        actor: "k".repeat(101),
        action: "a".repeat(101),
        ..Default::default()
    };
    let status = audit.list_audit_records(request).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["resource_prefix", "actor", "action"]);

    let mut events = EventServiceClient::with_interceptor(app.channel(), bearer(Some(&key)));
    let request = pb::ListEventsRequest { types: vec!["task.accepted".into(), "t".repeat(101)], ..Default::default() };
    let status = events.list_events(request).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["types[1]"]);
}

#[tokio::test]
async fn holiday_names_have_exactly_one_form() {
    let app = TestApp::spawn().await;
    let key = app.admin_key("hau-giang").await;
    let mut holidays = HolidayServiceClient::with_interceptor(app.channel(), bearer(Some(&key)));
    for name in
        ["holidays/ 2026-02-17", "holidays/+002026-02-17", "holidays/2026-2-17", "holidays/2026-02-30", "2026-02-17"]
    {
        let status = holidays.delete_holiday(pb::DeleteHolidayRequest { name: name.into() }).await.unwrap_err();
        assert_eq!(violated_fields(&status), ["name"], "{name}");
    }
}

#[tokio::test]
async fn names_with_metacharacters_and_odd_unicode_are_refused_or_stored_as_text() {
    let app = TestApp::spawn().await;
    let mut units = app.units(&app.admin_key("hau-giang").await);
    for name in ["units/../secrets", "units/snv'; drop table units; --", "units/SNV", "units/snv\u{200B}", "units/"] {
        let status = units.get_unit(pb::GetUnitRequest { name: name.into() }).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{name}: {status:?}");
        assert_eq!(violated_fields(&status), ["name"], "{name}");
    }
    // Text is text: quotes, percent signs and right-to-left marks are stored as given (NFC).
    let odd = "Phòng 'A'; --% \u{200F}Ban\u{200F}";
    let made = create(&mut units, "phong-a", unit(odd, "PA", UnitKind::Department)).await;
    assert_eq!(made.display_name, odd);
    let nfd = "Pho\u{300}ng Nội vụ";
    let made = create(&mut units, "phong-nv", unit(nfd, "PNV", UnitKind::Department)).await;
    assert_eq!(made.display_name, "Phòng Nội vụ", "stored in NFC");
    let found = units
        .list_units(pb::ListUnitsRequest { filter: r#""'a'; --%""#.into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.units.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), ["units/phong-a"]);
}
