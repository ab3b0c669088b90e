//! Timeliness across a deadline, in Vietnam's calendar, as shown on each task and as
//! filtered by ListTasks; and suspension, extensions and standing work.

use followup::api::proto::followup::v1 as pb;
use followup::auth::principal::Role;
use prost_types::Timestamp;
use tonic::Code;

use crate::assert_error;
use crate::helpers::TestApp;
use crate::tracking_fixture::{Clients, Fixture, PLAN, date, evidence, task_name};

fn at(rfc3339: &str) -> Option<Timestamp> {
    let t: chrono::DateTime<chrono::Utc> = rfc3339.parse().unwrap();
    Some(Timestamp { seconds: t.timestamp(), nanos: 0 })
}

async fn buckets(c: &mut Clients, as_of: &str) -> Vec<(String, pb::Timeliness)> {
    let page = c
        .tasks
        .list_tasks(pb::ListTasksRequest {
            parent: PLAN.into(),
            as_of: at(as_of),
            due_soon_days: 3,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    page.tasks.iter().map(|t| (t.name.rsplit('/').next().unwrap().to_owned(), t.timeliness())).collect()
}

async fn filtered(c: &mut Clients, as_of: &str, bucket: &str) -> Vec<String> {
    let page = c
        .tasks
        .list_tasks(pb::ListTasksRequest {
            parent: PLAN.into(),
            as_of: at(as_of),
            due_soon_days: 3,
            filter: format!("timeliness = {bucket}"),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    page.tasks.iter().map(|t| t.name.rsplit('/').next().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_task_due_on_d_is_late_from_midnight_of_d_plus_one_in_vietnam() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    let mut a = f.admin.clone();
    f.task("due-30-june", "stc", date(2025, 6, 30), &[]).await;
    f.task("standing", "snv", None, &[]).await;
    f.issue().await;

    // 23:59:59 on 30 June in Vietnam is 16:59:59 UTC: still within the deadline.
    let before = buckets(&mut a, "2025-06-30T16:59:59Z").await;
    assert_eq!(before[0], ("due-30-june".into(), pb::Timeliness::DueSoon));
    assert_eq!(before[1], ("standing".into(), pb::Timeliness::OpenWithinDeadline));
    // 00:00:00 on 1 July in Vietnam: overdue. Standing work never is.
    let after = buckets(&mut a, "2025-06-30T17:00:00Z").await;
    assert_eq!(after[0], ("due-30-june".into(), pb::Timeliness::OpenOverdue));
    assert_eq!(after[1], ("standing".into(), pb::Timeliness::OpenWithinDeadline));
    // The filter agrees with what each task shows.
    assert_eq!(filtered(&mut a, "2025-06-30T16:59:59Z", "TIMELINESS_OPEN_OVERDUE").await, Vec::<String>::new());
    assert_eq!(filtered(&mut a, "2025-06-30T17:00:00Z", "TIMELINESS_OPEN_OVERDUE").await, ["due-30-june"]);
    assert_eq!(filtered(&mut a, "2025-06-30T16:59:59Z", "TIMELINESS_DUE_SOON").await, ["due-30-june"]);
    assert_eq!(filtered(&mut a, "2025-06-26T16:59:59Z", "TIMELINESS_DUE_SOON").await, Vec::<String>::new());
}

#[tokio::test]
async fn done_tasks_are_on_time_or_late_by_when_they_were_reported_done() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    let mut a = f.admin.clone();
    f.task("on-time", "stc", date(2025, 6, 30), &[]).await;
    f.task("late", "vi-thanh", date(2025, 6, 30), &[]).await;
    f.issue().await;
    let report =
        |id: &str| pb::ReportTaskDoneRequest { name: task_name(id), evidence: evidence(), ..Default::default() };
    app.clock.set("2025-06-30T16:59:59Z".parse().unwrap());
    a.tasks.report_task_done(report("on-time")).await.unwrap();
    app.clock.set("2025-06-30T17:00:00Z".parse().unwrap());
    a.tasks.report_task_done(report("late")).await.unwrap();
    // Awaiting acceptance: the late one already shows as overdue.
    assert_eq!(
        buckets(&mut a, "2025-07-02T00:00:00Z").await,
        [("late".into(), pb::Timeliness::OpenOverdue), ("on-time".into(), pb::Timeliness::OpenWithinDeadline)]
    );
    // Accepted days later, they are judged by when they were reported done.
    app.clock.set("2025-07-10T03:00:00Z".parse().unwrap());
    for id in ["on-time", "late"] {
        a.tasks.accept_task(pb::AcceptTaskRequest { name: task_name(id), ..Default::default() }).await.unwrap();
    }
    assert_eq!(
        buckets(&mut a, "2025-08-01T00:00:00Z").await,
        [("late".into(), pb::Timeliness::LateDone), ("on-time".into(), pb::Timeliness::OnTimeDone)]
    );
    assert_eq!(filtered(&mut a, "2025-08-01T00:00:00Z", "TIMELINESS_LATE_DONE").await, ["late"]);
    assert_eq!(filtered(&mut a, "2025-08-01T00:00:00Z", "TIMELINESS_ON_TIME_DONE").await, ["on-time"]);
}

#[tokio::test]
async fn suspended_time_is_never_late() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    let mut a = f.admin.clone();
    f.task("t", "stc", date(2025, 6, 30), &[]).await;
    f.issue().await;
    let name = || task_name("t");
    app.clock.set("2025-06-20T03:00:00Z".parse().unwrap());
    a.tasks
        .suspend_task(pb::SuspendTaskRequest {
            name: name(),
            reason: "Đang thanh tra lại.".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(buckets(&mut a, "2025-09-01T00:00:00Z").await[0].1, pb::Timeliness::OpenWithinDeadline);
    // Ten days suspended: the deadline moves to 10 July.
    app.clock.set("2025-06-30T03:00:00Z".parse().unwrap());
    let resumed = a.tasks.resume_task(pb::ResumeTaskRequest { name: name(), ..Default::default() }).await.unwrap();
    assert_eq!(resumed.into_inner().effective_due_date, date(2025, 7, 10));
    assert_eq!(buckets(&mut a, "2025-07-10T16:59:59Z").await[0].1, pb::Timeliness::DueSoon);
    assert_eq!(buckets(&mut a, "2025-07-10T17:00:00Z").await[0].1, pb::Timeliness::OpenOverdue);
}

#[tokio::test]
async fn deadline_extensions_are_requested_by_the_lead_and_decided_by_the_monitor() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    f.task("t", "stc", date(2025, 6, 30), &[]).await;
    f.task("standing", "stc", None, &[]).await;
    f.issue().await;
    let mut lead = Fixture::clients(&app, Role::Unit, Some("units/stc")).await;
    let mut monitor = Fixture::clients(&app, Role::Monitor, Some("units/snv")).await;
    let ask = |day, reason: &str| pb::RequestDeadlineExtensionRequest {
        name: task_name("t"),
        requested_due_date: day,
        reason: reason.into(),
        request_id: String::new(),
    };
    let status = lead.tasks.request_deadline_extension(ask(date(2025, 6, 1), "x")).await.unwrap_err();
    assert_eq!(crate::violated_fields(&status), ["requested_due_date"]);
    let status = lead.tasks.request_deadline_extension(ask(date(2025, 9, 30), "")).await.unwrap_err();
    assert_eq!(crate::violated_fields(&status), ["reason"]);
    let status = monitor.tasks.request_deadline_extension(ask(date(2025, 9, 30), "x")).await.unwrap_err();
    assert_error(&status, Code::PermissionDenied, "ROLE_NOT_ALLOWED");
    let mut standing = ask(date(2025, 9, 30), "x");
    standing.name = task_name("standing");
    assert_error(
        &lead.tasks.request_deadline_extension(standing).await.unwrap_err(),
        Code::FailedPrecondition,
        "TASK_STANDING",
    );

    let asked =
        lead.tasks.request_deadline_extension(ask(date(2025, 9, 30), "Chờ số liệu.")).await.unwrap().into_inner();
    let extension = asked.extension.unwrap();
    assert_eq!(extension.state(), pb::deadline_extension::State::Pending);
    assert_eq!(extension.requested_due_date, date(2025, 9, 30));
    let again = lead.tasks.request_deadline_extension(ask(date(2025, 10, 30), "Lần nữa.")).await.unwrap_err();
    assert_error(&again, Code::FailedPrecondition, "EXTENSION_PENDING");

    let decide = |approve, day, comment: &str| pb::DecideDeadlineExtensionRequest {
        name: task_name("t"),
        approve,
        decided_due_date: day,
        comment: comment.into(),
        request_id: String::new(),
    };
    assert_error(
        &lead.tasks.decide_deadline_extension(decide(true, None, "")).await.unwrap_err(),
        Code::PermissionDenied,
        "ROLE_NOT_ALLOWED",
    );
    let status = monitor.tasks.decide_deadline_extension(decide(false, None, "")).await.unwrap_err();
    assert_eq!(crate::violated_fields(&status), ["comment"], "a rejection says why");
    let approved =
        monitor.tasks.decide_deadline_extension(decide(true, date(2025, 8, 31), "Đồng ý một phần.")).await.unwrap();
    let approved = approved.into_inner();
    assert_eq!(approved.due, Some(pb::task::Due::DueDate(date(2025, 8, 31).unwrap())));
    let extension = approved.extension.unwrap();
    assert_eq!(extension.state(), pb::deadline_extension::State::Approved);
    assert_eq!(extension.decided_due_date, date(2025, 8, 31));
    assert_error(
        &monitor.tasks.decide_deadline_extension(decide(true, None, "")).await.unwrap_err(),
        Code::FailedPrecondition,
        "NO_PENDING_EXTENSION",
    );

    // Both the request and the decision are in the audit trail.
    let mut conn = app.operator().await;
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_records where resource = 'plans/kh-1/tasks/t' and action like '%Extension' order by audit_id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(actions, ["RequestDeadlineExtension", "DecideDeadlineExtension"]);
}

#[tokio::test]
async fn list_filters_and_orders_tasks() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    let mut a = f.admin.clone();
    f.task("b", "stc", date(2025, 7, 1), &[crate::tracking_fixture::REC_MONEY]).await;
    f.task("a", "vi-thanh", date(2025, 6, 1), &[]).await;
    f.task("c", "stc", None, &[]).await;
    f.issue().await;
    let list = |filter: &str, order_by: &str| pb::ListTasksRequest {
        parent: PLAN.into(),
        filter: filter.into(),
        order_by: order_by.into(),
        page_size: 1,
        ..Default::default()
    };
    async fn all(c: &mut Clients, mut request: pb::ListTasksRequest) -> Vec<String> {
        let mut names = Vec::new();
        loop {
            let page = c.tasks.list_tasks(request.clone()).await.unwrap().into_inner();
            names.extend(page.tasks.into_iter().map(|t| t.name.rsplit('/').next().unwrap().to_owned()));
            if page.next_page_token.is_empty() {
                return names;
            }
            request.page_token = page.next_page_token;
        }
    }
    assert_eq!(all(&mut a, list("", "")).await, ["a", "b", "c"], "earliest deadline first, standing last");
    assert_eq!(all(&mut a, list(r#"lead_unit = "units/stc""#, "")).await, ["b", "c"]);
    assert_eq!(all(&mut a, list(r#"due_date >= "2025-06-15""#, "")).await, ["b"]);
    assert_eq!(all(&mut a, list(r#"due_date < "2025-07-01" AND due_date >= "2025-01-01""#, "")).await, ["a"]);
    assert_eq!(all(&mut a, list("standing = true", "")).await, ["c"]);
    assert_eq!(all(&mut a, list("state = TASK_STATE_NOT_STARTED", "")).await, ["a", "b", "c"]);
    assert_eq!(
        all(&mut a, list(&format!("recommendation = \"{}\"", crate::tracking_fixture::REC_MONEY), "")).await,
        ["b"]
    );
    assert_eq!(all(&mut a, list("\"viec cua vi-thanh\"", "")).await, ["a"]);
    a.tasks.start_task(pb::StartTaskRequest { name: task_name("b"), ..Default::default() }).await.unwrap();
    assert_eq!(all(&mut a, list("", "update_time desc")).await[0], "b");

    for (filter, order_by, field) in [
        ("colour = RED", "", "filter"),
        ("due_date != \"2025-01-01\"", "", "filter"),
        ("timeliness = LATE", "", "filter"),
        ("", "title", "order_by"),
    ] {
        let status = a.tasks.list_tasks(list(filter, order_by)).await.unwrap_err();
        assert_eq!(crate::violated_fields(&status), [field], "{filter} {order_by}");
    }
    let status = a.tasks.list_tasks(pb::ListTasksRequest { parent: "plans/ghost".into(), ..Default::default() }).await;
    assert_error(&status.unwrap_err(), Code::NotFound, "RESOURCE_NOT_FOUND");
    // An existing plan with nothing matching is an empty page, not an unknown plan.
    assert!(all(&mut a, list("due_date > \"2999-01-01\"", "")).await.is_empty());
    // A token is bound to the filter and order it was issued for.
    let first = a.tasks.list_tasks(list("", "")).await.unwrap().into_inner();
    let mut changed = list("", "update_time desc");
    changed.page_token = first.next_page_token;
    assert_eq!(crate::violated_fields(&a.tasks.list_tasks(changed).await.unwrap_err()), ["page_token"]);
}
