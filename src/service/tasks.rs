//! Task use cases: creation, the state machine, deadline extensions and reassignment.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;

use super::plans::{self as plan_service, parse_state};
use super::{
    Change, Idempotency, Services, Write, check_etag, commit_write, not_found, page, page_position, record_change,
    refs, remember, replay, require_role, snapshot,
};
use crate::auth::principal::{Principal, Role};
use crate::domain::page_token::TokenScope;
use crate::domain::plan::PlanState;
use crate::domain::recommendation::Measure;
use crate::domain::resource_name;
use crate::domain::task::{self, TaskAction, TaskState, days_between, effective_due};
use crate::domain::text::fold_for_search;
use crate::error::Error;
use crate::store::plans::PlanGate;
use crate::store::tasks::{Achieved, EvidenceRecord, TaskCursor, TaskOrder, TaskQuery};
use crate::store::{self, Tx, conclusions, plans, tasks};

pub use tasks::TaskRow;

/// When a task is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// By the end of this day.
    Date(NaiveDate),
    /// Standing work.
    Standing,
}

/// A validated task.
#[derive(Debug, Clone)]
pub struct TaskInput {
    /// The title.
    pub title: String,
    /// Details.
    pub description: String,
    /// The lead unit.
    pub lead_unit_id: String,
    /// Coordinating units.
    pub coordinating_unit_ids: Vec<String>,
    /// Addressed recommendations as (conclusion, recommendation) IDs.
    pub recommendations: Vec<(String, String)>,
    /// When it is due.
    pub due: Due,
}

/// `plans/{plan}/tasks/{task}`.
pub fn name(plan_id: &str, task_id: &str) -> String {
    format!("plans/{plan_id}/tasks/{task_id}")
}

/// The state of a stored task.
pub fn state_of_task(row: &TaskRow) -> Result<TaskState, Error> {
    TaskState::from_db(&row.state).ok_or_else(|| Error::Internal(anyhow::anyhow!("unknown task state {:?}", row.state)))
}

/// The effective due date of a stored task.
pub fn effective_due_of(row: &TaskRow) -> Option<NaiveDate> {
    effective_due(row.due_date, row.suspended_days)
}

/// The text a task's searches match: its title and description, folded.
pub fn search_text(row: &TaskRow) -> String {
    fold_for_search(&format!("{} {}", row.title, row.description))
}

fn recommendation_names(pairs: &[(String, String)]) -> Vec<String> {
    pairs.iter().map(|(c, r)| super::recommendations::name(c, r)).collect()
}

/// Which side of the work a step belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The lead unit (chủ trì).
    Lead,
    /// The monitoring unit (theo dõi, đôn đốc).
    Monitor,
}

impl Side {
    fn roles(self) -> &'static [Role] {
        match self {
            Side::Lead => &[Role::Admin, Role::Unit],
            Side::Monitor => &[Role::Admin, Role::Monitor],
        }
    }
}

/// Whether a UNIT key may see the task at all: it leads or coordinates it.
fn visible(who: &Principal, row: &TaskRow) -> bool {
    match (who.role, &who.unit) {
        (Role::Unit, Some(unit)) => row.lead_unit_id == *unit || row.coordinating_unit_ids.contains(unit),
        (Role::Unit, None) => false,
        _ => true,
    }
}

/// The bound-unit half of authorization, once the task is known.
fn authorize(who: &Principal, plan: &PlanGate, row: &TaskRow, side: Side, action: &str) -> Result<(), Error> {
    let denied = |message: String| Err(Error::PermissionDenied { reason: "NOT_RESPONSIBLE_UNIT", message });
    match (who.role, side) {
        (Role::Admin, _) => Ok(()),
        (Role::Unit, Side::Lead) if who.unit.as_deref() == Some(row.lead_unit_id.as_str()) => Ok(()),
        (Role::Unit, Side::Lead) => denied(format!("{action} is for the lead unit, units/{}, only", row.lead_unit_id)),
        (Role::Monitor, Side::Monitor) => match (&who.unit, &plan.monitoring_unit_id) {
            (None, _) => Ok(()),
            (Some(unit), Some(monitor)) if unit == monitor => Ok(()),
            (Some(unit), _) => {
                denied(format!("{action} is for the plan's monitoring unit; this key acts for units/{unit}"))
            }
        },
        _ => denied(format!("{action} is not for this key's role")),
    }
}

/// The task, locked, and what its plan allows, checked for existence and visibility.
async fn load(tx: &mut Tx, who: &Principal, plan_id: &str, task_id: &str) -> Result<(PlanGate, TaskRow), Error> {
    let resource = name(plan_id, task_id);
    let (plan, row) =
        tasks::lock_with_plan(tx, &who.tenant, plan_id, task_id).await?.ok_or_else(|| not_found(&resource))?;
    if !visible(who, &row) {
        return Err(not_found(resource));
    }
    Ok((plan, row))
}

fn require_plan(plan: &PlanGate, allowed: &[PlanState], what: &str) -> Result<(), Error> {
    let state = parse_state(&plan.state)?;
    if allowed.contains(&state) {
        return Ok(());
    }
    Err(Error::FailedPrecondition {
        reason: if state == PlanState::Draft { "PLAN_NOT_ISSUED" } else { "PLAN_STATE" },
        message: format!("{what} is not possible while {} is {}", plan_service::name(&plan.plan_id), state.as_str()),
    })
}

async fn check_input(tx: &mut Tx, svc: &Services, tenant: &str, input: &TaskInput) -> Result<(), Error> {
    refs::unit_active(tx, tenant, &input.lead_unit_id, svc.clock.today()).await?;
    refs::units_exist(tx, tenant, &input.coordinating_unit_ids).await?;
    refs::recommendations_exist(tx, tenant, &input.recommendations).await
}

fn apply(row: &mut TaskRow, input: TaskInput) {
    row.title = input.title;
    row.description = input.description;
    row.lead_unit_id = input.lead_unit_id;
    row.coordinating_unit_ids = input.coordinating_unit_ids;
    row.recommendations = recommendation_names(&input.recommendations);
    (row.due_date, row.standing) = match input.due {
        Due::Date(day) => (Some(day), false),
        Due::Standing => (None, true),
    };
}

fn new_row(tenant: &str, plan_id: &str, id: Option<String>, now: DateTime<Utc>) -> TaskRow {
    TaskRow {
        tenant_id: tenant.to_owned(),
        plan_id: plan_id.to_owned(),
        task_id: id.unwrap_or_else(resource_name::generate_id),
        title: String::new(),
        description: String::new(),
        lead_unit_id: String::new(),
        coordinating_unit_ids: Vec::new(),
        recommendations: Vec::new(),
        due_date: None,
        standing: true,
        state: TaskState::NotStarted.as_str().to_owned(),
        resume_state: None,
        suspended_since: None,
        suspended_days: 0,
        completed_time: None,
        completed_date: None,
        evidence: None,
        achieved: Json(Achieved::new()),
        state_reason: String::new(),
        progress_percent: 0,
        progress_note: String::new(),
        revision: 1,
        create_time: now,
        update_time: now,
        ext_state: None,
        ext_requested_due_date: None,
        ext_reason: None,
        ext_decided_due_date: None,
        ext_decision_comment: None,
        ext_request_time: None,
        ext_decide_time: None,
    }
}

async fn reload(tx: &mut Tx, tenant: &str, plan_id: &str, task_id: &str) -> Result<TaskRow, Error> {
    tasks::get(tx, tenant, plan_id, task_id, false)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("task {plan_id}/{task_id} vanished inside its transaction")))
}

async fn insert_one(
    tx: &mut Tx,
    svc: &Services,
    who: &Principal,
    plan_id: &str,
    id: Option<String>,
    input: TaskInput,
    request_id: Option<uuid::Uuid>,
) -> Result<TaskRow, Error> {
    check_input(tx, svc, &who.tenant, &input).await?;
    let mut row = new_row(&who.tenant, plan_id, id, svc.clock.now());
    apply(&mut row, input);
    tasks::insert(tx, &row, &search_text(&row)).await?;
    let row = reload(tx, &who.tenant, plan_id, &row.task_id).await?;
    let resource = name(plan_id, &row.task_id);
    let change = Change {
        action: "CreateTask",
        event_type: "task.created",
        resource: &resource,
        request_id,
        reason: None,
        before: None,
        after: Some(snapshot(&row)),
    };
    record_change(tx, who, change).await?;
    Ok(row)
}

async fn open_plan(tx: &mut Tx, who: &Principal, plan_id: &str) -> Result<plans::PlanRow, Error> {
    // Locked so that a task cannot slip into a plan being completed or cancelled.
    let plan =
        plans::get(tx, &who.tenant, plan_id, true).await?.ok_or_else(|| not_found(plan_service::name(plan_id)))?;
    require_plan(&plan.gate(), &[PlanState::Draft, PlanState::Issued], "adding tasks")?;
    Ok(plan)
}

/// Adds a task to an open plan (ADMIN).
pub async fn create(
    svc: &Services,
    who: &Principal,
    plan_id: &str,
    id: Option<String>,
    input: TaskInput,
    idem: Option<Idempotency>,
) -> Result<TaskRow, Error> {
    require_role(who, &[Role::Admin], "CreateTask")?;
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    if let Some(replay) = replay(&mut tx, who, "CreateTask", idem.as_ref()).await? {
        return Ok(replay);
    }
    open_plan(&mut tx, who, plan_id).await?;
    let row = insert_one(&mut tx, svc, who, plan_id, id, input, idem.as_ref().map(|i| i.request_id)).await?;
    remember(&mut tx, who, idem.as_ref(), &row).await?;
    store::commit(tx).await?;
    Ok(row)
}

/// Adds several tasks to an open plan, all or none (ADMIN). A failure names the index
/// of the request that caused it.
pub async fn batch_create(
    svc: &Services,
    who: &Principal,
    plan_id: &str,
    items: Vec<(Option<String>, TaskInput)>,
    idem: Option<Idempotency>,
) -> Result<Vec<TaskRow>, Error> {
    require_role(who, &[Role::Admin], "BatchCreateTasks")?;
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    if let Some(replay) = replay(&mut tx, who, "BatchCreateTasks", idem.as_ref()).await? {
        return Ok(replay);
    }
    open_plan(&mut tx, who, plan_id).await?;
    let mut rows = Vec::with_capacity(items.len());
    for (index, (id, input)) in items.into_iter().enumerate() {
        let row = insert_one(&mut tx, svc, who, plan_id, id, input, idem.as_ref().map(|i| i.request_id))
            .await
            .map_err(|e| at_index(e, "requests", index))?;
        rows.push(row);
    }
    remember(&mut tx, who, idem.as_ref(), &rows).await?;
    store::commit(tx).await?;
    Ok(rows)
}

/// Prefixes an error of one item of a list (`requests`, `items`) with its position, so
/// the caller knows which.
pub(crate) fn at_index(error: Error, list: &str, index: usize) -> Error {
    match error {
        Error::InvalidArgument(violations) => Error::InvalidArgument(
            violations
                .into_iter()
                .map(|mut v| {
                    v.field = format!("{list}[{index}].{}", v.field);
                    v
                })
                .collect(),
        ),
        Error::NotFound { resource } => Error::NotFound { resource: format!("{resource} ({list}[{index}])") },
        Error::FailedPrecondition { reason, message } => {
            Error::FailedPrecondition { reason, message: format!("{list}[{index}]: {message}") }
        }
        Error::AlreadyExists { reason, message } => {
            Error::AlreadyExists { reason, message: format!("{list}[{index}]: {message}") }
        }
        other => other,
    }
}

/// Reads a task (any role; a UNIT key only its unit's tasks).
pub async fn get(svc: &Services, who: &Principal, plan_id: &str, task_id: &str) -> Result<TaskRow, Error> {
    // The task's foreign key vouches for its plan, so the row alone answers.
    let mut conn = store::connection(&svc.pool).await?;
    let row = tasks::get(&mut conn, &who.tenant, plan_id, task_id, false).await?;
    row.filter(|row| visible(who, row)).ok_or_else(|| not_found(name(plan_id, task_id)))
}

/// The list parameters that shape a page, bound into its token.
#[derive(Debug, Clone)]
pub struct TaskListing {
    /// The filter as translated.
    pub query: TaskQuery,
    /// The order.
    pub order: TaskOrder,
    /// The instant timeliness is computed at.
    pub as_of: DateTime<Utc>,
    /// Due-soon horizon in days.
    pub due_soon_days: u32,
    /// Everything the caller sent that shapes the result, for the token's scope.
    pub scope: String,
}

/// One page of tasks (any role; a UNIT key sees its unit's tasks only).
pub async fn list(
    svc: &Services,
    who: &Principal,
    mut listing: TaskListing,
    page_size: i64,
    page_token: &str,
) -> Result<(Vec<TaskRow>, String), Error> {
    let scope = TokenScope { tenant: &who.tenant, method: "ListTasks", filter: &listing.scope };
    let after: Option<TaskCursor> = page_position(svc, scope, page_token)?;
    if who.role == Role::Unit {
        listing.query.visible_to_unit = Some(who.unit.clone().unwrap_or_default());
    }
    let today = crate::domain::calendar::local_date(listing.as_of);
    // Within one plan the plan's index is the way in, whatever the values; a text
    // search's best plan depends on the words sought.
    let planning = if listing.query.plan.is_some() && listing.query.texts.is_empty() {
        store::Planning::Reused
    } else {
        store::Planning::PerCall
    };
    let mut tx = store::begin_planned(&svc.pool, &who.tenant, planning).await?;
    let due_soon = i32::try_from(listing.due_soon_days).unwrap_or(i32::MAX);
    let rows = tasks::list(
        &mut tx,
        &who.tenant,
        &listing.query,
        today,
        due_soon,
        listing.order,
        after.as_ref(),
        page_size + 1,
    )
    .await?;
    // Tasks found vouch for their plan (its foreign key); only an empty page asks whether
    // the plan exists, to tell an unknown plan from an empty list.
    if rows.is_empty()
        && let Some(plan_id) = &listing.query.plan
        && plans::get(&mut tx, &who.tenant, plan_id, false).await?.is_none()
    {
        return Err(not_found(plan_service::name(plan_id)));
    }
    store::commit(tx).await?;
    let order = listing.order;
    Ok(page(svc, scope, rows, page_size, |row| match order {
        TaskOrder::DueDate => TaskCursor::Due(effective_due_of(row), row.plan_id.clone(), row.task_id.clone()),
        TaskOrder::UpdateTimeDesc => TaskCursor::Updated(row.update_time, row.plan_id.clone(), row.task_id.clone()),
    }))
}

/// The current values of a task as input.
pub fn input_of(row: &TaskRow) -> TaskInput {
    TaskInput {
        title: row.title.clone(),
        description: row.description.clone(),
        lead_unit_id: row.lead_unit_id.clone(),
        coordinating_unit_ids: row.coordinating_unit_ids.clone(),
        recommendations: row
            .recommendations
            .iter()
            .filter_map(|n| {
                let rest = n.strip_prefix("conclusions/")?;
                let (c, r) = rest.split_once("/recommendations/")?;
                Some((c.to_owned(), r.to_owned()))
            })
            .collect(),
        due: match row.due_date {
            Some(day) => Due::Date(day),
            None => Due::Standing,
        },
    }
}

/// Changes a task (ADMIN). The lead unit and due rule change this way only while the
/// plan is a draft.
pub async fn update(
    svc: &Services,
    who: &Principal,
    plan_id: &str,
    task_id: &str,
    etag: &str,
    change: impl FnOnce(TaskInput) -> TaskInput,
) -> Result<TaskRow, Error> {
    require_role(who, &[Role::Admin], "UpdateTask")?;
    let resource = name(plan_id, task_id);
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    let (plan, before) = load(&mut tx, who, plan_id, task_id).await?;
    check_etag("task.etag", etag, before.revision, &resource)?;
    require_plan(&plan, &[PlanState::Draft, PlanState::Issued], "changing tasks")?;
    let input = change(input_of(&before));
    let draft = parse_state(&plan.state)? == PlanState::Draft;
    if !draft && input.lead_unit_id != before.lead_unit_id {
        return Err(Error::FailedPrecondition {
            reason: "PLAN_NOT_DRAFT",
            message: "the lead unit of a task of an issued plan changes through ReassignTask, which is recorded".into(),
        });
    }
    if !draft && (input.due != input_of(&before).due) {
        return Err(Error::FailedPrecondition {
            reason: "PLAN_NOT_DRAFT",
            message: "the deadline of a task of an issued plan changes through a deadline extension".into(),
        });
    }
    if input.lead_unit_id == before.lead_unit_id {
        // An unchanged lead unit may since have been dissolved: that is ReassignTask's job.
        refs::units_exist(&mut tx, &who.tenant, &input.coordinating_unit_ids).await?;
        refs::recommendations_exist(&mut tx, &who.tenant, &input.recommendations).await?;
    } else {
        check_input(&mut tx, svc, &who.tenant, &input).await?;
    }
    let mut row = before.clone();
    apply(&mut row, input);
    let row = tasks::update(&mut tx, &row, &search_text(&row)).await?;
    let write = Write {
        action: "UpdateTask",
        event_type: "task.updated",
        resource: &resource,
        reason: None,
        before: Some(snapshot(&before)),
    };
    commit_write(tx, who, write, None, row).await
}

/// A lifecycle step with what it carries.
#[derive(Debug, Clone)]
pub enum TaskStep {
    /// StartTask.
    Start,
    /// ReportTaskDone with evidence and achieved figures.
    ReportDone {
        /// The evidence.
        evidence: EvidenceRecord,
        /// Achieved figures: (recommendation name, measure, amount).
        achieved: Vec<(String, Measure, i64)>,
    },
    /// AcceptTask with an optional comment.
    Accept(String),
    /// ReturnTask with a comment.
    Return(String),
    /// SuspendTask with a reason.
    Suspend(String),
    /// ResumeTask with an optional reason.
    Resume(String),
    /// CloseTaskNotDone with a reason.
    CloseNotDone(String),
}

impl TaskStep {
    fn action(&self) -> TaskAction {
        match self {
            TaskStep::Start => TaskAction::Start,
            TaskStep::ReportDone { .. } => TaskAction::ReportDone,
            TaskStep::Accept(_) => TaskAction::Accept,
            TaskStep::Return(_) => TaskAction::Return,
            TaskStep::Suspend(_) => TaskAction::Suspend,
            TaskStep::Resume(_) => TaskAction::Resume,
            TaskStep::CloseNotDone(_) => TaskAction::CloseNotDone,
        }
    }

    fn event_type(&self) -> &'static str {
        match self {
            TaskStep::Start => "task.started",
            TaskStep::ReportDone { .. } => "task.reported_done",
            TaskStep::Accept(_) => "task.accepted",
            TaskStep::Return(_) => "task.returned",
            TaskStep::Suspend(_) => "task.suspended",
            TaskStep::Resume(_) => "task.resumed",
            TaskStep::CloseNotDone(_) => "task.closed_not_done",
        }
    }
}

/// Checks reported figures: each for a recommendation the task addresses, in a measure
/// that recommendation has a target in.
async fn achieved_of(
    tx: &mut Tx,
    tenant: &str,
    row: &TaskRow,
    figures: Vec<(String, Measure, i64)>,
) -> Result<Achieved, Error> {
    let mut out = Achieved::new();
    for (index, (recommendation, measure, amount)) in figures.into_iter().enumerate() {
        let field = format!("achieved[{index}]");
        if !row.recommendations.contains(&recommendation) {
            return Err(Error::invalid(field, format!("{recommendation} is not addressed by this task")));
        }
        let Some((c, r)) = recommendation.strip_prefix("conclusions/").and_then(|s| s.split_once("/recommendations/"))
        else {
            return Err(Error::invalid(field, "is not a recommendation name"));
        };
        let rec = conclusions::get_recommendation(tx, tenant, c, r, false)
            .await?
            .ok_or_else(|| not_found(&recommendation))?;
        let key = super::recommendations::measure_key(measure);
        if !rec.required.0.contains_key(&key) {
            return Err(Error::invalid(field, format!("{recommendation} has no target in {measure:?}")));
        }
        if amount < 0 {
            return Err(Error::invalid(field, "amounts cannot be negative"));
        }
        if out.entry(recommendation).or_default().insert(key, amount).is_some() {
            return Err(Error::invalid(field, format!("{measure:?} is given twice for this recommendation")));
        }
    }
    Ok(out)
}

/// A lifecycle call, once started: either the stored answer of a retried request id,
/// or the open transaction with the plan and the locked task.
enum Started {
    /// The first response to this request id.
    Replay(Box<TaskRow>),
    /// Go ahead: the call's transaction, what the task's plan allows, and the task, locked
    /// until the transaction ends.
    Ready(Box<(Tx, PlanGate, TaskRow)>),
}

/// The common start of a lifecycle call: the role check (before anything is read), the
/// transaction, request-id replay, the task locked and visible, and the key's unit
/// responsible for `side`.
async fn start(
    svc: &Services,
    who: &Principal,
    plan_id: &str,
    task_id: &str,
    side: Side,
    action: &str,
    idem: Option<&Idempotency>,
) -> Result<Started, Error> {
    require_role(who, side.roles(), action)?;
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    if let Some(replay) = replay(&mut tx, who, action, idem).await? {
        return Ok(Started::Replay(Box::new(replay)));
    }
    let (plan, before) = load(&mut tx, who, plan_id, task_id).await?;
    authorize(who, &plan, &before, side, action)?;
    Ok(Started::Ready(Box::new((tx, plan, before))))
}

/// Moves a task through its state machine (lead unit or monitoring side).
pub async fn step(
    svc: &Services,
    who: &Principal,
    plan_id: &str,
    task_id: &str,
    step: TaskStep,
    etag: &str,
    idem: Option<Idempotency>,
) -> Result<TaskRow, Error> {
    let action = step.action();
    let side = if action.by_lead_unit() { Side::Lead } else { Side::Monitor };
    let resource = name(plan_id, task_id);
    let (mut tx, plan, before) = match start(svc, who, plan_id, task_id, side, action.rpc(), idem.as_ref()).await? {
        Started::Replay(row) => return Ok(*row),
        Started::Ready(ready) => *ready,
    };
    check_etag("etag", etag, before.revision, &resource)?;
    let row = apply_step(&mut tx, svc, who, &plan, &before, step, idem.as_ref().map(|i| i.request_id)).await?;
    remember(&mut tx, who, idem.as_ref(), &row).await?;
    store::commit(tx).await?;
    Ok(row)
}

/// Applies `step` to the task `before` (locked by the caller) inside `tx`, with its audit
/// record and event: the shared core of the task RPCs and of report submission.
pub(crate) async fn apply_step(
    tx: &mut Tx,
    svc: &Services,
    who: &Principal,
    plan: &PlanGate,
    before: &TaskRow,
    step: TaskStep,
    request_id: Option<uuid::Uuid>,
) -> Result<TaskRow, Error> {
    let action = step.action();
    let event_type = step.event_type();
    require_plan(plan, &[PlanState::Issued], action.rpc())?;
    let state = state_of_task(before)?;
    let resume_to = before.resume_state.as_deref().and_then(TaskState::from_db);
    let next = task::transition(state, action, resume_to)
        .map_err(|e| Error::FailedPrecondition { reason: "TASK_STATE", message: e.to_string() })?;
    let now = svc.clock.now();
    let mut row = before.clone();
    row.state = next.as_str().to_owned();
    match step {
        TaskStep::Start => {}
        TaskStep::ReportDone { evidence, achieved } => {
            row.achieved = Json(achieved_of(tx, &who.tenant, before, achieved).await?);
            row.evidence = Some(Json(evidence));
            row.completed_time = Some(now);
            row.completed_date = Some(crate::domain::calendar::local_date(now));
            row.state_reason = String::new();
        }
        TaskStep::Accept(comment) => row.state_reason = comment,
        TaskStep::Return(comment) => {
            row.completed_time = None;
            row.completed_date = None;
            row.state_reason = comment;
        }
        TaskStep::Suspend(why) => {
            row.resume_state = Some(state.as_str().to_owned());
            row.suspended_since = Some(now);
            row.state_reason = why;
        }
        TaskStep::Resume(why) => {
            if let Some(since) = before.suspended_since {
                row.suspended_days = row.suspended_days.saturating_add(days_between(since, now));
            }
            row.resume_state = None;
            row.suspended_since = None;
            row.state_reason = why;
        }
        TaskStep::CloseNotDone(why) => {
            row.resume_state = None;
            row.suspended_since = None;
            row.state_reason = why;
        }
    }
    let row = tasks::update(tx, &row, &search_text(&row)).await?;
    let resource = name(&before.plan_id, &before.task_id);
    let reason = Some(row.state_reason.as_str()).filter(|r| !r.is_empty());
    let change = Change {
        action: action.rpc(),
        event_type,
        resource: &resource,
        request_id,
        reason,
        before: Some(snapshot(before)),
        after: Some(snapshot(&row)),
    };
    record_change(tx, who, change).await?;
    Ok(row)
}

/// Records a report's progress on a task (percent and what was done) inside `tx`.
pub(crate) async fn record_progress(
    tx: &mut Tx,
    who: &Principal,
    before: &TaskRow,
    percent: i32,
    note: String,
    report: &str,
) -> Result<TaskRow, Error> {
    let mut row = before.clone();
    row.progress_percent = percent;
    row.progress_note = note;
    let row = tasks::update(tx, &row, &search_text(&row)).await?;
    let resource = name(&before.plan_id, &before.task_id);
    let change = Change {
        action: "SubmitReport",
        event_type: "task.progress_reported",
        resource: &resource,
        request_id: None,
        reason: Some(report),
        before: Some(snapshot(before)),
        after: Some(snapshot(&row)),
    };
    record_change(tx, who, change).await?;
    Ok(row)
}

/// A task of a plan, locked, for report submission: NOT_FOUND if there is none.
pub(crate) async fn lock_task(tx: &mut Tx, tenant: &str, plan_id: &str, task_id: &str) -> Result<TaskRow, Error> {
    tasks::get(tx, tenant, plan_id, task_id, true).await?.ok_or_else(|| not_found(name(plan_id, task_id)))
}

/// The lead unit asks for a later deadline (lead side).
pub async fn request_extension(
    svc: &Services,
    who: &Principal,
    plan_id: &str,
    task_id: &str,
    requested: NaiveDate,
    why: String,
    idem: Option<Idempotency>,
) -> Result<TaskRow, Error> {
    const ACTION: &str = "RequestDeadlineExtension";
    let resource = name(plan_id, task_id);
    let (mut tx, plan, before) = match start(svc, who, plan_id, task_id, Side::Lead, ACTION, idem.as_ref()).await? {
        Started::Replay(row) => return Ok(*row),
        Started::Ready(ready) => *ready,
    };
    require_plan(&plan, &[PlanState::Issued], ACTION)?;
    if !state_of_task(&before)?.is_open() {
        return Err(Error::FailedPrecondition { reason: "TASK_STATE", message: format!("{resource} is finished") });
    }
    let Some(current) = effective_due_of(&before) else {
        return Err(Error::FailedPrecondition {
            reason: "TASK_STANDING",
            message: format!("{resource} is standing work with no deadline"),
        });
    };
    if requested <= current {
        return Err(Error::invalid("requested_due_date", format!("must be after the current deadline, {current}")));
    }
    if before.ext_state.as_deref() == Some("PENDING") {
        return Err(Error::FailedPrecondition {
            reason: "EXTENSION_PENDING",
            message: format!("{resource} already has an extension request awaiting a decision"),
        });
    }
    tasks::insert_extension(&mut tx, &before, requested, &why, &who.actor()).await?;
    let row = reload(&mut tx, &who.tenant, plan_id, task_id).await?;
    let write = Write {
        action: ACTION,
        event_type: "task.extension_requested",
        resource: &resource,
        reason: Some(&why),
        before: Some(snapshot(&before)),
    };
    commit_write(tx, who, write, idem.as_ref(), row).await
}

/// The monitoring side approves (with a date) or rejects the pending request.
#[allow(clippy::too_many_arguments)]
pub async fn decide_extension(
    svc: &Services,
    who: &Principal,
    plan_id: &str,
    task_id: &str,
    approve: bool,
    decided: Option<NaiveDate>,
    comment: String,
    idem: Option<Idempotency>,
) -> Result<TaskRow, Error> {
    const ACTION: &str = "DecideDeadlineExtension";
    let resource = name(plan_id, task_id);
    let (mut tx, _, before) = match start(svc, who, plan_id, task_id, Side::Monitor, ACTION, idem.as_ref()).await? {
        Started::Replay(row) => return Ok(*row),
        Started::Ready(ready) => *ready,
    };
    if before.ext_state.as_deref() != Some("PENDING") {
        return Err(Error::FailedPrecondition {
            reason: "NO_PENDING_EXTENSION",
            message: format!("{resource} has no extension request awaiting a decision"),
        });
    }
    let new_due = if approve { decided.or(before.ext_requested_due_date) } else { None };
    tasks::decide_extension(&mut tx, &before, new_due, &comment, &who.actor()).await?;
    if let Some(day) = new_due {
        // The decided date is the new deadline as a whole: earlier suspensions are
        // folded into it.
        let mut row = before.clone();
        row.due_date = Some(day);
        row.suspended_days = 0;
        tasks::update(&mut tx, &row, &search_text(&row)).await?;
    }
    let row = reload(&mut tx, &who.tenant, plan_id, task_id).await?;
    let write = Write {
        action: ACTION,
        event_type: "task.extension_decided",
        resource: &resource,
        reason: Some(&comment),
        before: Some(snapshot(&before)),
    };
    commit_write(tx, who, write, idem.as_ref(), row).await
}

/// Moves an open task to another lead unit that exists today (monitoring side).
#[allow(clippy::too_many_arguments)]
pub async fn reassign(
    svc: &Services,
    who: &Principal,
    plan_id: &str,
    task_id: &str,
    lead_unit_id: String,
    why: String,
    etag: &str,
    idem: Option<Idempotency>,
) -> Result<TaskRow, Error> {
    const ACTION: &str = "ReassignTask";
    let resource = name(plan_id, task_id);
    let (mut tx, plan, before) = match start(svc, who, plan_id, task_id, Side::Monitor, ACTION, idem.as_ref()).await? {
        Started::Replay(row) => return Ok(*row),
        Started::Ready(ready) => *ready,
    };
    check_etag("etag", etag, before.revision, &resource)?;
    require_plan(&plan, &[PlanState::Draft, PlanState::Issued], ACTION)?;
    if !state_of_task(&before)?.is_open() {
        return Err(Error::FailedPrecondition {
            reason: "TASK_STATE",
            message: format!("{resource} is finished; only open work is reassigned"),
        });
    }
    if lead_unit_id == before.lead_unit_id {
        return Err(Error::invalid("lead_unit", "is already the task's lead unit"));
    }
    refs::unit_active(&mut tx, &who.tenant, &lead_unit_id, svc.clock.today()).await?;
    let mut row = before.clone();
    row.lead_unit_id = lead_unit_id;
    row.state_reason = why.clone();
    let row = tasks::update(&mut tx, &row, &search_text(&row)).await?;
    let write = Write {
        action: ACTION,
        event_type: "task.reassigned",
        resource: &resource,
        reason: Some(&why),
        before: Some(snapshot(&before)),
    };
    commit_write(tx, who, write, idem.as_ref(), row).await
}
