//! Plan use cases.

use chrono::{Datelike, NaiveDate};

use super::{
    Idempotency, Services, Write, check_etag, commit_write, not_found, page, page_position, refs, replay, require_role,
    snapshot,
};
use crate::auth::principal::{Principal, Role};
use crate::domain::document_ref::DocumentRef;
use crate::domain::page_token::TokenScope;
use crate::domain::plan::{self, PlanState, PlanTransitionError};
use crate::domain::resource_name;
use crate::domain::text::fold_for_search;
use crate::error::Error;
use crate::store::{self, plans};

pub use plans::{PlanQuery, PlanRow};

/// Who may write plans.
const WRITERS: &[Role] = &[Role::Admin];

/// A validated plan.
#[derive(Debug, Clone)]
pub struct PlanInput {
    /// The document reference.
    pub document_ref: DocumentRef,
    /// The issuing unit.
    pub issuing_unit_id: String,
    /// The issue day.
    pub issue_date: NaiveDate,
    /// The title.
    pub title: String,
    /// Objectives.
    pub objectives: String,
    /// Requirements.
    pub requirements: String,
    /// Implemented conclusions.
    pub conclusion_ids: Vec<String>,
    /// The monitoring unit.
    pub monitoring_unit_id: Option<String>,
}

/// `plans/{plan}`.
pub fn name(id: &str) -> String {
    resource_name::format("plans", id)
}

/// The state of a stored plan.
pub fn state_of(row: &PlanRow) -> Result<PlanState, Error> {
    parse_state(&row.state)
}

/// A plan state by its storage name.
pub fn parse_state(state: &str) -> Result<PlanState, Error> {
    PlanState::from_db(state).ok_or_else(|| Error::Internal(anyhow::anyhow!("unknown plan state {state:?}")))
}

fn search_text(row: &PlanRow) -> String {
    fold_for_search(&format!("{} {}", row.document_ref, row.title))
}

fn apply(row: &mut PlanRow, input: PlanInput) {
    row.document_year = input.document_ref.year().unwrap_or(input.issue_date.year());
    row.document_ref = input.document_ref.as_str().to_owned();
    row.issuing_unit_id = input.issuing_unit_id;
    row.issue_date = input.issue_date;
    row.title = input.title;
    row.objectives = input.objectives;
    row.requirements = input.requirements;
    row.conclusion_ids = input.conclusion_ids;
    row.monitoring_unit_id = input.monitoring_unit_id;
}

/// The current values of a plan as input.
pub fn input_of(row: &PlanRow) -> Result<PlanInput, Error> {
    Ok(PlanInput {
        document_ref: DocumentRef::parse(&row.document_ref).map_err(|e| Error::Internal(e.into()))?,
        issuing_unit_id: row.issuing_unit_id.clone(),
        issue_date: row.issue_date,
        title: row.title.clone(),
        objectives: row.objectives.clone(),
        requirements: row.requirements.clone(),
        conclusion_ids: row.conclusion_ids.clone(),
        monitoring_unit_id: row.monitoring_unit_id.clone(),
    })
}

async fn check_refs(tx: &mut store::Tx, tenant: &str, input: &PlanInput) -> Result<(), Error> {
    refs::units_exist(tx, tenant, std::slice::from_ref(&input.issuing_unit_id)).await?;
    if let Some(unit) = &input.monitoring_unit_id {
        refs::units_exist(tx, tenant, std::slice::from_ref(unit)).await?;
    }
    refs::conclusions_exist(tx, tenant, &input.conclusion_ids).await
}

fn transition_error(error: PlanTransitionError) -> Error {
    let reason = match error {
        PlanTransitionError::WrongState { .. } => "PLAN_STATE",
        PlanTransitionError::NoTasks => "PLAN_HAS_NO_TASKS",
        PlanTransitionError::NoMonitoringUnit => "PLAN_HAS_NO_MONITORING_UNIT",
        PlanTransitionError::OpenTasks(_) => "PLAN_HAS_OPEN_TASKS",
    };
    Error::FailedPrecondition { reason, message: error.to_string() }
}

/// Drafts a plan (ADMIN).
pub async fn create(
    svc: &Services,
    who: &Principal,
    id: Option<String>,
    input: PlanInput,
    idem: Option<Idempotency>,
) -> Result<PlanRow, Error> {
    require_role(who, WRITERS, "CreatePlan")?;
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    if let Some(replay) = replay(&mut tx, who, "CreatePlan", idem.as_ref()).await? {
        return Ok(replay);
    }
    check_refs(&mut tx, &who.tenant, &input).await?;
    let now = svc.clock.now();
    let mut row = PlanRow {
        tenant_id: who.tenant.clone(),
        plan_id: id.unwrap_or_else(resource_name::generate_id),
        document_ref: String::new(),
        document_year: 0,
        issuing_unit_id: String::new(),
        issue_date: input.issue_date,
        title: String::new(),
        objectives: String::new(),
        requirements: String::new(),
        conclusion_ids: Vec::new(),
        monitoring_unit_id: None,
        state: PlanState::Draft.as_str().to_owned(),
        cancel_reason: String::new(),
        revision: 1,
        create_time: now,
        update_time: now,
    };
    apply(&mut row, input);
    let row = plans::insert(&mut tx, &row, &search_text(&row)).await?;
    let resource = name(&row.plan_id);
    let write =
        Write { action: "CreatePlan", event_type: "plan.created", resource: &resource, reason: None, before: None };
    commit_write(tx, who, write, idem.as_ref(), row).await
}

/// Reads a plan (any role).
pub async fn get(svc: &Services, who: &Principal, id: &str) -> Result<PlanRow, Error> {
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    let row = plans::get(&mut tx, &who.tenant, id, false).await?;
    store::commit(tx).await?;
    row.ok_or_else(|| not_found(name(id)))
}

/// One page of plans (any role).
pub async fn list(
    svc: &Services,
    who: &Principal,
    query: &PlanQuery,
    filter: &str,
    page_size: i64,
    page_token: &str,
) -> Result<(Vec<PlanRow>, String), Error> {
    let scope = TokenScope { tenant: &who.tenant, method: "ListPlans", filter };
    let after: Option<String> = page_position(svc, scope, page_token)?;
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    let rows = plans::list(&mut tx, &who.tenant, query, after.as_deref(), page_size + 1).await?;
    store::commit(tx).await?;
    Ok(page(svc, scope, rows, page_size, |row| row.plan_id.clone()))
}

/// Changes a plan that is still open (ADMIN).
pub async fn update(
    svc: &Services,
    who: &Principal,
    id: &str,
    etag: &str,
    change: impl FnOnce(PlanInput) -> PlanInput,
) -> Result<PlanRow, Error> {
    require_role(who, WRITERS, "UpdatePlan")?;
    let resource = name(id);
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    let before = plans::get(&mut tx, &who.tenant, id, true).await?.ok_or_else(|| not_found(&resource))?;
    check_etag("plan.etag", etag, before.revision, &resource)?;
    let state = state_of(&before)?;
    if !state.is_open() {
        return Err(Error::FailedPrecondition {
            reason: "PLAN_STATE",
            message: format!("{resource} is {} and can no longer change", state.as_str()),
        });
    }
    let input = change(input_of(&before)?);
    if state == PlanState::Issued && input.monitoring_unit_id.is_none() {
        return Err(Error::invalid("plan.monitoring_unit", "an issued plan keeps a monitoring unit"));
    }
    check_refs(&mut tx, &who.tenant, &input).await?;
    let mut row = before.clone();
    apply(&mut row, input);
    let row = plans::update(&mut tx, &row, &search_text(&row)).await?;
    let write = Write {
        action: "UpdatePlan",
        event_type: "plan.updated",
        resource: &resource,
        reason: None,
        before: Some(snapshot(&before)),
    };
    commit_write(tx, who, write, None, row).await
}

/// A lifecycle step of a plan.
#[derive(Debug, Clone)]
pub enum PlanStep {
    /// IssuePlan.
    Issue,
    /// CompletePlan.
    Complete,
    /// CancelPlan, with its reason.
    Cancel(String),
}

/// Moves a plan through its lifecycle (ADMIN).
pub async fn step(
    svc: &Services,
    who: &Principal,
    id: &str,
    step: PlanStep,
    etag: &str,
    idem: Option<Idempotency>,
) -> Result<PlanRow, Error> {
    let (action, event_type) = match step {
        PlanStep::Issue => ("IssuePlan", "plan.issued"),
        PlanStep::Complete => ("CompletePlan", "plan.completed"),
        PlanStep::Cancel(_) => ("CancelPlan", "plan.cancelled"),
    };
    require_role(who, WRITERS, action)?;
    let resource = name(id);
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    if let Some(replay) = replay(&mut tx, who, action, idem.as_ref()).await? {
        return Ok(replay);
    }
    let before = plans::get(&mut tx, &who.tenant, id, true).await?.ok_or_else(|| not_found(&resource))?;
    check_etag("etag", etag, before.revision, &resource)?;
    let state = state_of(&before)?;
    let (tasks, open) = plans::task_counts(&mut tx, &who.tenant, id).await?;
    let mut row = before.clone();
    let mut reason = None;
    let next = match &step {
        PlanStep::Issue => plan::issue(state, tasks, before.monitoring_unit_id.is_some()),
        PlanStep::Complete => plan::complete(state, open),
        PlanStep::Cancel(why) => {
            row.cancel_reason = why.clone();
            reason = Some(why.as_str());
            plan::cancel(state)
        }
    }
    .map_err(transition_error)?;
    row.state = next.as_str().to_owned();
    let row = plans::update(&mut tx, &row, &search_text(&row)).await?;
    let write = Write { action, event_type, resource: &resource, reason, before: Some(snapshot(&before)) };
    commit_write(tx, who, write, idem.as_ref(), row).await
}
