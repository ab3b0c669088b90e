//! The task state machine over gRPC: each transition allowed and refused, and who may
//! take each step.

use followup::api::proto::followup::v1 as pb;
use followup::auth::principal::Role;
use tonic::Code;

use crate::assert_error;
use crate::helpers::TestApp;
use crate::tracking_fixture::{Clients, Fixture, date, evidence, task_name};

async fn state(c: &mut Clients, id: &str) -> pb::TaskState {
    c.tasks.get_task(pb::GetTaskRequest { name: task_name(id) }).await.unwrap().into_inner().state()
}

#[tokio::test]
async fn every_transition_is_allowed_or_refused_with_failed_precondition() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    let mut a = f.admin.clone();
    f.task("t", "stc", date(2026, 6, 30), &[]).await;

    // Nothing moves while the plan is a draft.
    let status =
        a.tasks.start_task(pb::StartTaskRequest { name: task_name("t"), ..Default::default() }).await.unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "PLAN_NOT_ISSUED");
    f.issue().await;

    let name = || task_name("t");
    // NOT_STARTED: accept, return and resume are refused.
    let status = a.tasks.accept_task(pb::AcceptTaskRequest { name: name(), ..Default::default() }).await.unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "TASK_STATE");
    assert!(status.message().contains("allowed from: REPORTED_DONE"), "{}", status.message());
    let status = a.tasks.resume_task(pb::ResumeTaskRequest { name: name(), ..Default::default() }).await.unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "TASK_STATE");

    a.tasks.start_task(pb::StartTaskRequest { name: name(), ..Default::default() }).await.unwrap();
    assert_eq!(state(&mut a, "t").await, pb::TaskState::InProgress);
    let status = a.tasks.start_task(pb::StartTaskRequest { name: name(), ..Default::default() }).await.unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "TASK_STATE");

    // Reporting done needs evidence.
    let status =
        a.tasks.report_task_done(pb::ReportTaskDoneRequest { name: name(), ..Default::default() }).await.unwrap_err();
    assert_error(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
    let empty = Some(pb::Evidence::default());
    let status = a
        .tasks
        .report_task_done(pb::ReportTaskDoneRequest { name: name(), evidence: empty, ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(crate::violated_fields(&status), ["evidence"]);
    let bad = Some(pb::Evidence {
        document_ref: "45 /BC".into(),
        link: "ftp://x".into(),
        sha256: "abc".into(),
        ..Default::default()
    });
    let status = a
        .tasks
        .report_task_done(pb::ReportTaskDoneRequest { name: name(), evidence: bad, ..Default::default() })
        .await
        .unwrap_err();
    let mut fields = crate::violated_fields(&status);
    fields.sort();
    assert_eq!(fields, ["evidence.document_ref", "evidence.link", "evidence.sha256"]);

    let done = a
        .tasks
        .report_task_done(pb::ReportTaskDoneRequest { name: name(), evidence: evidence(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.state(), pb::TaskState::ReportedDone);
    assert!(done.completed_time.is_some());
    assert_eq!(done.evidence.unwrap().document_ref, "45/BC-SNV");

    // Returned with a comment (required), it is in progress again and no longer completed.
    let status = a.tasks.return_task(pb::ReturnTaskRequest { name: name(), ..Default::default() }).await.unwrap_err();
    assert_eq!(crate::violated_fields(&status), ["comment"]);
    let returned = a
        .tasks
        .return_task(pb::ReturnTaskRequest {
            name: name(), comment: "Thiếu biên bản.".into(), ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(returned.state(), pb::TaskState::InProgress);
    assert_eq!(returned.state_reason, "Thiếu biên bản.");
    assert!(returned.completed_time.is_none());

    // Suspend and resume return to where it was.
    let status = a.tasks.suspend_task(pb::SuspendTaskRequest { name: name(), ..Default::default() }).await.unwrap_err();
    assert_eq!(crate::violated_fields(&status), ["reason"]);
    a.tasks
        .suspend_task(pb::SuspendTaskRequest { name: name(), reason: "Chờ ý kiến.".into(), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(state(&mut a, "t").await, pb::TaskState::Suspended);
    let status = a
        .tasks
        .report_task_done(pb::ReportTaskDoneRequest { name: name(), evidence: evidence(), ..Default::default() })
        .await
        .unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "TASK_STATE");
    a.tasks.resume_task(pb::ResumeTaskRequest { name: name(), ..Default::default() }).await.unwrap();
    assert_eq!(state(&mut a, "t").await, pb::TaskState::InProgress);

    a.tasks
        .report_task_done(pb::ReportTaskDoneRequest { name: name(), evidence: evidence(), ..Default::default() })
        .await
        .unwrap();
    let accepted = a.tasks.accept_task(pb::AcceptTaskRequest { name: name(), ..Default::default() }).await.unwrap();
    assert_eq!(accepted.into_inner().state(), pb::TaskState::Done);

    // DONE is final.
    for status in [
        a.tasks.start_task(pb::StartTaskRequest { name: name(), ..Default::default() }).await.unwrap_err(),
        a.tasks
            .close_task_not_done(pb::CloseTaskNotDoneRequest { name: name(), reason: "x".into(), ..Default::default() })
            .await
            .unwrap_err(),
        a.tasks
            .suspend_task(pb::SuspendTaskRequest { name: name(), reason: "x".into(), ..Default::default() })
            .await
            .unwrap_err(),
    ] {
        assert_error(&status, Code::FailedPrecondition, "TASK_STATE");
    }
}

#[tokio::test]
async fn closing_not_done_needs_a_reason_and_is_final() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    let mut a = f.admin.clone();
    f.task("t", "stc", date(2026, 6, 30), &[]).await;
    f.issue().await;
    let name = task_name("t");
    let status = a
        .tasks
        .close_task_not_done(pb::CloseTaskNotDoneRequest { name: name.clone(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(crate::violated_fields(&status), ["reason"]);
    let closed = a
        .tasks
        .close_task_not_done(pb::CloseTaskNotDoneRequest {
            name: name.clone(),
            reason: "Đối tượng đã chết.".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(closed.state(), pb::TaskState::ClosedNotDone);
    assert_eq!(closed.timeliness(), pb::Timeliness::Unspecified);
    let status = a.tasks.resume_task(pb::ResumeTaskRequest { name, ..Default::default() }).await.unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "TASK_STATE");
}

#[tokio::test]
async fn the_lead_unit_works_and_only_the_monitoring_side_reviews() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    let mut t = f.task("t", "stc", date(2026, 6, 30), &[]).await;
    t.coordinating_units = vec!["units/snv".into()];
    f.admin
        .tasks
        .clone()
        .update_task(pb::UpdateTaskRequest {
            task: Some(t),
            update_mask: Some(prost_types::FieldMask { paths: vec!["coordinating_units".into()] }),
        })
        .await
        .unwrap();
    f.task("other", "vi-thanh", date(2026, 6, 30), &[]).await;
    f.issue().await;
    let name = || task_name("t");

    let mut lead = Fixture::clients(&app, Role::Unit, Some("units/stc")).await;
    let mut coordinating = Fixture::clients(&app, Role::Unit, Some("units/snv")).await;
    let mut outsider = Fixture::clients(&app, Role::Unit, Some("units/ubnd")).await;
    let mut monitor = Fixture::clients(&app, Role::Monitor, Some("units/snv")).await;
    let mut other_monitor = Fixture::clients(&app, Role::Monitor, Some("units/stc")).await;
    let mut reader = Fixture::clients(&app, Role::Reader, None).await;

    // Visibility: a unit key sees only tasks its unit leads or coordinates.
    let listed = |tasks: Vec<pb::Task>| tasks.into_iter().map(|t| t.name).collect::<Vec<_>>();
    let all = pb::ListTasksRequest { parent: "plans/-".into(), ..Default::default() };
    assert_eq!(listed(lead.tasks.list_tasks(all.clone()).await.unwrap().into_inner().tasks), [task_name("t")]);
    assert_eq!(listed(coordinating.tasks.list_tasks(all.clone()).await.unwrap().into_inner().tasks), [task_name("t")]);
    assert!(outsider.tasks.list_tasks(all.clone()).await.unwrap().into_inner().tasks.is_empty());
    assert_eq!(reader.tasks.list_tasks(all.clone()).await.unwrap().into_inner().tasks.len(), 2);
    let status = outsider.tasks.get_task(pb::GetTaskRequest { name: name() }).await.unwrap_err();
    assert_error(&status, Code::NotFound, "RESOURCE_NOT_FOUND");
    coordinating.tasks.get_task(pb::GetTaskRequest { name: name() }).await.expect("coordinating units can read");

    // Only the lead unit starts and reports; a coordinating unit is denied, an outsider
    // does not even see the task.
    let start = || pb::StartTaskRequest { name: name(), ..Default::default() };
    assert_error(
        &coordinating.tasks.start_task(start()).await.unwrap_err(),
        Code::PermissionDenied,
        "NOT_RESPONSIBLE_UNIT",
    );
    assert_error(&outsider.tasks.start_task(start()).await.unwrap_err(), Code::NotFound, "RESOURCE_NOT_FOUND");
    assert_error(&monitor.tasks.start_task(start()).await.unwrap_err(), Code::PermissionDenied, "ROLE_NOT_ALLOWED");
    assert_error(&reader.tasks.start_task(start()).await.unwrap_err(), Code::PermissionDenied, "ROLE_NOT_ALLOWED");
    lead.tasks.start_task(start()).await.unwrap();
    lead.tasks
        .report_task_done(pb::ReportTaskDoneRequest { name: name(), evidence: evidence(), ..Default::default() })
        .await
        .unwrap();

    // The lead unit never accepts its own work; a monitor of another plan may not either.
    let accept = || pb::AcceptTaskRequest { name: name(), ..Default::default() };
    assert_error(&lead.tasks.accept_task(accept()).await.unwrap_err(), Code::PermissionDenied, "ROLE_NOT_ALLOWED");
    assert_error(
        &other_monitor.tasks.accept_task(accept()).await.unwrap_err(),
        Code::PermissionDenied,
        "NOT_RESPONSIBLE_UNIT",
    );
    let done = monitor.tasks.accept_task(accept()).await.unwrap().into_inner();
    assert_eq!(done.state(), pb::TaskState::Done);

    // Creating and changing tasks is for ADMIN keys.
    let create = pb::CreateTaskRequest {
        parent: "plans/kh-1".into(),
        task: Some(crate::tracking_fixture::task("stc", date(2026, 1, 1), &[])),
        ..Default::default()
    };
    for c in [&mut lead, &mut monitor, &mut reader] {
        assert_error(
            &c.tasks.create_task(create.clone()).await.unwrap_err(),
            Code::PermissionDenied,
            "ROLE_NOT_ALLOWED",
        );
    }
}

#[tokio::test]
async fn lifecycle_calls_are_idempotent_with_a_request_id() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    let mut a = f.admin.clone();
    f.task("t", "stc", date(2026, 6, 30), &[]).await;
    f.issue().await;
    let request = pb::StartTaskRequest {
        name: task_name("t"),
        request_id: "0b5a3c9e-2f1d-4c5e-8f90-123456789abc".into(),
        ..Default::default()
    };
    let first = a.tasks.start_task(request.clone()).await.unwrap().into_inner();
    let retry = a.tasks.start_task(request).await.expect("a retry is not refused as a second start").into_inner();
    assert_eq!(first.etag, retry.etag);
    assert_eq!(retry.state(), pb::TaskState::InProgress);
}
