//! `followup.v1.ReportService`.

use tonic::{Request, Response, Status};

use super::convert::{
    MAX_ACHIEVED, MAX_LONG_TEXT, Violations, chosen_id, date, date_to_proto, idempotency, mask_paths, optional_instant,
    plan_id, principal, reason, request_id, timestamp,
};
use super::filter_terms::FilterTerms;
use super::proto::followup::v1 as pb;
use super::recommendations::{measure_from_proto, measure_to_proto};
use super::tasks::{evidence, state_to_proto};
use crate::domain::calendar::local_date;
use crate::domain::document_ref::DocumentRef;
use crate::domain::period::Period;
use crate::domain::recommendation::{Measure, RecommendationStatus};
use crate::domain::resource_name;
use crate::domain::task::TaskState;
use crate::domain::text;
use crate::error::Error;
use crate::service::progress::PlanProgress;
use crate::service::reports::{self, ItemInput, ItemRecord, Missing, ReportQuery, ReportRow, ReportText, Subject};
use crate::service::{self, Services, etag};

/// The most items one report holds.
const MAX_ITEMS: usize = 500;

/// Serves ReportService.
#[derive(Debug, Clone)]
pub struct ReportApi {
    services: Services,
}

impl ReportApi {
    /// A ReportService backed by `services`.
    pub fn new(services: Services) -> Self {
        Self { services }
    }
}

fn report_state(state: &str) -> pb::ReportState {
    match state {
        "DRAFT" => pb::ReportState::Draft,
        "SUBMITTED" => pb::ReportState::Submitted,
        "ACCEPTED" => pb::ReportState::Accepted,
        "RETURNED" => pb::ReportState::Returned,
        _ => pb::ReportState::Unspecified,
    }
}

fn item_to_proto(plan_id: &str, item: &ItemRecord) -> pb::ReportItem {
    pb::ReportItem {
        task: crate::service::tasks::name(plan_id, &item.task_id),
        state: item.state.as_deref().and_then(TaskState::from_db).map(state_to_proto).unwrap_or_default() as i32,
        progress_percent: item.progress_percent,
        done: item.done.clone(),
        achieved: item
            .achieved
            .iter()
            .filter_map(|(recommendation, measure, amount)| {
                let measure: Measure = serde_json::from_value(serde_json::Value::String(measure.clone())).ok()?;
                Some(pb::AchievedFigure {
                    recommendation: recommendation.clone(),
                    measure: measure_to_proto(measure) as i32,
                    amount: *amount,
                })
            })
            .collect(),
        evidence: item.evidence.clone().map(|e| pb::Evidence {
            document_ref: e.document_ref,
            description: e.description,
            link: e.link,
            sha256: e.sha256,
        }),
    }
}

fn to_proto(row: ReportRow) -> pb::Report {
    pb::Report {
        name: reports::name(&row.plan_id, &row.report_id),
        unit: resource_name::format("units", &row.unit_id),
        period: row.period_key.clone().unwrap_or_default(),
        report_request: row
            .report_request_id
            .as_deref()
            .map(|r| crate::service::schedules::request_name(&row.plan_id, r))
            .unwrap_or_default(),
        deadline: Some(date_to_proto(row.deadline)),
        document_ref: row.document_ref.clone(),
        summary: row.summary.clone(),
        results: row.results.clone(),
        difficulties: row.difficulties.clone(),
        proposals: row.proposals.clone(),
        items: row.items.0.iter().map(|item| item_to_proto(&row.plan_id, item)).collect(),
        state: report_state(&row.state) as i32,
        late: row.late,
        version: row.version,
        submit_time: row.submit_time.map(timestamp),
        review_comment: row.review_comment.clone(),
        etag: etag(row.revision),
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
    }
}

fn items(v: &mut Violations, plan_id: &str, items: &[pb::ReportItem]) -> Option<Vec<ItemInput>> {
    if items.len() > MAX_ITEMS {
        v.add("report.items", format!("at most {MAX_ITEMS} items are allowed"));
        return None;
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let field = |f: &str| format!("report.items[{i}].{f}");
        let task = match resource_name::parse_nested("plans", "tasks", &item.task) {
            Ok((plan, task)) if plan == plan_id => Some(task),
            Ok(_) => {
                v.add(&field("task"), "must be a task of the report's plan");
                None
            }
            Err(e) => {
                v.add(&field("task"), e);
                None
            }
        };
        let state = match pb::TaskState::try_from(item.state) {
            Ok(pb::TaskState::Unspecified) => Some(None),
            Ok(pb::TaskState::InProgress) => Some(Some(TaskState::InProgress)),
            Ok(pb::TaskState::ReportedDone) => Some(Some(TaskState::ReportedDone)),
            _ => {
                v.add(&field("state"), "must be TASK_STATE_IN_PROGRESS, TASK_STATE_REPORTED_DONE or unset");
                None
            }
        };
        if !(0..=100).contains(&item.progress_percent) {
            v.add(&field("progress_percent"), "must be from 0 to 100");
        }
        let done = v.check(&field("done"), text::multi_line(&item.done, MAX_LONG_TEXT, false));
        v.at_most(&field("achieved"), item.achieved.len(), MAX_ACHIEVED);
        let mut achieved = Vec::new();
        for (j, figure) in item.achieved.iter().enumerate().take(MAX_ACHIEVED) {
            let rec = v.check(
                &field(&format!("achieved[{j}].recommendation")),
                resource_name::parse_nested("conclusions", "recommendations", &figure.recommendation),
            );
            let measure = v.check(&field(&format!("achieved[{j}].measure")), measure_from_proto(figure.measure));
            if let (Some((c, r)), Some(m)) = (rec, measure) {
                achieved.push((crate::service::recommendations::name(&c, &r), m, figure.amount));
            }
        }
        let evidence = if item.evidence.is_some() {
            let mut inner = Violations::default();
            let e = evidence(&mut inner, item.evidence.as_ref());
            for violation in inner.into_violations() {
                v.add(&format!("report.items[{i}].{}", violation.field), violation.description);
            }
            e
        } else {
            None
        };
        if let (Some(task_id), Some(state), Some(done)) = (task, state, done) {
            out.push(ItemInput { task_id, state, progress_percent: item.progress_percent, done, achieved, evidence });
        }
    }
    (out.len() == items.len()).then_some(out)
}

const TEXT_PATHS: [&str; 5] = ["document_ref", "summary", "results", "difficulties", "proposals"];

fn text_field(v: &mut Violations, r: &pb::Report, path: &str, text_out: &mut ReportText) {
    let field = format!("report.{path}");
    let long = |s: &str| text::multi_line(s, MAX_LONG_TEXT, false);
    match path {
        "document_ref" => {
            if r.document_ref.trim().is_empty() {
                text_out.document_ref = String::new();
            } else if let Some(d) = v.check(&field, DocumentRef::parse(&r.document_ref)) {
                text_out.document_ref = d.as_str().to_owned();
            }
        }
        "summary" => text_out.summary = v.check(&field, long(&r.summary)).unwrap_or_default(),
        "results" => text_out.results = v.check(&field, long(&r.results)).unwrap_or_default(),
        "difficulties" => text_out.difficulties = v.check(&field, long(&r.difficulties)).unwrap_or_default(),
        "proposals" => text_out.proposals = v.check(&field, long(&r.proposals)).unwrap_or_default(),
        _ => {}
    }
}

fn report_name(field: &str, name: &str) -> Result<(String, String), Error> {
    resource_name::parse_nested("plans", "reports", name).map_err(|e| Error::invalid(field, e))
}

fn report_query(filter: &str) -> Result<ReportQuery, Error> {
    let mut query = ReportQuery::default();
    let mut terms = FilterTerms::parse(filter)?;
    if !terms.texts().is_empty() {
        return Err(Error::invalid("filter", "ListReports has no text search; filter by unit, period, state or late"));
    }
    while let Some(term) = terms.next_comparison() {
        match term.field.as_str() {
            "unit" => query.unit = Some(term.id_eq("units")?),
            "period" => {
                let key = term.string_eq()?;
                query.period_key = Some(Period::parse(&key).map_err(|e| Error::invalid("filter", e))?.key());
            }
            "state" => {
                let state = term.enum_eq("ReportState", |name| {
                    let state = pb::ReportState::from_str_name(name)?;
                    ["DRAFT", "SUBMITTED", "ACCEPTED", "RETURNED"].into_iter().find(|s| report_state(s) == state)
                })?;
                query.state = Some(state.to_owned());
            }
            "late" => query.late = Some(term.bool_eq()?),
            _ => return Err(term.unknown(&["unit", "period", "state", "late"])),
        }
    }
    Ok(query)
}

fn missing_to_proto(plan_id: &str, m: &Missing) -> pb::MissingReport {
    let (period, report_request) = match m.subject.strip_prefix('#') {
        Some(request) => (String::new(), crate::service::schedules::request_name(plan_id, request)),
        None => (m.subject.clone(), String::new()),
    };
    pb::MissingReport {
        period,
        report_request,
        unit: resource_name::format("units", &m.unit_id),
        deadline: Some(date_to_proto(m.deadline)),
        days_late: m.days_late,
    }
}

fn recommendation_status(status: RecommendationStatus) -> pb::RecommendationStatus {
    match status {
        RecommendationStatus::NotStarted => pb::RecommendationStatus::NotStarted,
        RecommendationStatus::InProgress => pb::RecommendationStatus::InProgress,
        RecommendationStatus::Implemented => pb::RecommendationStatus::Implemented,
        RecommendationStatus::PartlyImplemented => pb::RecommendationStatus::PartlyImplemented,
        RecommendationStatus::NotImplemented => pb::RecommendationStatus::NotImplemented,
    }
}

fn count(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn progress_to_proto(p: PlanProgress) -> pb::PlanProgress {
    let plan_id = p.plan.plan_id.clone();
    pb::PlanProgress {
        plan: crate::service::plans::name(&plan_id),
        as_of: Some(timestamp(p.as_of)),
        total_tasks: count(p.total),
        by_state: p
            .by_state
            .iter()
            .map(|(s, n)| pb::StateCount { state: state_to_proto(*s) as i32, count: count(*n) })
            .collect(),
        on_time_done: count(p.on_time_done),
        late_done: count(p.late_done),
        open_within_deadline: count(p.open_within_deadline),
        open_overdue: count(p.open_overdue),
        completion_rate_percent: p.completion_rate_percent,
        units: p
            .units
            .iter()
            .map(|u| pb::UnitProgress {
                unit: resource_name::format("units", &u.unit_id),
                display_name: u.display_name.clone(),
                tasks: count(u.tasks),
                done_on_time: count(u.done_on_time),
                done_late: count(u.done_late),
                open: count(u.open),
                overdue: count(u.overdue),
                reports_missing: count(u.reports_missing),
            })
            .collect(),
        recommendations: p
            .recommendations
            .iter()
            .map(|r| pb::RecommendationProgress {
                recommendation: crate::service::recommendations::name(&r.row.conclusion_id, &r.row.recommendation_id),
                status: recommendation_status(r.status) as i32,
                figures: r
                    .progress
                    .iter()
                    .map(|f| pb::FigureProgress {
                        measure: measure_to_proto(f.measure) as i32,
                        required: f.required,
                        achieved: f.achieved,
                        rate_percent: f.rate_percent,
                    })
                    .collect(),
            })
            .collect(),
        overdue_tasks: p
            .overdue
            .iter()
            .map(|o| pb::OverdueTask {
                task: crate::service::tasks::name(&plan_id, &o.task_id),
                title: o.title.clone(),
                lead_unit: resource_name::format("units", &o.lead_unit_id),
                due_date: Some(date_to_proto(o.due)),
                days_overdue: count(o.days_overdue),
            })
            .collect(),
        missing_reports: p.missing.iter().map(|m| missing_to_proto(&plan_id, m)).collect(),
    }
}

#[tonic::async_trait]
impl pb::report_service_server::ReportService for ReportApi {
    async fn create_report(&self, request: Request<pb::CreateReportRequest>) -> Result<Response<pb::Report>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let idem = v.check("request_id", idempotency(&req.request_id, &req)).flatten();
        let plan = v.check("parent", resource_name::parse("plans", &req.parent));
        let id = v.check("report_id", chosen_id(&req.report_id)).flatten();
        let r = req.report.clone().unwrap_or_default();
        let unit = v.check("report.unit", resource_name::parse("units", &r.unit));
        let subject = match (r.period.is_empty(), r.report_request.is_empty()) {
            (false, true) => v.check("report.period", Period::parse(&r.period)).map(Subject::Period),
            (true, false) => match resource_name::parse_nested("plans", "reportRequests", &r.report_request) {
                Ok((p, request)) if Some(&p) == plan.as_ref() => Some(Subject::Request(request)),
                Ok(_) => {
                    v.add("report.report_request", "must be a request of the report's plan");
                    None
                }
                Err(e) => {
                    v.add("report.report_request", e);
                    None
                }
            },
            _ => {
                v.add("report.period", "set exactly one of period and report_request");
                None
            }
        };
        let mut text_out = ReportText::default();
        for path in TEXT_PATHS {
            text_field(&mut v, &r, path, &mut text_out);
        }
        let items = plan.as_ref().and_then(|p| items(&mut v, p, &r.items));
        let (plan, unit, subject, items) = v.finish_with((|| Some((plan?, unit?, subject?, items?)))())?;
        let new = reports::NewReport { unit_id: unit, subject, text: text_out, items };
        let row = reports::create(&self.services, &who, &plan, id, new, idem).await?;
        Ok(Response::new(to_proto(row)))
    }

    async fn get_report(&self, request: Request<pb::GetReportRequest>) -> Result<Response<pb::Report>, Status> {
        let who = principal(&request)?;
        let (plan, id) = report_name("name", &request.get_ref().name)?;
        Ok(Response::new(to_proto(reports::get(&self.services, &who, &plan, &id).await?)))
    }

    async fn list_reports(
        &self,
        request: Request<pb::ListReportsRequest>,
    ) -> Result<Response<pb::ListReportsResponse>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let plan = plan_id("parent", &req.parent)?;
        let page_size = service::page_size(req.page_size)?;
        let query = report_query(&req.filter)?;
        let (rows, next_page_token) =
            reports::list(&self.services, &who, &plan, query, &req.filter, page_size, &req.page_token).await?;
        Ok(Response::new(pb::ListReportsResponse {
            reports: rows.into_iter().map(to_proto).collect(),
            next_page_token,
        }))
    }

    async fn update_report(&self, request: Request<pb::UpdateReportRequest>) -> Result<Response<pb::Report>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let Some(report) = req.report else {
            return Err(Error::invalid("report", "is required").into());
        };
        let (plan, id) = report_name("report.name", &report.name)?;
        let paths = mask_paths(req.update_mask, "summary")?;
        let mut v = Violations::default();
        let mut text_out = ReportText::default();
        let mut new_items = None;
        for path in &paths {
            match path.as_str() {
                "items" => new_items = items(&mut v, &plan, &report.items),
                p if TEXT_PATHS.contains(&p) => text_field(&mut v, &report, p, &mut text_out),
                other => v.add(
                    "update_mask",
                    format!("{other:?} cannot be updated; allowed: {}, items", TEXT_PATHS.join(", ")),
                ),
            }
        }
        v.finish()?;
        let row = reports::update(&self.services, &who, &plan, &id, &report.etag, |mut current, _| {
            for path in &paths {
                match path.as_str() {
                    "document_ref" => current.document_ref = text_out.document_ref.clone(),
                    "summary" => current.summary = text_out.summary.clone(),
                    "results" => current.results = text_out.results.clone(),
                    "difficulties" => current.difficulties = text_out.difficulties.clone(),
                    "proposals" => current.proposals = text_out.proposals.clone(),
                    _ => {}
                }
            }
            (current, new_items)
        })
        .await?;
        Ok(Response::new(to_proto(row)))
    }

    async fn submit_report(&self, request: Request<pb::SubmitReportRequest>) -> Result<Response<pb::Report>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let idem = request_id(&req.request_id, &req)?;
        let (plan, id) = report_name("name", &req.name)?;
        Ok(Response::new(to_proto(reports::submit(&self.services, &who, &plan, &id, &req.etag, idem).await?)))
    }

    async fn accept_report(&self, request: Request<pb::AcceptReportRequest>) -> Result<Response<pb::Report>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let idem = request_id(&req.request_id, &req)?;
        let (plan, id) = report_name("name", &req.name)?;
        let comment = reason(&req.comment, false).map_err(|e| Error::invalid("comment", e))?;
        let row = reports::review(&self.services, &who, &plan, &id, reports::Review::Accept(comment), &req.etag, idem)
            .await?;
        Ok(Response::new(to_proto(row)))
    }

    async fn return_report(&self, request: Request<pb::ReturnReportRequest>) -> Result<Response<pb::Report>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let idem = request_id(&req.request_id, &req)?;
        let (plan, id) = report_name("name", &req.name)?;
        let comment = reason(&req.comment, true).map_err(|e| Error::invalid("comment", e))?;
        let row = reports::review(&self.services, &who, &plan, &id, reports::Review::Return(comment), &req.etag, idem)
            .await?;
        Ok(Response::new(to_proto(row)))
    }

    async fn list_report_versions(
        &self,
        request: Request<pb::ListReportVersionsRequest>,
    ) -> Result<Response<pb::ListReportVersionsResponse>, Status> {
        let who = principal(&request)?;
        let (plan, id) = report_name("name", &request.get_ref().name)?;
        let versions = reports::versions(&self.services, &who, &plan, &id).await?;
        Ok(Response::new(pb::ListReportVersionsResponse {
            versions: versions
                .into_iter()
                .map(|(version, row, late, at)| pb::ReportVersion {
                    version,
                    report: Some(to_proto(row)),
                    submit_time: Some(timestamp(at)),
                    late,
                })
                .collect(),
        }))
    }

    async fn list_missing_reports(
        &self,
        request: Request<pb::ListMissingReportsRequest>,
    ) -> Result<Response<pb::ListMissingReportsResponse>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let plan = plan_id("parent", &req.parent)?;
        let day = date(req.as_of.as_ref())
            .map_err(|e| Error::invalid("as_of", e))?
            .unwrap_or_else(|| local_date(self.services.clock.now()));
        let missing = reports::missing(&self.services, &who, &plan, day).await?;
        Ok(Response::new(pb::ListMissingReportsResponse {
            missing_reports: missing.iter().map(|m| missing_to_proto(&plan, m)).collect(),
        }))
    }

    async fn get_plan_progress(
        &self,
        request: Request<pb::GetPlanProgressRequest>,
    ) -> Result<Response<pb::PlanProgress>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let plan = plan_id("name", &req.name)?;
        let at = optional_instant("as_of", req.as_of.as_ref())?.unwrap_or_else(|| self.services.clock.now());
        let progress = crate::service::progress::plan_progress(&self.services, &who, &plan, at).await?;
        Ok(Response::new(progress_to_proto(progress)))
    }

    async fn export_plan_progress(
        &self,
        request: Request<pb::ExportPlanProgressRequest>,
    ) -> Result<Response<pb::ExportPlanProgressResponse>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let plan = plan_id("name", &req.name)?;
        let format = match pb::ExportFormat::try_from(req.format) {
            Ok(pb::ExportFormat::Csv) => pb::ExportFormat::Csv,
            Ok(pb::ExportFormat::Xlsx) => pb::ExportFormat::Xlsx,
            _ => return Err(Error::invalid("format", "must be EXPORT_FORMAT_CSV or EXPORT_FORMAT_XLSX").into()),
        };
        let at = optional_instant("as_of", req.as_of.as_ref())?.unwrap_or_else(|| self.services.clock.now());
        let progress = crate::service::progress::plan_progress(&self.services, &who, &plan, at).await?;
        let stem = format!("tien-do-{plan}-{}", local_date(at).format("%Y-%m-%d"));
        let (filename, mime_type, content) = match format {
            pb::ExportFormat::Xlsx => (
                format!("{stem}.xlsx"),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                crate::export::to_xlsx(&progress).map_err(|e| Error::Internal(e.into()))?,
            ),
            _ => (format!("{stem}.csv"), "text/csv; charset=utf-8", crate::export::to_csv(&progress)),
        };
        Ok(Response::new(pb::ExportPlanProgressResponse { filename, mime_type: mime_type.into(), content }))
    }
}
