//! Reminders: the cadence before, on and after a deadline, stopping when the work is
//! done; escalation; exactly once per occurrence with two service instances; manual
//! urging and acknowledgement.

use std::time::Duration;

use followup::api::proto::followup::v1::{self as pb, reminder_service_client::ReminderServiceClient};
use followup::auth::principal::Role;
use tonic::Code;

use crate::assert_error;
use crate::helpers::{TestApp, bearer};
use crate::tracking_fixture::{Fixture, PLAN, date, evidence, task_name};

type Client = ReminderServiceClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, crate::helpers::Bearer>,
>;

fn client(app: &TestApp, key: &str) -> Client {
    ReminderServiceClient::with_interceptor(app.channel(), bearer(Some(key)))
}

async fn all(c: &mut Client) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = c
        .list_reminders(pb::ListRemindersRequest { page_size: 500, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .reminders
        .into_iter()
        .map(|r| (r.rule, r.unit, r.tasks.join(",")))
        .collect();
    out.sort();
    out
}

/// 10:00 in Vietnam on a day of March 2026.
fn march(day: u32) -> chrono::DateTime<chrono::Utc> {
    format!("2026-03-{day:02}T03:00:00Z").parse().unwrap()
}

#[tokio::test]
async fn cadence_before_on_and_after_the_deadline_stops_when_done_and_escalates() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    f.task("t", "stc", date(2026, 3, 10), &[]).await;
    f.issue().await;
    let services = app.services().await;
    let key = app.admin_key(crate::tracking_fixture::TENANT).await;
    let mut c = client(&app, &key);
    let run = |day: u32| {
        let services = services.clone();
        async move { followup::service::reminders::run_due(&services, march(day)).await.unwrap() }
    };
    let t = task_name("t");
    assert_eq!(run(6).await, 0, "four days before: nothing yet");
    assert_eq!(run(7).await, 1, "three days before");
    assert_eq!(run(8).await, 0, "the same occurrence is not sent again");
    assert_eq!(run(10).await, 1, "on the day");
    assert_eq!(run(11).await, 1, "first day overdue");
    assert_eq!(run(17).await, 0, "within the week");
    assert_eq!(run(18).await, 1, "a week later, again");
    assert_eq!(run(24).await, 1, "after 14 days overdue: escalated to the monitoring unit");
    assert_eq!(
        all(&mut c).await,
        [
            ("BEFORE".into(), "units/stc".into(), t.clone()),
            ("DUE_DAY".into(), "units/stc".into(), t.clone()),
            ("ESCALATION".into(), "units/snv".into(), t.clone()),
            ("OVERDUE".into(), "units/stc".into(), t.clone()),
            ("OVERDUE".into(), "units/stc".into(), t.clone()),
        ]
    );
    // Reported done: the reminders stop.
    f.admin
        .tasks
        .clone()
        .report_task_done(pb::ReportTaskDoneRequest { name: t.clone(), evidence: evidence(), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(run(25).await + run(31).await, 0);

    // Each automatic reminder is an event portals can follow.
    let events = followup::store::events::after(
        &mut app.operator().await,
        crate::tracking_fixture::TENANT,
        &followup::store::events::EventQuery { types: vec!["reminder.created".into()], ..Default::default() },
        0,
        100,
    )
    .await;
    // The operator connection is outside row-level security, so the tenant filter is the query's own.
    assert_eq!(events.unwrap().len(), 5);
}

#[tokio::test]
async fn rules_are_per_plan_and_validated() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    f.task("t", "stc", date(2026, 3, 10), &[]).await;
    f.issue().await;
    let key = app.admin_key(crate::tracking_fixture::TENANT).await;
    let mut c = client(&app, &key);
    let name = format!("{PLAN}/reminderRules");
    let rules = c.get_reminder_rules(pb::GetReminderRulesRequest { name: name.clone() }).await.unwrap().into_inner();
    assert_eq!((rules.days_before, rules.overdue_every_days, rules.escalate_after_days), (3, 7, 14), "the defaults");
    let status = c
        .update_reminder_rules(pb::UpdateReminderRulesRequest {
            reminder_rules: Some(pb::ReminderRules { name: name.clone(), days_before: -1, ..Default::default() }),
            update_mask: Some(prost_types::FieldMask { paths: vec!["days_before".into()] }),
        })
        .await
        .unwrap_err();
    assert_eq!(crate::violated_fields(&status), ["reminder_rules.days_before"]);
    let updated = c
        .update_reminder_rules(pb::UpdateReminderRulesRequest {
            reminder_rules: Some(pb::ReminderRules {
                name: name.clone(),
                days_before: 0,
                escalate_after_days: 2,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["days_before".into(), "escalate_after_days".into()],
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((updated.days_before, updated.on_due_day, updated.escalate_after_days), (0, true, 2));
    let services = app.services().await;
    assert_eq!(followup::service::reminders::run_due(&services, march(7)).await.unwrap(), 0, "no reminder before");
    assert_eq!(followup::service::reminders::run_due(&services, march(12)).await.unwrap(), 2, "overdue and escalated");
    let mut reader = client(&app, &app.key(crate::tracking_fixture::TENANT, Role::Reader, None).await);
    let status = reader
        .update_reminder_rules(pb::UpdateReminderRulesRequest {
            reminder_rules: Some(pb::ReminderRules { name, ..Default::default() }),
            update_mask: Some(prost_types::FieldMask { paths: vec!["days_before".into()] }),
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::PermissionDenied, "ROLE_NOT_ALLOWED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_service_instances_send_each_reminder_exactly_once() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    for i in 0..20 {
        f.task(&format!("t{i}"), if i % 2 == 0 { "stc" } else { "vi-thanh" }, date(2026, 3, 10), &[]).await;
    }
    f.issue().await;
    // Two more replicas on the same database, both running the scheduler every 20 ms on
    // a clock 15 days past the deadline, while this test also runs it by hand.
    let clock = std::sync::Arc::new(followup::domain::calendar::ManualClock::new(march(25)));
    let first = TestApp::spawn_with(app.db.clone(), clock.clone(), Some(Duration::from_millis(20))).await;
    let second = TestApp::spawn_with(app.db.clone(), clock.clone(), Some(Duration::from_millis(20))).await;
    let services = app.services().await;
    let mut by_hand = Vec::new();
    for _ in 0..4 {
        let services = services.clone();
        by_hand.push(tokio::spawn(async move {
            followup::service::reminders::run_due(&services, march(25)).await.unwrap()
        }));
    }
    for task in by_hand {
        task.await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.stop().await.unwrap();
    second.stop().await.unwrap();
    // Per task: one OVERDUE (occurrence #2: days 15-21) and one ESCALATION; the earlier
    // occurrences were never due while the service ran, so they are not sent late.
    let mut conn = app.operator().await;
    let (total, distinct): (i64, i64) = sqlx::query_as(
        "select count(*), count(distinct (subject, rule, occurrence, unit_id)) from reminders where tenant_id = $1",
    )
    .bind(crate::tracking_fixture::TENANT)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!((total, distinct), (40, 40));
}

#[tokio::test]
async fn the_monitoring_unit_urges_and_the_unit_acknowledges() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    f.task("t", "stc", date(2026, 3, 10), &[]).await;
    f.issue().await;
    let mut monitor = client(&app, &app.key(crate::tracking_fixture::TENANT, Role::Monitor, Some("units/snv")).await);
    let mut unit = client(&app, &app.key(crate::tracking_fixture::TENANT, Role::Unit, Some("units/stc")).await);
    let mut other = client(&app, &app.key(crate::tracking_fixture::TENANT, Role::Unit, Some("units/vi-thanh")).await);
    let urge = |document_ref: &str| pb::CreateReminderRequest {
        reminder: Some(pb::Reminder {
            plan: PLAN.into(),
            unit: "units/stc".into(),
            tasks: vec![task_name("t")],
            document_ref: document_ref.into(),
            message: "Đề nghị khẩn trương báo cáo kết quả.".into(),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let status = monitor.create_reminder(urge("120 /SNV")).await.unwrap_err();
    assert_eq!(crate::violated_fields(&status), ["reminder.document_ref"]);
    assert_error(&unit.create_reminder(urge("")).await.unwrap_err(), Code::PermissionDenied, "ROLE_NOT_ALLOWED");
    let sent = monitor.create_reminder(urge("120/SNV-TĐKT")).await.unwrap().into_inner();
    assert_eq!(
        (sent.kind(), sent.state(), sent.document_ref.as_str()),
        (pb::ReminderKind::Manual, pb::ReminderState::Open, "120/SNV-TĐKT")
    );

    // Only the addressed unit sees and acknowledges it.
    assert!(other.list_reminders(pb::ListRemindersRequest::default()).await.unwrap().into_inner().reminders.is_empty());
    let status =
        other.acknowledge_reminder(pb::AcknowledgeReminderRequest { name: sent.name.clone() }).await.unwrap_err();
    assert_error(&status, Code::NotFound, "RESOURCE_NOT_FOUND");
    let acknowledged = unit
        .acknowledge_reminder(pb::AcknowledgeReminderRequest { name: sent.name.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(acknowledged.state(), pb::ReminderState::Acknowledged);
    assert!(acknowledged.acknowledge_time.is_some());
    let filter = |f: &str| pb::ListRemindersRequest { filter: f.into(), ..Default::default() };
    assert_eq!(
        monitor
            .list_reminders(filter("kind = REMINDER_KIND_MANUAL AND state = REMINDER_STATE_ACKNOWLEDGED"))
            .await
            .unwrap()
            .into_inner()
            .reminders
            .len(),
        1
    );
    assert!(
        monitor.list_reminders(filter("state = REMINDER_STATE_OPEN")).await.unwrap().into_inner().reminders.is_empty()
    );
    assert_eq!(crate::violated_fields(&monitor.list_reminders(filter("colour = RED")).await.unwrap_err()), ["filter"]);
}

#[tokio::test]
async fn units_are_reminded_of_reports_due_soon_and_missing() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    f.task("t", "stc", date(2027, 12, 31), &[]).await;
    f.issue().await;
    let mut a = f.admin.clone();
    // Monthly reports, due 5 working days after the 14th.
    a.schedules
        .create_report_schedule(pb::CreateReportScheduleRequest {
            parent: PLAN.into(),
            report_schedule: Some(pb::ReportSchedule {
                period_kind: pb::PeriodKind::Month as i32,
                deadline_working_days: 5,
                units: vec!["units/stc".into()],
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    let services = app.services().await;
    let run = |at: &str| {
        let services = services.clone();
        let at: chrono::DateTime<chrono::Utc> = at.parse().unwrap();
        async move { followup::service::reminders::run_due(&services, at).await.unwrap() }
    };
    // The plan was issued on 20 May 2020: by 16 February 2026 every month to 2026-M02 is
    // cut off. 2026-M02 (cut off Saturday 14 February, then the Lunar New Year) is due on
    // Friday 27 February: not yet within 2 days. The months before are missing.
    let missing_before = run("2026-02-16T03:00:00Z").await;
    assert!(missing_before > 60, "every missing month since 2020: {missing_before}");
    let key = app.admin_key(crate::tracking_fixture::TENANT).await;
    let mut c = client(&app, &key);
    let due_soon = |rows: &[pb::Reminder]| {
        rows.iter().filter(|r| r.rule == "REPORT_DUE").map(|r| r.period.clone()).collect::<Vec<_>>()
    };
    let rows = c
        .list_reminders(pb::ListRemindersRequest { page_size: 500, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .reminders;
    assert!(due_soon(&rows).is_empty());
    assert!(rows.iter().any(|r| r.rule == "REPORT_MISSING" && r.period == "2026-M01"));
    // Two days before its deadline, 2026-M02 is due soon: one reminder, once.
    assert_eq!(run("2026-02-25T03:00:00Z").await, 1);
    assert_eq!(run("2026-02-26T03:00:00Z").await, 0);
    let rows = c
        .list_reminders(pb::ListRemindersRequest { page_size: 500, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .reminders;
    assert_eq!(due_soon(&rows), ["2026-M02"]);
}
