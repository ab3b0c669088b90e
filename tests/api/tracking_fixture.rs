//! A small province for the tracking tests: a People's Committee, a monitoring
//! department, two implementing units, a conclusion with two recommendations, and an
//! issued plan whose tasks the tests create.

use followup::api::proto::followup::v1::{
    self as pb, conclusion_service_client::ConclusionServiceClient, holiday_service_client::HolidayServiceClient,
    plan_service_client::PlanServiceClient, recommendation_service_client::RecommendationServiceClient,
    report_schedule_service_client::ReportScheduleServiceClient, report_service_client::ReportServiceClient,
    task_service_client::TaskServiceClient, unit_service_client::UnitServiceClient,
};
use followup::api::proto::google::r#type::Date;
use followup::auth::principal::Role;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::helpers::{Bearer, TestApp, bearer};

/// Clients of every service for one key.
#[derive(Clone)]
pub struct Clients {
    pub units: UnitServiceClient<InterceptedService<Channel, Bearer>>,
    pub conclusions: ConclusionServiceClient<InterceptedService<Channel, Bearer>>,
    pub recommendations: RecommendationServiceClient<InterceptedService<Channel, Bearer>>,
    pub plans: PlanServiceClient<InterceptedService<Channel, Bearer>>,
    pub tasks: TaskServiceClient<InterceptedService<Channel, Bearer>>,
    pub reports: ReportServiceClient<InterceptedService<Channel, Bearer>>,
    pub schedules: ReportScheduleServiceClient<InterceptedService<Channel, Bearer>>,
    pub holidays: HolidayServiceClient<InterceptedService<Channel, Bearer>>,
}

impl Clients {
    pub fn new(app: &TestApp, key: &str) -> Self {
        let b = || bearer(Some(key));
        Self {
            units: UnitServiceClient::with_interceptor(app.channel(), b()),
            conclusions: ConclusionServiceClient::with_interceptor(app.channel(), b()),
            recommendations: RecommendationServiceClient::with_interceptor(app.channel(), b()),
            plans: PlanServiceClient::with_interceptor(app.channel(), b()),
            tasks: TaskServiceClient::with_interceptor(app.channel(), b()),
            reports: ReportServiceClient::with_interceptor(app.channel(), b()),
            schedules: ReportScheduleServiceClient::with_interceptor(app.channel(), b()),
            holidays: HolidayServiceClient::with_interceptor(app.channel(), b()),
        }
    }
}

pub fn date(y: i32, m: i32, d: i32) -> Option<Date> {
    Some(Date { year: y, month: m, day: d })
}

pub const TENANT: &str = "hau-giang";
pub const PLAN: &str = "plans/kh-1";
pub const REC_MONEY: &str = "conclusions/kl-1/recommendations/thu-hoi";
pub const REC_REVIEW: &str = "conclusions/kl-1/recommendations/kiem-diem";

/// The province, with an ADMIN client; the plan is a draft until [`Fixture::issue`].
pub struct Fixture {
    pub admin: Clients,
}

impl Fixture {
    pub async fn new(app: &TestApp) -> Self {
        let mut admin = Clients::new(app, &app.admin_key(TENANT).await);
        for (id, name, code, kind, parent) in [
            ("ubnd", "Ủy ban nhân dân tỉnh", "UBND", pb::UnitKind::PeoplesCommittee, ""),
            ("snv", "Sở Nội vụ", "SNV", pb::UnitKind::Department, "units/ubnd"),
            ("stc", "Sở Tài chính", "STC", pb::UnitKind::Department, "units/ubnd"),
            ("vi-thanh", "Ủy ban nhân dân thành phố Vị Thanh", "VT", pb::UnitKind::PeoplesCommittee, "units/ubnd"),
        ] {
            let unit = pb::Unit {
                display_name: name.into(),
                code: code.into(),
                kind: kind as i32,
                parent: parent.into(),
                valid_from: date(2004, 1, 1),
                ..Default::default()
            };
            admin
                .units
                .create_unit(pb::CreateUnitRequest { unit: Some(unit), unit_id: id.into(), request_id: String::new() })
                .await
                .unwrap();
        }
        admin
            .conclusions
            .create_conclusion(pb::CreateConclusionRequest {
                conclusion: Some(pb::Conclusion {
                    document_ref: "146/KLTT-BTĐKT".into(),
                    issuing_body: "Ban Thi đua - Khen thưởng Trung ương".into(),
                    signed_date: date(2020, 5, 13),
                    title: "Kết luận thanh tra".into(),
                    inspected_units: vec!["units/stc".into(), "units/vi-thanh".into()],
                    ..Default::default()
                }),
                conclusion_id: "kl-1".into(),
                request_id: String::new(),
            })
            .await
            .unwrap();
        for (id, kind, required) in [
            ("thu-hoi", pb::RecommendationKind::MoneyRecovery, vec![(pb::Measure::Dong, 1_000_000)]),
            ("kiem-diem", pb::RecommendationKind::SelfCriticismReview, vec![(pb::Measure::Collectives, 2)]),
        ] {
            admin
                .recommendations
                .create_recommendation(pb::CreateRecommendationRequest {
                    parent: "conclusions/kl-1".into(),
                    recommendation: Some(pb::Recommendation {
                        content: format!("Kiến nghị {id}"),
                        kind: kind as i32,
                        required: required
                            .into_iter()
                            .map(|(m, amount)| pb::Figure { measure: m as i32, amount })
                            .collect(),
                        ..Default::default()
                    }),
                    recommendation_id: id.into(),
                    request_id: String::new(),
                })
                .await
                .unwrap();
        }
        admin
            .plans
            .create_plan(pb::CreatePlanRequest {
                plan: Some(pb::Plan {
                    document_ref: "963/KH-UBND".into(),
                    issuing_unit: "units/ubnd".into(),
                    issue_date: date(2020, 5, 20),
                    title: "Kế hoạch thực hiện kết luận".into(),
                    conclusions: vec!["conclusions/kl-1".into()],
                    monitoring_unit: "units/snv".into(),
                    ..Default::default()
                }),
                plan_id: "kh-1".into(),
                request_id: String::new(),
            })
            .await
            .unwrap();
        Self { admin }
    }

    /// Adds a task led by `lead` due on `due` (None: standing), addressing `recs`.
    pub async fn task(&self, id: &str, lead: &str, due: Option<Date>, recs: &[&str]) -> pb::Task {
        self.admin
            .tasks
            .clone()
            .create_task(pb::CreateTaskRequest {
                parent: PLAN.into(),
                task: Some(task(lead, due, recs)),
                task_id: id.into(),
                request_id: String::new(),
            })
            .await
            .unwrap_or_else(|s| panic!("create task {id}: {s:?}"))
            .into_inner()
    }

    pub async fn issue(&self) -> pb::Plan {
        self.admin
            .plans
            .clone()
            .issue_plan(pb::IssuePlanRequest { name: PLAN.into(), ..Default::default() })
            .await
            .unwrap()
            .into_inner()
    }

    /// Clients for a key of `role`, bound to `unit` if given.
    pub async fn clients(app: &TestApp, role: Role, unit: Option<&str>) -> Clients {
        Clients::new(app, &app.key(TENANT, role, unit).await)
    }
}

/// A task message led by `lead`.
pub fn task(lead: &str, due: Option<Date>, recs: &[&str]) -> pb::Task {
    pb::Task {
        title: format!("Việc của {lead}"),
        lead_unit: format!("units/{lead}"),
        recommendations: recs.iter().map(|r| r.to_string()).collect(),
        due: Some(match due {
            Some(d) => pb::task::Due::DueDate(d),
            None => pb::task::Due::Standing(true),
        }),
        ..Default::default()
    }
}

/// `plans/kh-1/tasks/{id}`.
pub fn task_name(id: &str) -> String {
    format!("{PLAN}/tasks/{id}")
}

/// Evidence with a document reference.
pub fn evidence() -> Option<pb::Evidence> {
    Some(pb::Evidence {
        document_ref: "45/BC-SNV".into(), description: "Đã thực hiện.".into(), ..Default::default()
    })
}
