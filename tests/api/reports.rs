//! Progress reports: deadlines in working days, submission applying its items all or
//! none, lateness, review with versions, missing reports, consolidated progress and
//! exports.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use followup::api::proto::followup::v1 as pb;
use followup::auth::principal::Role;
use tonic::Code;

use crate::helpers::TestApp;
use crate::tracking_fixture::{Clients, Fixture, PLAN, REC_REVIEW, date, evidence, task_name};
use crate::{assert_error, violated_fields};

async fn schedule(c: &mut Clients, kind: pb::PeriodKind, days: i32, units: &[&str]) {
    c.schedules
        .create_report_schedule(pb::CreateReportScheduleRequest {
            parent: PLAN.into(),
            report_schedule: Some(pb::ReportSchedule {
                period_kind: kind as i32,
                deadline_working_days: days,
                units: units.iter().map(|u| format!("units/{u}")).collect(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
}

fn report(unit: &str, period: &str, items: Vec<pb::ReportItem>) -> pb::CreateReportRequest {
    pb::CreateReportRequest {
        parent: PLAN.into(),
        report: Some(pb::Report {
            unit: format!("units/{unit}"),
            period: period.into(),
            document_ref: "45/BC-STC".into(),
            summary: "Báo cáo tiến độ.".into(),
            items,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn item(task: &str, state: pb::TaskState, percent: i32) -> pb::ReportItem {
    pb::ReportItem {
        task: task_name(task),
        state: state as i32,
        progress_percent: percent,
        done: format!("Tiến độ {percent}%"),
        evidence: (state == pb::TaskState::ReportedDone).then(|| evidence().unwrap()),
        ..Default::default()
    }
}

async fn task_state(c: &mut Clients, id: &str) -> pb::Task {
    c.tasks.get_task(pb::GetTaskRequest { name: task_name(id) }).await.unwrap().into_inner()
}

#[tokio::test]
async fn deadlines_count_working_days_skipping_weekends_and_holidays_and_year_ends() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    let mut a = f.admin.clone();
    f.task("t", "stc", date(2026, 12, 31), &[]).await;
    f.issue().await;
    schedule(&mut a, pb::PeriodKind::Month, 1, &["stc"]).await;
    schedule(&mut a, pb::PeriodKind::Year, 5, &["stc"]).await;
    let deadline = |r: pb::Report| r.deadline.unwrap();
    // 2026-M02 is cut off on Saturday 14 February; Monday 16 to Friday 20 are the Lunar New
    // Year holidays (seeded), so one working day later is Monday 23 February.
    let feb = a.reports.create_report(report("stc", "2026-M02", vec![])).await.unwrap().into_inner();
    assert_eq!(Some(deadline(feb)), date(2026, 2, 23));
    // Across a year end: 2026-M01 runs 15 December 2025 to 14 January 2026 (a Wednesday).
    let jan = a.reports.create_report(report("stc", "2026-M01", vec![])).await.unwrap().into_inner();
    assert_eq!(Some(deadline(jan)), date(2026, 1, 15));
    // The year 2025 ends on 14 December 2025 (a Sunday): five working days later.
    let year = a.reports.create_report(report("stc", "2025", vec![])).await.unwrap().into_inner();
    assert_eq!(Some(deadline(year)), date(2025, 12, 19));
    // A holiday the province adds moves deadlines counted after it.
    a.holidays
        .create_holiday(pb::CreateHolidayRequest {
            holiday: Some(pb::Holiday {
                day: date(2026, 3, 16), display_name: "Nghỉ bù".into(), ..Default::default()
            }),
        })
        .await
        .unwrap();
    let mar = a.reports.create_report(report("stc", "2026-M03", vec![])).await.unwrap().into_inner();
    assert_eq!(Some(deadline(mar)), date(2026, 3, 17), "Saturday 14 March, Monday 16 a holiday");
    let holidays =
        a.holidays.list_holidays(pb::ListHolidaysRequest { year: 2026 }).await.unwrap().into_inner().holidays;
    assert!(holidays.iter().any(|h| h.name == "holidays/2026-02-17"));

    // A period kind without a schedule, or a malformed key, is refused.
    let status = a.reports.create_report(report("stc", "2026-Q1", vec![])).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["report.period"]);
    let status = a.reports.create_report(report("stc", "2026-M13", vec![])).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["report.period"]);
    // One open report per unit, plan and period.
    let status = a.reports.create_report(report("stc", "2026-M02", vec![])).await.unwrap_err();
    assert_error(&status, Code::AlreadyExists, "REPORT_ALREADY_OPEN");
}

#[tokio::test]
async fn submission_applies_every_item_or_none() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    let mut a = f.admin.clone();
    f.task("t1", "stc", date(2026, 6, 30), &[REC_REVIEW]).await;
    f.task("t2", "stc", date(2026, 6, 30), &[]).await;
    f.task("other", "vi-thanh", date(2026, 6, 30), &[]).await;
    f.issue().await;
    schedule(&mut a, pb::PeriodKind::Quarter, 5, &[]).await;
    let mut unit = Fixture::clients(&app, Role::Unit, Some("units/stc")).await;

    // Items must be tasks the unit leads; a UNIT key reports for its own unit only.
    let status = unit
        .reports
        .create_report(report("stc", "2026-Q1", vec![item("other", pb::TaskState::InProgress, 10)]))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["report.items[0].task"]);
    let status = unit.reports.create_report(report("vi-thanh", "2026-Q1", vec![])).await.unwrap_err();
    assert_error(&status, Code::PermissionDenied, "NOT_RESPONSIBLE_UNIT");
    let status = unit
        .reports
        .create_report(report(
            "stc",
            "2026-Q1",
            vec![pb::ReportItem { evidence: None, ..item("t1", pb::TaskState::ReportedDone, 100) }],
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["report.items[0].evidence"]);

    // t2 will be closed before submission, so its item cannot apply.
    let mut done_item = item("t1", pb::TaskState::ReportedDone, 100);
    done_item.achieved = vec![pb::AchievedFigure {
        recommendation: REC_REVIEW.into(),
        measure: pb::Measure::Collectives as i32,
        amount: 1,
    }];
    let draft = unit
        .reports
        .create_report(report("stc", "2026-Q1", vec![done_item, item("t2", pb::TaskState::InProgress, 30)]))
        .await
        .unwrap()
        .into_inner();
    a.tasks
        .close_task_not_done(pb::CloseTaskNotDoneRequest {
            name: task_name("t2"),
            reason: "Không còn phù hợp.".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let status = unit
        .reports
        .submit_report(pb::SubmitReportRequest { name: draft.name.clone(), ..Default::default() })
        .await
        .unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "TASK_STATE");
    assert!(status.message().starts_with("items[1]"), "{}", status.message());
    // Nothing changed: t1 is still not started, and the report is still a draft.
    let t1 = task_state(&mut unit, "t1").await;
    assert_eq!((t1.state(), t1.progress_percent), (pb::TaskState::NotStarted, 0));
    let still = unit.reports.get_report(pb::GetReportRequest { name: draft.name.clone() }).await.unwrap().into_inner();
    assert_eq!((still.state(), still.version), (pb::ReportState::Draft, 0));

    // Without the failing item it applies, in full.
    let updated = unit
        .reports
        .update_report(pb::UpdateReportRequest {
            report: Some(pb::Report {
                name: draft.name.clone(),
                items: vec![still.items[0].clone()],
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask { paths: vec!["items".into()] }),
        })
        .await
        .unwrap()
        .into_inner();
    let submitted = unit
        .reports
        .submit_report(pb::SubmitReportRequest { name: draft.name.clone(), etag: updated.etag, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((submitted.state(), submitted.version, submitted.late), (pb::ReportState::Submitted, 1, false));
    let t1 = task_state(&mut unit, "t1").await;
    assert_eq!(
        (t1.state(), t1.progress_percent, t1.progress_note.as_str()),
        (pb::TaskState::ReportedDone, 100, "Tiến độ 100%")
    );
    assert_eq!(t1.achieved.len(), 1);
    // The task change is audited as part of the submission.
    let mut conn = app.operator().await;
    let actions: Vec<String> =
        sqlx::query_scalar("select action from audit_records where resource = 'plans/kh-1/tasks/t1' order by audit_id")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(actions, ["CreateTask", "ReportTaskDone", "SubmitReport"]);
}

#[tokio::test]
async fn late_reports_are_marked_never_refused_and_returns_keep_every_version() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    let mut a = f.admin.clone();
    f.task("t1", "stc", date(2026, 12, 31), &[]).await;
    f.issue().await;
    schedule(&mut a, pb::PeriodKind::Month, 3, &["stc"]).await;
    let mut unit = Fixture::clients(&app, Role::Unit, Some("units/stc")).await;
    let mut monitor = Fixture::clients(&app, Role::Monitor, Some("units/snv")).await;
    // 2026-M01 is due 3 working days after Wednesday 14 January: Monday 19 January.
    let draft = unit
        .reports
        .create_report(report("stc", "2026-M01", vec![item("t1", pb::TaskState::InProgress, 20)]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(draft.deadline, date(2026, 1, 19));
    // The test clock says 2 March 2026: long past; the report is accepted as late.
    let submitted = unit
        .reports
        .submit_report(pb::SubmitReportRequest { name: draft.name.clone(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert!(submitted.late);
    assert_eq!(task_state(&mut unit, "t1").await.state(), pb::TaskState::InProgress);

    // A second, concurrent-looking submission finds it submitted.
    let again = unit
        .reports
        .submit_report(pb::SubmitReportRequest { name: draft.name.clone(), ..Default::default() })
        .await
        .unwrap_err();
    assert_error(&again, Code::FailedPrecondition, "REPORT_STATE");
    // The lead unit cannot review; the monitor returns it with a comment.
    let status = unit
        .reports
        .accept_report(pb::AcceptReportRequest { name: draft.name.clone(), ..Default::default() })
        .await
        .unwrap_err();
    assert_error(&status, Code::PermissionDenied, "ROLE_NOT_ALLOWED");
    let status = monitor
        .reports
        .return_report(pb::ReturnReportRequest { name: draft.name.clone(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["comment"]);
    let returned = monitor
        .reports
        .return_report(pb::ReturnReportRequest {
            name: draft.name.clone(),
            comment: "Bổ sung số liệu.".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((returned.state(), returned.review_comment.as_str()), (pb::ReportState::Returned, "Bổ sung số liệu."));

    let edited = unit
        .reports
        .update_report(pb::UpdateReportRequest {
            report: Some(pb::Report {
                name: draft.name.clone(),
                summary: "Đã bổ sung.".into(),
                items: vec![item("t1", pb::TaskState::InProgress, 60)],
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask { paths: vec!["summary".into(), "items".into()] }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(edited.summary, "Đã bổ sung.");
    let resubmitted = unit
        .reports
        .submit_report(pb::SubmitReportRequest { name: draft.name.clone(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resubmitted.version, 2);
    assert_eq!(task_state(&mut unit, "t1").await.progress_percent, 60);
    let accepted = monitor
        .reports
        .accept_report(pb::AcceptReportRequest { name: draft.name.clone(), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(accepted.into_inner().state(), pb::ReportState::Accepted);
    let status = unit
        .reports
        .update_report(pb::UpdateReportRequest {
            report: Some(pb::Report { name: draft.name.clone(), summary: "x".into(), ..Default::default() }),
            update_mask: Some(prost_types::FieldMask { paths: vec!["summary".into()] }),
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "REPORT_STATE");

    let versions = unit
        .reports
        .list_report_versions(pb::ListReportVersionsRequest { name: draft.name.clone() })
        .await
        .unwrap()
        .into_inner()
        .versions;
    assert_eq!(versions.iter().map(|v| v.version).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(versions[0].report.as_ref().unwrap().summary, "Báo cáo tiến độ.");
    assert_eq!(versions[1].report.as_ref().unwrap().summary, "Đã bổ sung.");
    assert!(versions.iter().all(|v| v.late));
}

#[tokio::test]
async fn missing_reports_name_the_units_and_days_late() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    let mut a = f.admin.clone();
    f.task("t1", "stc", date(2026, 12, 31), &[]).await;
    f.task("t2", "vi-thanh", date(2026, 12, 31), &[]).await;
    f.issue().await;
    // The plan was issued on 20 May 2020; quarterly reports, 5 working days after cut-off.
    schedule(&mut a, pb::PeriodKind::Quarter, 5, &[]).await;
    a.schedules
        .create_report_request(pb::CreateReportRequestRequest {
            parent: PLAN.into(),
            report_request: Some(pb::ReportRequest {
                title: "Báo cáo chuyên đề".into(),
                units: vec!["units/snv".into()],
                due_date: date(2020, 10, 1),
                urgent: true,
                ..Default::default()
            }),
            report_request_id: "chuyen-de".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let missing = |day| pb::ListMissingReportsRequest { parent: PLAN.into(), as_of: day };
    let owed = a.reports.list_missing_reports(missing(date(2020, 9, 25))).await.unwrap().into_inner().missing_reports;
    let rows: Vec<(String, String, String, i32)> =
        owed.iter().map(|m| (m.period.clone(), m.report_request.clone(), m.unit.clone(), m.days_late)).collect();
    // 2020-Q2 (cut off 14 June, a Sunday; due Friday 19 June) and 2020-Q3 (cut off Monday
    // 14 September; due Monday 21 September) from both lead units.
    assert_eq!(
        rows,
        [
            ("2020-Q2".into(), "".into(), "units/stc".into(), 98),
            ("2020-Q2".into(), "".into(), "units/vi-thanh".into(), 98),
            ("2020-Q3".into(), "".into(), "units/stc".into(), 4),
            ("2020-Q3".into(), "".into(), "units/vi-thanh".into(), 4),
        ]
    );
    let later = a.reports.list_missing_reports(missing(date(2020, 10, 5))).await.unwrap().into_inner().missing_reports;
    assert!(later.iter().any(|m| m.report_request == "plans/kh-1/reportRequests/chuyen-de"
        && m.unit == "units/snv"
        && m.days_late == 4));

    // Once stc reports on 2020-Q3, it no longer owes it.
    let draft = a.reports.create_report(report("stc", "2020-Q3", vec![])).await.unwrap().into_inner();
    a.reports.submit_report(pb::SubmitReportRequest { name: draft.name, ..Default::default() }).await.unwrap();
    let owed = a.reports.list_missing_reports(missing(date(2020, 9, 25))).await.unwrap().into_inner().missing_reports;
    assert!(!owed.iter().any(|m| m.period == "2020-Q3" && m.unit == "units/stc"));
    assert_eq!(owed.len(), 3);
    // Units may not ask who is missing.
    let mut unit = Fixture::clients(&app, Role::Unit, Some("units/stc")).await;
    let status = unit.reports.list_missing_reports(missing(None)).await.unwrap_err();
    assert_error(&status, Code::PermissionDenied, "ROLE_NOT_ALLOWED");
}

#[tokio::test]
async fn plan_progress_matches_a_hand_computed_plan_and_exports() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    let mut a = f.admin.clone();
    // stc: one done on time, one overdue; vi-thanh: one done late, one standing open, one closed.
    f.task("stc-on-time", "stc", date(2026, 2, 28), &[REC_REVIEW]).await;
    f.task("stc-overdue", "stc", date(2026, 2, 20), &[]).await;
    f.task("vt-late", "vi-thanh", date(2026, 1, 31), &[REC_REVIEW]).await;
    f.task("vt-standing", "vi-thanh", None, &[]).await;
    f.task("vt-closed", "vi-thanh", date(2026, 1, 31), &[]).await;
    f.issue().await;
    schedule(&mut a, pb::PeriodKind::Quarter, 5, &["stc"]).await;
    let done = |id: &str, amount: i64| pb::ReportTaskDoneRequest {
        name: task_name(id),
        evidence: evidence(),
        achieved: vec![pb::AchievedFigure {
            recommendation: REC_REVIEW.into(),
            measure: pb::Measure::Collectives as i32,
            amount,
        }],
        ..Default::default()
    };
    app.clock.set("2026-02-10T03:00:00Z".parse().unwrap());
    a.tasks.report_task_done(done("stc-on-time", 1)).await.unwrap();
    a.tasks.report_task_done(done("vt-late", 1)).await.unwrap();
    for id in ["stc-on-time", "vt-late"] {
        a.tasks.accept_task(pb::AcceptTaskRequest { name: task_name(id), ..Default::default() }).await.unwrap();
    }
    a.tasks
        .close_task_not_done(pb::CloseTaskNotDoneRequest {
            name: task_name("vt-closed"),
            reason: "x".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    a.tasks.start_task(pb::StartTaskRequest { name: task_name("vt-standing"), ..Default::default() }).await.unwrap();

    let as_of = Some(prost_types::Timestamp {
        seconds: "2026-03-02T03:00:00Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap().timestamp(),
        nanos: 0,
    });
    let p = a
        .reports
        .get_plan_progress(pb::GetPlanProgressRequest { name: PLAN.into(), as_of })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(p.total_tasks, 5);
    assert_eq!((p.on_time_done, p.late_done, p.open_within_deadline, p.open_overdue), (1, 1, 1, 1));
    assert_eq!(p.completion_rate_percent, 40.0);
    let by_state: Vec<(pb::TaskState, i32)> = p.by_state.iter().map(|s| (s.state(), s.count)).collect();
    assert!(by_state.contains(&(pb::TaskState::Done, 2)) && by_state.contains(&(pb::TaskState::InProgress, 1)));
    assert!(
        by_state.contains(&(pb::TaskState::NotStarted, 1)) && by_state.contains(&(pb::TaskState::ClosedNotDone, 1))
    );
    let unit = |name: &str| p.units.iter().find(|u| u.unit == name).unwrap().clone();
    let stc = unit("units/stc");
    assert_eq!((stc.tasks, stc.done_on_time, stc.done_late, stc.open, stc.overdue), (2, 1, 0, 1, 1));
    let vt = unit("units/vi-thanh");
    assert_eq!((vt.tasks, vt.done_on_time, vt.done_late, vt.open, vt.overdue), (3, 0, 1, 1, 0));
    // stc owes the quarterly reports cut off since the plan's issue: 2020-Q2 .. 2025-Q4
    // (3 in 2020, 4 a year since); 2026-Q1 is cut off only on 14 March.
    assert_eq!(stc.reports_missing, 23);
    assert_eq!(p.missing_reports.len(), 23);
    assert_eq!(p.overdue_tasks.len(), 1);
    assert_eq!(
        (p.overdue_tasks[0].task.as_str(), p.overdue_tasks[0].days_overdue),
        ("plans/kh-1/tasks/stc-overdue", 10)
    );
    let review = p.recommendations.iter().find(|r| r.recommendation == REC_REVIEW).unwrap();
    assert_eq!((review.figures[0].required, review.figures[0].achieved, review.figures[0].rate_percent), (2, 2, 100.0));

    // CSV: UTF-8 with a byte-order mark, Vietnamese intact.
    let export =
        |format: pb::ExportFormat| pb::ExportPlanProgressRequest { name: PLAN.into(), as_of, format: format as i32 };
    let csv = a.reports.export_plan_progress(export(pb::ExportFormat::Csv)).await.unwrap().into_inner();
    assert_eq!(csv.mime_type, "text/csv; charset=utf-8");
    assert!(csv.filename.ends_with(".csv"));
    assert!(csv.content.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(csv.content[3..].to_vec()).unwrap();
    assert!(text.contains("Tổng số nhiệm vụ,5"), "{text}");
    assert!(text.contains("units/vi-thanh,Ủy ban nhân dân thành phố Vị Thanh,3,0,1,1,0,0"), "{text}");

    // XLSX: a real workbook that a reader opens, with the expected cells.
    let xlsx = a.reports.export_plan_progress(export(pb::ExportFormat::Xlsx)).await.unwrap().into_inner();
    assert!(xlsx.filename.ends_with(".xlsx"));
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(xlsx.content)).unwrap();
    assert_eq!(book.sheet_names(), ["Tổng hợp", "Theo đơn vị"]);
    let summary = book.worksheet_range("Tổng hợp").unwrap();
    assert_eq!(summary.get_value((3, 0)), Some(&Data::String("Tổng số nhiệm vụ".into())));
    assert_eq!(summary.get_value((3, 1)), Some(&Data::Float(5.0)));
    assert_eq!(summary.get_value((8, 0)), Some(&Data::String("Tỷ lệ hoàn thành (%)".into())));
    assert_eq!(summary.get_value((8, 1)), Some(&Data::Float(40.0)));
    let units = book.worksheet_range("Theo đơn vị").unwrap();
    let row = (1..units.height() as u32)
        .find(|r| units.get_value((*r, 0)) == Some(&Data::String("units/stc".into())))
        .expect("a row for stc");
    assert_eq!(units.get_value((row, 1)), Some(&Data::String("Sở Tài chính".into())));
    assert_eq!(units.get_value((row, 6)), Some(&Data::Float(1.0)), "overdue");
    assert_eq!(units.get_value((row, 7)), Some(&Data::Float(23.0)), "reports missing");

    let status = a.reports.export_plan_progress(export(pb::ExportFormat::Unspecified)).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["format"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_submitted_through_two_replicas_at_once_applies_once() {
    let app = TestApp::spawn().await;
    let replica = TestApp::spawn_on(app.db.clone()).await;
    let f = Fixture::new(&app).await;
    let mut a = f.admin.clone();
    f.task("t1", "stc", date(2026, 12, 31), &[]).await;
    f.issue().await;
    schedule(&mut a, pb::PeriodKind::Month, 3, &["stc"]).await;
    let key = app.key(crate::tracking_fixture::TENANT, Role::Unit, Some("units/stc")).await;
    let mut unit = Clients::new(&app, &key);
    let draft = unit
        .reports
        .create_report(report("stc", "2026-M02", vec![item("t1", pb::TaskState::InProgress, 40)]))
        .await
        .unwrap()
        .into_inner();
    let through = [Clients::new(&app, &key), Clients::new(&replica, &key)];
    let attempts: Vec<_> = (0..8)
        .map(|i| {
            let mut reports = through[i % 2].reports.clone();
            let name = draft.name.clone();
            tokio::spawn(
                async move { reports.submit_report(pb::SubmitReportRequest { name, ..Default::default() }).await },
            )
        })
        .collect();
    let mut submitted = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(report) => {
                submitted += 1;
                assert_eq!(report.into_inner().version, 1);
            }
            Err(status) => assert_error(&status, Code::FailedPrecondition, "REPORT_STATE"),
        }
    }
    assert_eq!(submitted, 1, "exactly one submission applies");
    let mut conn = app.operator().await;
    let applied: i64 = sqlx::query_scalar(
        "select count(*) from audit_records where resource = 'plans/kh-1/tasks/t1' and action = 'SubmitReport'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(applied, 1, "the task took the report's item once");
    assert_eq!(task_state(&mut unit, "t1").await.progress_percent, 40);
}
