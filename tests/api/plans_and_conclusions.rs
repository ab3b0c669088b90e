//! Conclusions with their document references, recommendations with derived status
//! and rates, and the plan lifecycle.

use followup::api::proto::followup::v1 as pb;
use followup::auth::principal::Role;
use tonic::Code;

use crate::helpers::TestApp;
use crate::tracking_fixture::{Fixture, PLAN, REC_MONEY, REC_REVIEW, date, evidence, task_name};
use crate::{assert_error, violated_fields};

fn conclusion(
    document_ref: &str,
    issuing_body: &str,
    signed: Option<followup::api::proto::google::r#type::Date>,
) -> pb::Conclusion {
    pb::Conclusion {
        document_ref: document_ref.into(),
        issuing_body: issuing_body.into(),
        signed_date: signed,
        title: "Kết luận".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn document_references_are_checked_and_unique_per_issuer_and_year() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    let mut c = f.admin.conclusions.clone();
    let create = |conclusion| pb::CreateConclusionRequest { conclusion: Some(conclusion), ..Default::default() };

    for (bad, hint) in
        [("146", "no '/'"), ("5/KL-TTCP", "leading zero"), ("146/kl-ttcp", "capital"), ("146 /KL", "space")]
    {
        let status =
            c.create_conclusion(create(conclusion(bad, "Thanh tra Chính phủ", date(2020, 1, 2)))).await.unwrap_err();
        assert_eq!(violated_fields(&status), ["conclusion.document_ref"], "{bad}");
        assert!(status.message().contains(hint), "{bad}: {}", status.message());
    }
    let status = c.create_conclusion(create(conclusion("12/KL-TTCP", "", None))).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["conclusion.signed_date"]);
    let status = c.create_conclusion(create(conclusion("12/KL-TTCP", "", date(2020, 1, 2)))).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["conclusion.issuing_body"]);

    // The fixture holds 146/KLTT-BTĐKT of 2020 from the Central Board.
    let again = conclusion("146/KLTT-BTĐKT", "Ban Thi đua - Khen thưởng Trung ương", date(2020, 6, 1));
    assert_error(&c.create_conclusion(create(again)).await.unwrap_err(), Code::AlreadyExists, "DOCUMENT_REF_TAKEN");
    // The same number from another issuer, or in another year, is another document.
    c.create_conclusion(create(conclusion("146/KLTT-BTĐKT", "Thanh tra tỉnh", date(2020, 6, 1)))).await.unwrap();
    c.create_conclusion(create(conclusion("146/KLTT-BTĐKT", "Ban Thi đua - Khen thưởng Trung ương", date(2021, 3, 1))))
        .await
        .unwrap();
    // A decomposed (NFD) spelling is the same reference: Ư is U + U+031B in NFD.
    let nfc = conclusion("12/KL-TTTƯ", "Thanh tra Trung ương", date(2020, 6, 1));
    c.create_conclusion(create(nfc)).await.unwrap();
    let nfd = conclusion("12/KL-TTTU\u{31b}", "Thanh tra Trung ương", date(2020, 6, 1));
    assert_error(&c.create_conclusion(create(nfd)).await.unwrap_err(), Code::AlreadyExists, "DOCUMENT_REF_TAKEN");

    let listed = c
        .list_conclusions(pb::ListConclusionsRequest {
            filter: r#"document_ref = "146/KLTT-BTĐKT" AND signed_date >= "2020-01-01" AND signed_date < "2021-01-01""#
                .into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.conclusions.len(), 2);
    let found = c
        .list_conclusions(pb::ListConclusionsRequest { filter: "\"thanh tra tinh\"".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.conclusions.len(), 1);
}

#[tokio::test]
async fn recommendation_figures_fit_their_kind() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    let mut r = f.admin.recommendations.clone();
    let status = r
        .create_recommendation(pb::CreateRecommendationRequest {
            parent: "conclusions/kl-1".into(),
            recommendation: Some(pb::Recommendation {
                content: "Thu hồi đất".into(),
                kind: pb::RecommendationKind::LandRecovery as i32,
                required: vec![pb::Figure { measure: pb::Measure::Dong as i32, amount: 5 }],
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["recommendation.required[0]"]);
    let flagged = r
        .create_recommendation(pb::CreateRecommendationRequest {
            parent: "conclusions/kl-1".into(),
            recommendation: Some(pb::Recommendation {
                content: "Chuyển cơ quan điều tra".into(),
                kind: pb::RecommendationKind::TransferToInvestigation as i32,
                required: vec![pb::Figure { measure: pb::Measure::Cases as i32, amount: 1 }],
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(flagged.flagged);
    let status = r
        .create_recommendation(pb::CreateRecommendationRequest {
            parent: "conclusions/ghost".into(),
            recommendation: flagged.clone().into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "RESOURCE_NOT_FOUND");
}

#[tokio::test]
async fn recommendation_status_and_rates_are_derived_from_accepted_tasks() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    let mut a = f.admin.clone();
    f.task("t1", "stc", date(2026, 6, 30), &[REC_MONEY]).await;
    f.task("t2", "vi-thanh", date(2026, 6, 30), &[REC_MONEY, REC_REVIEW]).await;
    f.issue().await;
    let get = |name: &str| pb::GetRecommendationRequest { name: name.into() };
    let money = a.recommendations.get_recommendation(get(REC_MONEY)).await.unwrap().into_inner();
    assert_eq!(money.status(), pb::RecommendationStatus::NotStarted);
    assert_eq!(money.progress[0].required, 1_000_000);

    let report = |id: &str, figures: Vec<(&str, pb::Measure, i64)>| pb::ReportTaskDoneRequest {
        name: task_name(id),
        evidence: evidence(),
        achieved: figures
            .into_iter()
            .map(|(rec, m, amount)| pb::AchievedFigure { recommendation: rec.into(), measure: m as i32, amount })
            .collect(),
        ..Default::default()
    };
    // Figures must be for the task's own recommendations and their measures.
    let status =
        a.tasks.report_task_done(report("t1", vec![(REC_REVIEW, pb::Measure::Collectives, 1)])).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["achieved[0]"]);
    let status = a.tasks.report_task_done(report("t1", vec![(REC_MONEY, pb::Measure::Persons, 1)])).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["achieved[0]"]);

    a.tasks.report_task_done(report("t1", vec![(REC_MONEY, pb::Measure::Dong, 400_000)])).await.unwrap();
    let money = a.recommendations.get_recommendation(get(REC_MONEY)).await.unwrap().into_inner();
    assert_eq!(money.status(), pb::RecommendationStatus::InProgress);
    assert_eq!(money.progress[0].achieved, 0, "only accepted work counts");
    a.tasks.accept_task(pb::AcceptTaskRequest { name: task_name("t1"), ..Default::default() }).await.unwrap();
    let money = a.recommendations.get_recommendation(get(REC_MONEY)).await.unwrap().into_inner();
    assert_eq!((money.progress[0].achieved, money.progress[0].rate_percent), (400_000, 40.0));

    a.tasks
        .report_task_done(report(
            "t2",
            vec![(REC_MONEY, pb::Measure::Dong, 600_000), (REC_REVIEW, pb::Measure::Collectives, 1)],
        ))
        .await
        .unwrap();
    a.tasks.accept_task(pb::AcceptTaskRequest { name: task_name("t2"), ..Default::default() }).await.unwrap();
    let all = a
        .recommendations
        .list_recommendations(pb::ListRecommendationsRequest {
            parent: "conclusions/kl-1".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .recommendations;
    let by_name = |name: &str| all.iter().find(|r| r.name == name).unwrap().clone();
    let money = by_name(REC_MONEY);
    assert_eq!(money.status(), pb::RecommendationStatus::Implemented);
    assert_eq!((money.progress[0].achieved, money.progress[0].rate_percent), (1_000_000, 100.0));
    let review = by_name(REC_REVIEW);
    assert_eq!(review.status(), pb::RecommendationStatus::PartlyImplemented, "1 of 2 collectives reviewed");
    assert_eq!(review.progress[0].rate_percent, 50.0);
}

#[tokio::test]
async fn plan_lifecycle() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    let mut p = f.admin.plans.clone();
    let issue = || pb::IssuePlanRequest { name: PLAN.into(), ..Default::default() };
    assert_error(&p.issue_plan(issue()).await.unwrap_err(), Code::FailedPrecondition, "PLAN_HAS_NO_TASKS");
    f.task("t", "stc", date(2026, 6, 30), &[]).await;
    // Without a monitoring unit it cannot be issued either.
    let mut plan = p.get_plan(pb::GetPlanRequest { name: PLAN.into() }).await.unwrap().into_inner();
    plan.monitoring_unit = String::new();
    let updated = p
        .update_plan(pb::UpdatePlanRequest {
            plan: Some(plan.clone()),
            update_mask: Some(prost_types::FieldMask { paths: vec!["monitoring_unit".into()] }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_error(&p.issue_plan(issue()).await.unwrap_err(), Code::FailedPrecondition, "PLAN_HAS_NO_MONITORING_UNIT");
    let mut with_monitor = updated.clone();
    with_monitor.monitoring_unit = "units/snv".into();
    p.update_plan(pb::UpdatePlanRequest {
        plan: Some(with_monitor),
        update_mask: Some(prost_types::FieldMask { paths: vec!["monitoring_unit".into()] }),
    })
    .await
    .unwrap();
    let stale = pb::IssuePlanRequest { name: PLAN.into(), etag: updated.etag, ..Default::default() };
    assert_error(&p.issue_plan(stale).await.unwrap_err(), Code::Aborted, "ETAG_MISMATCH");
    let issued = p.issue_plan(issue()).await.unwrap().into_inner();
    assert_eq!(issued.state(), pb::PlanState::Issued);
    assert_error(&p.issue_plan(issue()).await.unwrap_err(), Code::FailedPrecondition, "PLAN_STATE");

    let complete = || pb::CompletePlanRequest { name: PLAN.into(), ..Default::default() };
    assert_error(&p.complete_plan(complete()).await.unwrap_err(), Code::FailedPrecondition, "PLAN_HAS_OPEN_TASKS");
    let mut a = f.admin.clone();
    a.tasks
        .close_task_not_done(pb::CloseTaskNotDoneRequest {
            name: task_name("t"),
            reason: "Không còn đối tượng.".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let completed = p.complete_plan(complete()).await.unwrap().into_inner();
    assert_eq!(completed.state(), pb::PlanState::Completed);
    // A completed plan takes no new task and no change.
    let status = a
        .tasks
        .create_task(pb::CreateTaskRequest {
            parent: PLAN.into(),
            task: Some(crate::tracking_fixture::task("stc", date(2026, 1, 1), &[])),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "PLAN_STATE");
    let status =
        p.cancel_plan(pb::CancelPlanRequest { name: PLAN.into(), reason: "x".into(), ..Default::default() }).await;
    assert_error(&status.unwrap_err(), Code::FailedPrecondition, "PLAN_STATE");
}

#[tokio::test]
async fn cancelling_needs_a_reason_and_only_admins_move_plans() {
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    let mut p = f.admin.plans.clone();
    let status = p.cancel_plan(pb::CancelPlanRequest { name: PLAN.into(), ..Default::default() }).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["reason"]);
    let mut monitor = Fixture::clients(&app, Role::Monitor, None).await;
    let status = monitor
        .plans
        .cancel_plan(pb::CancelPlanRequest { name: PLAN.into(), reason: "x".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_error(&status, Code::PermissionDenied, "ROLE_NOT_ALLOWED");
    let cancelled = p
        .cancel_plan(pb::CancelPlanRequest {
            name: PLAN.into(),
            reason: "Kết luận bị hủy.".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((cancelled.state(), cancelled.cancel_reason.as_str()), (pb::PlanState::Cancelled, "Kết luận bị hủy."));
}
