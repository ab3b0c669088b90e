//! Batch creation is all or nothing; dissolved units take no new work, and their open
//! work is reassigned, on the record.

use followup::api::proto::followup::v1 as pb;
use tonic::Code;

use crate::helpers::TestApp;
use crate::tracking_fixture::{Fixture, PLAN, REC_REVIEW, date, task, task_name};
use crate::{assert_error, violated_fields};

fn batch(items: Vec<(&str, pb::Task)>) -> pb::BatchCreateTasksRequest {
    pb::BatchCreateTasksRequest {
        parent: PLAN.into(),
        requests: items
            .into_iter()
            .map(|(id, task)| pb::CreateTaskRequest { task: Some(task), task_id: id.into(), ..Default::default() })
            .collect(),
        request_id: String::new(),
    }
}

async fn task_count(f: &Fixture) -> usize {
    let request = pb::ListTasksRequest { parent: PLAN.into(), ..Default::default() };
    f.admin.tasks.clone().list_tasks(request).await.unwrap().into_inner().tasks.len()
}

#[tokio::test]
async fn batch_creation_is_all_or_nothing() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    let mut a = f.admin.clone();
    // The third item names a unit that does not exist: nothing is created.
    let request = batch(vec![
        ("khac-phuc-stc", task("stc", date(2026, 8, 31), &[REC_REVIEW])),
        ("khac-phuc-vi-thanh", task("vi-thanh", date(2026, 8, 31), &[REC_REVIEW])),
        ("khac-phuc-ghost", task("ghost", date(2026, 8, 31), &[REC_REVIEW])),
    ]);
    let status = a.tasks.batch_create_tasks(request).await.unwrap_err();
    assert_error(&status, Code::NotFound, "RESOURCE_NOT_FOUND");
    assert!(status.message().contains("requests[2]"), "{}", status.message());
    assert_eq!(task_count(&f).await, 0);
    // A bad field is named with its index, before anything is written.
    let mut bad = task("stc", None, &[]);
    bad.title = String::new();
    let status =
        a.tasks.batch_create_tasks(batch(vec![("ok", task("stc", None, &[])), ("bad", bad)])).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["requests[1].task.title"]);
    assert_eq!(task_count(&f).await, 0);

    let created = a
        .tasks
        .batch_create_tasks(batch(vec![
            ("khac-phuc-stc", task("stc", date(2026, 8, 31), &[REC_REVIEW])),
            ("khac-phuc-vi-thanh", task("vi-thanh", date(2026, 8, 31), &[REC_REVIEW])),
        ]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.tasks.len(), 2);
    assert_eq!(task_count(&f).await, 2);
}

#[tokio::test]
async fn open_work_of_a_dissolved_unit_is_reassigned_and_no_new_work_goes_to_it() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    let mut a = f.admin.clone();
    f.task("open", "vi-thanh", date(2026, 8, 31), &[]).await;
    f.task("done", "vi-thanh", date(2026, 8, 31), &[]).await;
    f.issue().await;
    a.tasks
        .report_task_done(pb::ReportTaskDoneRequest {
            name: task_name("done"),
            evidence: crate::tracking_fixture::evidence(),
            ..Default::default()
        })
        .await
        .unwrap();
    a.tasks.accept_task(pb::AcceptTaskRequest { name: task_name("done"), ..Default::default() }).await.unwrap();

    // Vị Thanh merges into a new unit on 1 March 2026 (the test clock says 2 March).
    a.units
        .create_unit(pb::CreateUnitRequest {
            unit: Some(pb::Unit {
                display_name: "Ủy ban nhân dân phường Vị Thanh".into(),
                code: "PVT".into(),
                kind: pb::UnitKind::Commune as i32,
                valid_from: date(2026, 3, 1),
                ..Default::default()
            }),
            unit_id: "phuong-vi-thanh".into(),
            request_id: String::new(),
        })
        .await
        .unwrap();
    a.units
        .dissolve_unit(pb::DissolveUnitRequest {
            name: "units/vi-thanh".into(),
            valid_to: date(2026, 3, 1),
            successor: "units/phuong-vi-thanh".into(),
            reason: "Sắp xếp đơn vị hành chính.".into(),
            etag: String::new(),
        })
        .await
        .unwrap();

    let status = a
        .tasks
        .create_task(pb::CreateTaskRequest {
            parent: PLAN.into(),
            task: Some(task("vi-thanh", None, &[])),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "UNIT_DISSOLVED");

    let reassign = |name: String, lead: &str, reason: &str| pb::ReassignTaskRequest {
        name,
        lead_unit: lead.into(),
        reason: reason.into(),
        ..Default::default()
    };
    let status = a.tasks.reassign_task(reassign(task_name("open"), "units/phuong-vi-thanh", "")).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["reason"]);
    let status = a.tasks.reassign_task(reassign(task_name("open"), "units/vi-thanh", "x")).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["lead_unit"], "already the lead");
    let status = a.tasks.reassign_task(reassign(task_name("done"), "units/phuong-vi-thanh", "x")).await.unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "TASK_STATE");
    let moved = a
        .tasks
        .reassign_task(reassign(task_name("open"), "units/phuong-vi-thanh", "Đơn vị kế thừa sau sắp xếp."))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(moved.lead_unit, "units/phuong-vi-thanh");
    assert_eq!(moved.state(), pb::TaskState::NotStarted, "the work keeps its state");

    let mut conn = app.operator().await;
    let (reason, before, after): (String, serde_json::Value, serde_json::Value) = sqlx::query_as(
        "select reason, before, after from audit_records where action = 'ReassignTask' and resource = 'plans/kh-1/tasks/open'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(reason, "Đơn vị kế thừa sau sắp xếp.");
    assert_eq!(
        (before["lead_unit_id"].as_str(), after["lead_unit_id"].as_str()),
        (Some("vi-thanh"), Some("phuong-vi-thanh"))
    );
    // The accepted task keeps the unit that did the work.
    let done = a.tasks.get_task(pb::GetTaskRequest { name: task_name("done") }).await.unwrap().into_inner();
    assert_eq!(done.lead_unit, "units/vi-thanh");
}
