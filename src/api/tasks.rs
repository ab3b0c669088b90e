//! `followup.v1.TaskService`.

use chrono::{DateTime, Utc};
use tonic::{Request, Response, Status};

use super::convert::{
    MAX_ACHIEVED, MAX_LONG_TEXT, Violations, chosen_id, date, date_to_proto, idempotency, ids, instant, mask_paths,
    principal, reason, request_id, timestamp, title,
};
use super::filter_terms::FilterTerms;
use super::proto::followup::v1 as pb;
use super::recommendations::{measure_from_proto, measure_to_proto};
use crate::auth::principal::Principal;
use crate::domain::document_ref::DocumentRef;
use crate::domain::filter::Op;
use crate::domain::resource_name;
use crate::domain::task::{DeadlineFacts, TaskState, Timeliness, timeliness};
use crate::domain::text;
use crate::error::Error;
use crate::service::tasks::{self, Due, TaskInput, TaskListing, TaskRow, TaskStep, effective_due_of, state_of_task};
use crate::service::{self, Idempotency, Services, etag};
use crate::store::tasks::{DateOp, EvidenceRecord, TaskOrder, TaskQuery};

/// The most coordinating units of one task.
const MAX_COORDINATING: usize = 200;
/// The most recommendations one task addresses.
const MAX_RECOMMENDATIONS: usize = 100;
/// The most tasks one batch creates.
const MAX_BATCH: usize = 500;
/// The due-soon horizon when the caller gives none.
const DEFAULT_DUE_SOON_DAYS: u32 = 7;
/// The longest evidence link.
const MAX_LINK: usize = 2000;

/// Serves TaskService.
#[derive(Debug, Clone)]
pub struct TaskApi {
    services: Services,
}

impl TaskApi {
    /// A TaskService backed by `services`.
    pub fn new(services: Services) -> Self {
        Self { services }
    }
}

pub(crate) fn state_to_proto(state: TaskState) -> pb::TaskState {
    match state {
        TaskState::NotStarted => pb::TaskState::NotStarted,
        TaskState::InProgress => pb::TaskState::InProgress,
        TaskState::ReportedDone => pb::TaskState::ReportedDone,
        TaskState::Done => pb::TaskState::Done,
        TaskState::Suspended => pb::TaskState::Suspended,
        TaskState::ClosedNotDone => pb::TaskState::ClosedNotDone,
    }
}

fn timeliness_to_proto(bucket: Timeliness) -> pb::Timeliness {
    match bucket {
        Timeliness::NotApplicable => pb::Timeliness::Unspecified,
        Timeliness::OnTimeDone => pb::Timeliness::OnTimeDone,
        Timeliness::LateDone => pb::Timeliness::LateDone,
        Timeliness::OpenWithinDeadline => pb::Timeliness::OpenWithinDeadline,
        Timeliness::OpenOverdue => pb::Timeliness::OpenOverdue,
        Timeliness::DueSoon => pb::Timeliness::DueSoon,
    }
}

fn extension_state(state: &str) -> pb::deadline_extension::State {
    match state {
        "PENDING" => pb::deadline_extension::State::Pending,
        "APPROVED" => pb::deadline_extension::State::Approved,
        "REJECTED" => pb::deadline_extension::State::Rejected,
        _ => pb::deadline_extension::State::Unspecified,
    }
}

/// A task as the API shows it, with its timeliness as of `as_of`.
fn to_proto(row: TaskRow, as_of: DateTime<Utc>, due_soon_days: u32) -> Result<pb::Task, Status> {
    let state = state_of_task(&row)?;
    let effective = effective_due_of(&row);
    let bucket =
        timeliness(DeadlineFacts { state, due: effective, completed: row.completed_time }, as_of, due_soon_days);
    let unit = |id: &str| resource_name::format("units", id);
    let extension = row.ext_state.as_deref().map(|s| pb::DeadlineExtension {
        state: extension_state(s) as i32,
        requested_due_date: row.ext_requested_due_date.map(date_to_proto),
        reason: row.ext_reason.clone().unwrap_or_default(),
        decided_due_date: row.ext_decided_due_date.map(date_to_proto),
        decision_comment: row.ext_decision_comment.clone().unwrap_or_default(),
        request_time: row.ext_request_time.map(timestamp),
        decide_time: row.ext_decide_time.map(timestamp),
    });
    let achieved = row
        .achieved
        .0
        .iter()
        .flat_map(|(recommendation, figures)| {
            figures.iter().filter_map(move |(measure, amount)| {
                let measure: crate::domain::recommendation::Measure =
                    serde_json::from_value(serde_json::Value::String(measure.clone())).ok()?;
                Some(pb::AchievedFigure {
                    recommendation: recommendation.clone(),
                    measure: measure_to_proto(measure) as i32,
                    amount: *amount,
                })
            })
        })
        .collect();
    Ok(pb::Task {
        name: tasks::name(&row.plan_id, &row.task_id),
        title: row.title,
        description: row.description,
        lead_unit: unit(&row.lead_unit_id),
        coordinating_units: row.coordinating_unit_ids.iter().map(|id| unit(id)).collect(),
        recommendations: row.recommendations,
        due: Some(match row.due_date {
            Some(day) => pb::task::Due::DueDate(date_to_proto(day)),
            None => pb::task::Due::Standing(true),
        }),
        effective_due_date: effective.map(date_to_proto),
        state: state_to_proto(state) as i32,
        timeliness: timeliness_to_proto(bucket) as i32,
        completed_time: row.completed_time.map(timestamp),
        evidence: row.evidence.map(|e| pb::Evidence {
            document_ref: e.0.document_ref,
            description: e.0.description,
            link: e.0.link,
            sha256: e.0.sha256,
        }),
        achieved,
        state_reason: row.state_reason,
        extension,
        etag: etag(row.revision),
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
        progress_percent: row.progress_percent,
        progress_note: row.progress_note,
    })
}

const PATHS: [&str; 6] = ["title", "description", "lead_unit", "coordinating_units", "recommendations", "due"];

#[derive(Default)]
struct Fields {
    title: Option<String>,
    description: Option<String>,
    lead_unit_id: Option<String>,
    coordinating_unit_ids: Option<Vec<String>>,
    recommendations: Option<Vec<(String, String)>>,
    due: Option<Due>,
}

fn due_of(due: Option<&pb::task::Due>) -> Result<Due, String> {
    match due {
        Some(pb::task::Due::DueDate(day)) => match date(Some(day))? {
            Some(day) => Ok(Due::Date(day)),
            None => Err("is required".into()),
        },
        Some(pb::task::Due::Standing(true)) => Ok(Due::Standing),
        Some(pb::task::Due::Standing(false)) | None => {
            Err("is required: set due_date, or standing = true for standing work".into())
        }
    }
}

fn fields(v: &mut Violations, prefix: &str, t: &pb::Task, paths: &[String]) -> Fields {
    let mut f = Fields::default();
    for path in paths {
        let field = format!("{prefix}.{path}");
        match path.as_str() {
            "title" => f.title = v.check(&field, title(&t.title)),
            "description" => f.description = v.check(&field, text::multi_line(&t.description, MAX_LONG_TEXT, false)),
            "lead_unit" => f.lead_unit_id = v.check(&field, resource_name::parse("units", &t.lead_unit)),
            "coordinating_units" => {
                f.coordinating_unit_ids = ids(v, &field, "units", &t.coordinating_units, MAX_COORDINATING)
            }
            "recommendations" => {
                if t.recommendations.len() > MAX_RECOMMENDATIONS {
                    v.add(&field, format!("at most {MAX_RECOMMENDATIONS} entries are allowed"));
                    continue;
                }
                let parsed: Vec<_> = t
                    .recommendations
                    .iter()
                    .enumerate()
                    .filter_map(|(i, name)| {
                        v.check(
                            &format!("{field}[{i}]"),
                            resource_name::parse_nested("conclusions", "recommendations", name),
                        )
                    })
                    .collect();
                f.recommendations = (parsed.len() == t.recommendations.len()).then_some(parsed);
            }
            "due" | "due_date" | "standing" => f.due = v.check(&format!("{prefix}.due"), due_of(t.due.as_ref())),
            other => v.add("update_mask", format!("{other:?} cannot be updated; allowed: {}", PATHS.join(", "))),
        }
    }
    f
}

impl Fields {
    fn apply(self, mut input: TaskInput) -> TaskInput {
        if let Some(x) = self.title {
            input.title = x;
        }
        if let Some(x) = self.description {
            input.description = x;
        }
        if let Some(x) = self.lead_unit_id {
            input.lead_unit_id = x;
        }
        if let Some(x) = self.coordinating_unit_ids {
            input.coordinating_unit_ids = x;
        }
        if let Some(x) = self.recommendations {
            input.recommendations = x;
        }
        if let Some(x) = self.due {
            input.due = x;
        }
        input
    }

    fn into_input(self) -> Option<TaskInput> {
        let base = TaskInput {
            title: self.title.clone()?,
            description: String::new(),
            lead_unit_id: self.lead_unit_id.clone()?,
            coordinating_unit_ids: Vec::new(),
            recommendations: Vec::new(),
            due: self.due?,
        };
        Some(self.apply(base))
    }
}

fn new_task(v: &mut Violations, prefix: &str, task: Option<&pb::Task>) -> Option<TaskInput> {
    let Some(task) = task else {
        v.add(prefix, "is required");
        return None;
    };
    let all: Vec<String> = PATHS.iter().map(|p| p.to_string()).collect();
    fields(v, prefix, task, &all).into_input()
}

fn task_name(field: &str, name: &str) -> Result<(String, String), Error> {
    resource_name::parse_nested("plans", "tasks", name).map_err(|e| Error::invalid(field, e))
}

fn plan_parent(parent: &str) -> Result<Option<String>, String> {
    if parent == "plans/-" {
        return Ok(None);
    }
    resource_name::parse("plans", parent).map(Some).map_err(|e| format!("{e}; or plans/- for all plans"))
}

fn timeliness_from_proto(name: &str) -> Option<Timeliness> {
    match pb::Timeliness::from_str_name(name)? {
        pb::Timeliness::Unspecified => None,
        pb::Timeliness::OnTimeDone => Some(Timeliness::OnTimeDone),
        pb::Timeliness::LateDone => Some(Timeliness::LateDone),
        pb::Timeliness::OpenWithinDeadline => Some(Timeliness::OpenWithinDeadline),
        pb::Timeliness::OpenOverdue => Some(Timeliness::OpenOverdue),
        pb::Timeliness::DueSoon => Some(Timeliness::DueSoon),
    }
}

fn task_query(filter: &str) -> Result<TaskQuery, Error> {
    let mut query = TaskQuery::default();
    let mut terms = FilterTerms::parse(filter)?;
    query.texts = terms.texts();
    while let Some(term) = terms.next_comparison() {
        match term.field.as_str() {
            "lead_unit" => query.lead_unit = Some(term.id_eq("units")?),
            "coordinating_unit" => query.coordinating_unit = Some(term.id_eq("units")?),
            "state" => {
                let state = term.enum_eq("TaskState", |name| {
                    let proto = pb::TaskState::from_str_name(name)?;
                    TaskState::ALL.into_iter().find(|s| state_to_proto(*s) == proto)
                })?;
                query.state = Some(state.as_str().to_owned());
            }
            "timeliness" => query.timeliness = Some(term.enum_eq("Timeliness", timeliness_from_proto)?),
            "due_date" => {
                let (op, day) = term.date()?;
                let op = match op {
                    Op::Eq => DateOp::Eq,
                    Op::Lt => DateOp::Lt,
                    Op::Le => DateOp::Le,
                    Op::Gt => DateOp::Gt,
                    Op::Ge => DateOp::Ge,
                    Op::Ne => return Err(Error::invalid("filter", "due_date takes =, <, <=, > or >=")),
                };
                query.due.push((op, day));
            }
            "standing" => query.standing = Some(term.bool_eq()?),
            "recommendation" => {
                let name = term.string_eq()?;
                let (c, r) = resource_name::parse_nested("conclusions", "recommendations", &name)
                    .map_err(|e| Error::invalid("filter", format!("recommendation {e}")))?;
                query.recommendation = Some(crate::service::recommendations::name(&c, &r));
            }
            _ => {
                return Err(term.unknown(&[
                    "lead_unit",
                    "coordinating_unit",
                    "state",
                    "timeliness",
                    "due_date",
                    "standing",
                    "recommendation",
                ]));
            }
        }
    }
    Ok(query)
}

pub(crate) fn evidence(v: &mut Violations, evidence: Option<&pb::Evidence>) -> Option<EvidenceRecord> {
    let Some(e) = evidence else {
        v.add("evidence", "is required: a document reference, a description, or both");
        return None;
    };
    let document_ref = if e.document_ref.trim().is_empty() {
        Some(String::new())
    } else {
        v.check("evidence.document_ref", DocumentRef::parse(&e.document_ref)).map(|d| d.as_str().to_owned())
    };
    let description = v.check("evidence.description", text::multi_line(&e.description, MAX_LONG_TEXT, false));
    let link = e.link.trim();
    if !link.is_empty()
        && (!(link.starts_with("https://") || link.starts_with("http://"))
            || link.chars().count() > MAX_LINK
            || link.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        v.add("evidence.link", format!("must be an http or https URL without spaces, at most {MAX_LINK} characters"));
    }
    let sha256 = e.sha256.trim().to_ascii_lowercase();
    if !sha256.is_empty() && (sha256.len() != 64 || !sha256.chars().all(|c| c.is_ascii_hexdigit())) {
        v.add("evidence.sha256", "must be 64 hexadecimal digits");
    }
    let (document_ref, description) = (document_ref?, description?);
    if document_ref.is_empty() && description.is_empty() {
        v.add("evidence", "needs a document reference or a description of what was done");
        return None;
    }
    Some(EvidenceRecord { document_ref, description, link: link.to_owned(), sha256 })
}

impl TaskApi {
    fn now(&self) -> DateTime<Utc> {
        self.services.clock.now()
    }

    fn reply(&self, row: TaskRow) -> Result<Response<pb::Task>, Status> {
        Ok(Response::new(to_proto(row, self.now(), DEFAULT_DUE_SOON_DAYS)?))
    }

    async fn step(
        &self,
        who: &Principal,
        name: &str,
        step: TaskStep,
        etag: &str,
        idem: Option<Idempotency>,
    ) -> Result<Response<pb::Task>, Status> {
        let (plan, task) = task_name("name", name)?;
        self.reply(tasks::step(&self.services, who, &plan, &task, step, etag, idem).await?)
    }
}

fn reason_field(field: &str, input: &str, required: bool) -> Result<String, Error> {
    reason(input, required).map_err(|e| Error::invalid(field, e))
}

#[tonic::async_trait]
impl pb::task_service_server::TaskService for TaskApi {
    async fn create_task(&self, request: Request<pb::CreateTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let idem = v.check("request_id", idempotency(&req.request_id, &req)).flatten();
        let plan = v.check("parent", resource_name::parse("plans", &req.parent));
        let id = v.check("task_id", chosen_id(&req.task_id)).flatten();
        let input = new_task(&mut v, "task", req.task.as_ref());
        let (plan, input) = v.finish_with(plan.zip(input))?;
        self.reply(tasks::create(&self.services, &who, &plan, id, input, idem).await?)
    }

    async fn batch_create_tasks(
        &self,
        request: Request<pb::BatchCreateTasksRequest>,
    ) -> Result<Response<pb::BatchCreateTasksResponse>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let idem = v.check("request_id", idempotency(&req.request_id, &req)).flatten();
        let plan = v.check("parent", resource_name::parse("plans", &req.parent));
        if req.requests.is_empty() || req.requests.len() > MAX_BATCH {
            v.add("requests", format!("must hold 1 to {MAX_BATCH} requests"));
        }
        let mut items = Vec::with_capacity(req.requests.len());
        for (i, item) in req.requests.iter().enumerate() {
            if !item.parent.is_empty() && item.parent != req.parent {
                v.add(&format!("requests[{i}].parent"), "must be empty or the batch's parent");
            }
            let id = v.check(&format!("requests[{i}].task_id"), chosen_id(&item.task_id)).flatten();
            if let Some(input) = new_task(&mut v, &format!("requests[{i}].task"), item.task.as_ref()) {
                items.push((id, input));
            }
        }
        let plan = v.finish_with(plan)?;
        let rows = tasks::batch_create(&self.services, &who, &plan, items, idem).await?;
        let now = self.now();
        let tasks = rows.into_iter().map(|row| to_proto(row, now, DEFAULT_DUE_SOON_DAYS)).collect::<Result<_, _>>()?;
        Ok(Response::new(pb::BatchCreateTasksResponse { tasks }))
    }

    async fn get_task(&self, request: Request<pb::GetTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let who = principal(&request)?;
        let (plan, task) = task_name("name", &request.get_ref().name)?;
        self.reply(tasks::get(&self.services, &who, &plan, &task).await?)
    }

    async fn list_tasks(
        &self,
        request: Request<pb::ListTasksRequest>,
    ) -> Result<Response<pb::ListTasksResponse>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let plan = v.check("parent", plan_parent(&req.parent));
        let page_size = v.check("page_size", service::page_size(req.page_size).map_err(|_| "must not be negative"));
        let order = match req.order_by.trim() {
            "" | "due_date" => Some(TaskOrder::DueDate),
            "update_time desc" => Some(TaskOrder::UpdateTimeDesc),
            other => {
                v.add("order_by", format!("{other:?} is not supported; use due_date or \"update_time desc\""));
                None
            }
        };
        let due_soon_days = match req.due_soon_days {
            0 => Some(DEFAULT_DUE_SOON_DAYS),
            n @ 1..=366 => Some(n as u32),
            _ => {
                v.add("due_soon_days", "must be from 0 to 366");
                None
            }
        };
        let as_of = match &req.as_of {
            None => Some(self.now()),
            Some(t) => {
                let parsed = instant(t);
                if parsed.is_none() {
                    v.add("as_of", "is not a valid timestamp");
                }
                parsed
            }
        };
        let query = v.check("filter", task_query(&req.filter).map_err(|e| filter_message(&e)));
        let (plan, page_size, order, due_soon_days, as_of, mut query) =
            v.finish_with((|| Some((plan?, page_size?, order?, due_soon_days?, as_of?, query?)))())?;
        query.plan = plan;
        let scope = format!(
            "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
            req.parent,
            req.filter,
            req.order_by.trim(),
            req.due_soon_days,
            req.as_of.map(|t| format!("{}.{}", t.seconds, t.nanos)).unwrap_or_default()
        );
        let listing = TaskListing { query, order, as_of, due_soon_days, scope };
        let (rows, next_page_token) = tasks::list(&self.services, &who, listing, page_size, &req.page_token).await?;
        let tasks = rows.into_iter().map(|row| to_proto(row, as_of, due_soon_days)).collect::<Result<_, _>>()?;
        Ok(Response::new(pb::ListTasksResponse { tasks, next_page_token }))
    }

    async fn update_task(&self, request: Request<pb::UpdateTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let Some(task) = req.task else {
            return Err(Error::invalid("task", "is required").into());
        };
        let (plan, id) = task_name("task.name", &task.name)?;
        let paths = mask_paths(req.update_mask, "title")?;
        let mut v = Violations::default();
        let fields = fields(&mut v, "task", &task, &paths);
        v.finish()?;
        self.reply(tasks::update(&self.services, &who, &plan, &id, &task.etag, |input| fields.apply(input)).await?)
    }

    async fn start_task(&self, request: Request<pb::StartTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let idem = request_id(&req.request_id, &req)?;
        self.step(&who, &req.name, TaskStep::Start, &req.etag, idem).await
    }

    async fn report_task_done(
        &self,
        request: Request<pb::ReportTaskDoneRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let idem = v.check("request_id", idempotency(&req.request_id, &req)).flatten();
        let evidence = evidence(&mut v, req.evidence.as_ref());
        v.at_most("achieved", req.achieved.len(), MAX_ACHIEVED);
        let mut achieved = Vec::with_capacity(req.achieved.len());
        for (i, figure) in req.achieved.iter().enumerate().take(MAX_ACHIEVED) {
            let rec = v.check(
                &format!("achieved[{i}].recommendation"),
                resource_name::parse_nested("conclusions", "recommendations", &figure.recommendation),
            );
            let measure = v.check(&format!("achieved[{i}].measure"), measure_from_proto(figure.measure));
            if let (Some((c, r)), Some(measure)) = (rec, measure) {
                achieved.push((crate::service::recommendations::name(&c, &r), measure, figure.amount));
            }
        }
        let evidence = v.finish_with(evidence)?;
        self.step(&who, &req.name, TaskStep::ReportDone { evidence, achieved }, &req.etag, idem).await
    }

    async fn accept_task(&self, request: Request<pb::AcceptTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let idem = request_id(&req.request_id, &req)?;
        let comment = reason_field("comment", &req.comment, false)?;
        self.step(&who, &req.name, TaskStep::Accept(comment), &req.etag, idem).await
    }

    async fn return_task(&self, request: Request<pb::ReturnTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let idem = request_id(&req.request_id, &req)?;
        let comment = reason_field("comment", &req.comment, true)?;
        self.step(&who, &req.name, TaskStep::Return(comment), &req.etag, idem).await
    }

    async fn suspend_task(&self, request: Request<pb::SuspendTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let idem = request_id(&req.request_id, &req)?;
        let why = reason_field("reason", &req.reason, true)?;
        self.step(&who, &req.name, TaskStep::Suspend(why), &req.etag, idem).await
    }

    async fn resume_task(&self, request: Request<pb::ResumeTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let idem = request_id(&req.request_id, &req)?;
        let why = reason_field("reason", &req.reason, false)?;
        self.step(&who, &req.name, TaskStep::Resume(why), &req.etag, idem).await
    }

    async fn close_task_not_done(
        &self,
        request: Request<pb::CloseTaskNotDoneRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let idem = request_id(&req.request_id, &req)?;
        let why = reason_field("reason", &req.reason, true)?;
        self.step(&who, &req.name, TaskStep::CloseNotDone(why), &req.etag, idem).await
    }

    async fn request_deadline_extension(
        &self,
        request: Request<pb::RequestDeadlineExtensionRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let idem = v.check("request_id", idempotency(&req.request_id, &req)).flatten();
        let names = v.check("name", resource_name::parse_nested("plans", "tasks", &req.name));
        let day = v.check("requested_due_date", super::convert::required_date(req.requested_due_date.as_ref()));
        let why = v.check("reason", reason(&req.reason, true));
        let ((plan, task), day, why) = v.finish_with((|| Some((names?, day?, why?)))())?;
        self.reply(tasks::request_extension(&self.services, &who, &plan, &task, day, why, idem).await?)
    }

    async fn decide_deadline_extension(
        &self,
        request: Request<pb::DecideDeadlineExtensionRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let idem = v.check("request_id", idempotency(&req.request_id, &req)).flatten();
        let names = v.check("name", resource_name::parse_nested("plans", "tasks", &req.name));
        let day = v.check("decided_due_date", date(req.decided_due_date.as_ref()));
        let comment = v.check("comment", reason(&req.comment, !req.approve));
        let ((plan, task), day, comment) = v.finish_with((|| Some((names?, day?, comment?)))())?;
        self.reply(tasks::decide_extension(&self.services, &who, &plan, &task, req.approve, day, comment, idem).await?)
    }

    async fn reassign_task(&self, request: Request<pb::ReassignTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let idem = v.check("request_id", idempotency(&req.request_id, &req)).flatten();
        let names = v.check("name", resource_name::parse_nested("plans", "tasks", &req.name));
        let lead = v.check("lead_unit", resource_name::parse("units", &req.lead_unit));
        let why = v.check("reason", reason(&req.reason, true));
        let ((plan, task), lead, why) = v.finish_with((|| Some((names?, lead?, why?)))())?;
        self.reply(tasks::reassign(&self.services, &who, &plan, &task, lead, why, &req.etag, idem).await?)
    }
}

/// The description of a filter error, for the one `filter` violation.
fn filter_message(error: &Error) -> String {
    match error {
        Error::InvalidArgument(violations) => {
            violations.iter().map(|v| v.description.clone()).collect::<Vec<_>>().join("; ")
        }
        other => other.to_string(),
    }
}
