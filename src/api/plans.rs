//! `followup.v1.PlanService`.

use tonic::{Request, Response, Status};

use super::convert::{
    MAX_LONG_TEXT, Violations, chosen_id, date_to_proto, idempotency, ids, mask_paths, optional_id, plan_id, principal,
    reason, request_id, required_date, timestamp, title,
};
use super::filter_terms::FilterTerms;
use super::proto::followup::v1 as pb;
use crate::domain::document_ref::DocumentRef;
use crate::domain::plan::PlanState;
use crate::domain::resource_name;
use crate::domain::text;
use crate::error::Error;
use crate::service::plans::{self, PlanInput, PlanQuery, PlanRow, PlanStep};
use crate::service::{self, Services, etag};

/// The most conclusions one plan implements.
const MAX_CONCLUSIONS: usize = 50;

/// Serves PlanService.
#[derive(Debug, Clone)]
pub struct PlanApi {
    services: Services,
}

impl PlanApi {
    /// A PlanService backed by `services`.
    pub fn new(services: Services) -> Self {
        Self { services }
    }
}

fn state_to_proto(state: Option<PlanState>) -> pb::PlanState {
    match state {
        Some(PlanState::Draft) => pb::PlanState::Draft,
        Some(PlanState::Issued) => pb::PlanState::Issued,
        Some(PlanState::Completed) => pb::PlanState::Completed,
        Some(PlanState::Cancelled) => pb::PlanState::Cancelled,
        None => pb::PlanState::Unspecified,
    }
}

fn to_proto(row: PlanRow) -> pb::Plan {
    let unit = |id: &str| resource_name::format("units", id);
    pb::Plan {
        name: plans::name(&row.plan_id),
        document_ref: row.document_ref,
        issuing_unit: unit(&row.issuing_unit_id),
        issue_date: Some(date_to_proto(row.issue_date)),
        title: row.title,
        objectives: row.objectives,
        requirements: row.requirements,
        conclusions: row.conclusion_ids.iter().map(|id| resource_name::format("conclusions", id)).collect(),
        monitoring_unit: row.monitoring_unit_id.as_deref().map(unit).unwrap_or_default(),
        state: state_to_proto(PlanState::from_db(&row.state)) as i32,
        cancel_reason: row.cancel_reason,
        etag: etag(row.revision),
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
    }
}

const PATHS: [&str; 8] = [
    "document_ref",
    "issuing_unit",
    "issue_date",
    "title",
    "objectives",
    "requirements",
    "conclusions",
    "monitoring_unit",
];

#[derive(Default)]
struct Fields {
    document_ref: Option<DocumentRef>,
    issuing_unit_id: Option<String>,
    issue_date: Option<chrono::NaiveDate>,
    title: Option<String>,
    objectives: Option<String>,
    requirements: Option<String>,
    conclusion_ids: Option<Vec<String>>,
    monitoring_unit_id: Option<Option<String>>,
}

fn fields(v: &mut Violations, p: &pb::Plan, paths: &[String]) -> Fields {
    let mut f = Fields::default();
    let long = |s: &str| text::multi_line(s, MAX_LONG_TEXT, false);
    for path in paths {
        let field = format!("plan.{path}");
        match path.as_str() {
            "document_ref" => f.document_ref = v.check(&field, DocumentRef::parse(&p.document_ref)),
            "issuing_unit" => f.issuing_unit_id = v.check(&field, resource_name::parse("units", &p.issuing_unit)),
            "issue_date" => f.issue_date = v.check(&field, required_date(p.issue_date.as_ref())),
            "title" => f.title = v.check(&field, title(&p.title)),
            "objectives" => f.objectives = v.check(&field, long(&p.objectives)),
            "requirements" => f.requirements = v.check(&field, long(&p.requirements)),
            "conclusions" => f.conclusion_ids = ids(v, &field, "conclusions", &p.conclusions, MAX_CONCLUSIONS),
            "monitoring_unit" => f.monitoring_unit_id = v.check(&field, optional_id("units", &p.monitoring_unit)),
            other => v.add("update_mask", format!("{other:?} cannot be updated; allowed: {}", PATHS.join(", "))),
        }
    }
    f
}

impl Fields {
    fn apply(self, mut input: PlanInput) -> PlanInput {
        if let Some(x) = self.document_ref {
            input.document_ref = x;
        }
        if let Some(x) = self.issuing_unit_id {
            input.issuing_unit_id = x;
        }
        if let Some(x) = self.issue_date {
            input.issue_date = x;
        }
        if let Some(x) = self.title {
            input.title = x;
        }
        if let Some(x) = self.objectives {
            input.objectives = x;
        }
        if let Some(x) = self.requirements {
            input.requirements = x;
        }
        if let Some(x) = self.conclusion_ids {
            input.conclusion_ids = x;
        }
        if let Some(x) = self.monitoring_unit_id {
            input.monitoring_unit_id = x;
        }
        input
    }

    fn into_input(self) -> Option<PlanInput> {
        let base = PlanInput {
            document_ref: self.document_ref.clone()?,
            issuing_unit_id: self.issuing_unit_id.clone()?,
            issue_date: self.issue_date?,
            title: self.title.clone()?,
            objectives: String::new(),
            requirements: String::new(),
            conclusion_ids: Vec::new(),
            monitoring_unit_id: None,
        };
        Some(self.apply(base))
    }
}

fn plan_query(filter: &str) -> Result<PlanQuery, Error> {
    let mut query = PlanQuery::default();
    let mut terms = FilterTerms::parse(filter)?;
    query.texts = terms.texts();
    while let Some(term) = terms.next_comparison() {
        match term.field.as_str() {
            "state" => {
                let state = term.enum_eq("PlanState", |name| {
                    let proto = pb::PlanState::from_str_name(name)?;
                    PlanState::ALL.into_iter().find(|s| state_to_proto(Some(*s)) == proto)
                })?;
                query.state = Some(state.as_str().to_owned());
            }
            "monitoring_unit" => query.monitoring_unit = Some(term.id_eq("units")?),
            "conclusion" => query.conclusion = Some(term.id_eq("conclusions")?),
            "document_ref" => query.document_ref = Some(text::normalize(&term.string_eq()?)),
            _ => return Err(term.unknown(&["state", "monitoring_unit", "conclusion", "document_ref"])),
        }
    }
    Ok(query)
}

impl PlanApi {
    async fn step(
        &self,
        who: crate::auth::principal::Principal,
        name: &str,
        step: PlanStep,
        etag: &str,
        idem: Option<service::Idempotency>,
    ) -> Result<Response<pb::Plan>, Status> {
        let id = plan_id("name", name)?;
        Ok(Response::new(to_proto(plans::step(&self.services, &who, &id, step, etag, idem).await?)))
    }
}

#[tonic::async_trait]
impl pb::plan_service_server::PlanService for PlanApi {
    async fn create_plan(&self, request: Request<pb::CreatePlanRequest>) -> Result<Response<pb::Plan>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let idem = v.check("request_id", idempotency(&req.request_id, &req)).flatten();
        let id = v.check("plan_id", chosen_id(&req.plan_id)).flatten();
        let Some(plan) = req.plan.as_ref() else {
            return Err(Error::invalid("plan", "is required").into());
        };
        let all: Vec<String> = PATHS.iter().map(|p| p.to_string()).collect();
        let fields = fields(&mut v, plan, &all);
        let input = v.finish_with(fields.into_input())?;
        Ok(Response::new(to_proto(plans::create(&self.services, &who, id, input, idem).await?)))
    }

    async fn get_plan(&self, request: Request<pb::GetPlanRequest>) -> Result<Response<pb::Plan>, Status> {
        let who = principal(&request)?;
        let id = plan_id("name", &request.get_ref().name)?;
        Ok(Response::new(to_proto(plans::get(&self.services, &who, &id).await?)))
    }

    async fn list_plans(
        &self,
        request: Request<pb::ListPlansRequest>,
    ) -> Result<Response<pb::ListPlansResponse>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let page_size = service::page_size(req.page_size)?;
        let query = plan_query(&req.filter)?;
        let (rows, next_page_token) =
            plans::list(&self.services, &who, &query, &req.filter, page_size, &req.page_token).await?;
        Ok(Response::new(pb::ListPlansResponse { plans: rows.into_iter().map(to_proto).collect(), next_page_token }))
    }

    async fn update_plan(&self, request: Request<pb::UpdatePlanRequest>) -> Result<Response<pb::Plan>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let Some(plan) = req.plan else {
            return Err(Error::invalid("plan", "is required").into());
        };
        let id = plan_id("plan.name", &plan.name)?;
        let paths = mask_paths(req.update_mask, "title")?;
        let mut v = Violations::default();
        let fields = fields(&mut v, &plan, &paths);
        v.finish()?;
        let row = plans::update(&self.services, &who, &id, &plan.etag, |input| fields.apply(input)).await?;
        Ok(Response::new(to_proto(row)))
    }

    async fn issue_plan(&self, request: Request<pb::IssuePlanRequest>) -> Result<Response<pb::Plan>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let idem = request_id(&req.request_id, &req)?;
        self.step(who, &req.name, PlanStep::Issue, &req.etag, idem).await
    }

    async fn complete_plan(&self, request: Request<pb::CompletePlanRequest>) -> Result<Response<pb::Plan>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let idem = request_id(&req.request_id, &req)?;
        self.step(who, &req.name, PlanStep::Complete, &req.etag, idem).await
    }

    async fn cancel_plan(&self, request: Request<pb::CancelPlanRequest>) -> Result<Response<pb::Plan>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let idem = request_id(&req.request_id, &req)?;
        let why = reason(&req.reason, true).map_err(|e| Error::invalid("reason", e))?;
        self.step(who, &req.name, PlanStep::Cancel(why), &req.etag, idem).await
    }
}
