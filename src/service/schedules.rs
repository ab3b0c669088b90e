//! Reporting schedules and ad-hoc report requests.

use chrono::NaiveDate;

use super::{Idempotency, Services, Write, commit_write, not_found, refs, replay, require_role};
use crate::auth::principal::{Principal, Role};
use crate::domain::period::PeriodKind;
use crate::domain::resource_name;
use crate::error::Error;
use crate::store::{self, Tx, plans, reports};

pub use reports::{RequestRow, ScheduleRow};

/// Who may set reporting duties.
const WRITERS: &[Role] = &[Role::Admin, Role::Monitor];

/// `plans/{plan}/reportSchedules/{schedule}`.
pub fn schedule_name(plan_id: &str, id: &str) -> String {
    format!("plans/{plan_id}/reportSchedules/{id}")
}

/// `plans/{plan}/reportRequests/{request}`.
pub fn request_name(plan_id: &str, id: &str) -> String {
    format!("plans/{plan_id}/reportRequests/{id}")
}

/// A validated schedule.
#[derive(Debug, Clone)]
pub struct ScheduleInput {
    /// The period kind.
    pub period_kind: PeriodKind,
    /// Units that must report; empty: lead units of open tasks.
    pub unit_ids: Vec<String>,
    /// Working days after the cut-off, 1 to 60.
    pub deadline_working_days: i32,
    /// The nine-month window's end.
    pub nine_months_end: Option<NaiveDate>,
}

/// A validated ad-hoc request.
#[derive(Debug, Clone)]
pub struct RequestInput {
    /// What is asked.
    pub title: String,
    /// Units asked; empty: lead units of open tasks.
    pub unit_ids: Vec<String>,
    /// The deadline.
    pub due_date: NaiveDate,
    /// Urgent rather than thematic.
    pub urgent: bool,
}

async fn plan_exists(tx: &mut Tx, tenant: &str, plan_id: &str) -> Result<plans::PlanRow, Error> {
    plans::get(tx, tenant, plan_id, false).await?.ok_or_else(|| not_found(super::plans::name(plan_id)))
}

/// Adds a schedule to a plan (ADMIN, MONITOR).
pub async fn create_schedule(
    svc: &Services,
    who: &Principal,
    plan_id: &str,
    id: Option<String>,
    input: ScheduleInput,
    idem: Option<Idempotency>,
) -> Result<ScheduleRow, Error> {
    require_role(who, WRITERS, "CreateReportSchedule")?;
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    if let Some(replay) = replay(&mut tx, who, "CreateReportSchedule", idem.as_ref()).await? {
        return Ok(replay);
    }
    plan_exists(&mut tx, &who.tenant, plan_id).await?;
    refs::units_exist(&mut tx, &who.tenant, &input.unit_ids).await?;
    let row = ScheduleRow {
        tenant_id: who.tenant.clone(),
        plan_id: plan_id.to_owned(),
        schedule_id: id.unwrap_or_else(resource_name::generate_id),
        period_kind: input.period_kind.as_str().to_owned(),
        unit_ids: input.unit_ids,
        deadline_working_days: input.deadline_working_days,
        nine_months_end: input.nine_months_end,
        create_time: svc.clock.now(),
    };
    let row = reports::insert_schedule(&mut tx, &row).await?;
    let resource = schedule_name(plan_id, &row.schedule_id);
    let write = Write {
        action: "CreateReportSchedule",
        event_type: "report_schedule.created",
        resource: &resource,
        reason: None,
        before: None,
    };
    commit_write(tx, who, write, idem.as_ref(), row).await
}

/// A plan's schedules (any role).
pub async fn list_schedules(svc: &Services, who: &Principal, plan_id: &str) -> Result<Vec<ScheduleRow>, Error> {
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    plan_exists(&mut tx, &who.tenant, plan_id).await?;
    let rows = reports::schedules(&mut tx, &who.tenant, plan_id).await?;
    store::commit(tx).await?;
    Ok(rows)
}

/// Removes a schedule (ADMIN, MONITOR).
pub async fn delete_schedule(svc: &Services, who: &Principal, plan_id: &str, id: &str) -> Result<(), Error> {
    require_role(who, WRITERS, "DeleteReportSchedule")?;
    let resource = schedule_name(plan_id, id);
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    if !reports::delete_schedule(&mut tx, &who.tenant, plan_id, id).await? {
        return Err(not_found(resource));
    }
    let write = Write {
        action: "DeleteReportSchedule",
        event_type: "report_schedule.deleted",
        resource: &resource,
        reason: None,
        before: None,
    };
    commit_write(tx, who, write, None, ()).await
}

/// Asks for an ad-hoc report (ADMIN, MONITOR).
pub async fn create_request(
    svc: &Services,
    who: &Principal,
    plan_id: &str,
    id: Option<String>,
    input: RequestInput,
    idem: Option<Idempotency>,
) -> Result<RequestRow, Error> {
    require_role(who, WRITERS, "CreateReportRequest")?;
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    if let Some(replay) = replay(&mut tx, who, "CreateReportRequest", idem.as_ref()).await? {
        return Ok(replay);
    }
    plan_exists(&mut tx, &who.tenant, plan_id).await?;
    refs::units_exist(&mut tx, &who.tenant, &input.unit_ids).await?;
    let row = RequestRow {
        tenant_id: who.tenant.clone(),
        plan_id: plan_id.to_owned(),
        request_id: id.unwrap_or_else(resource_name::generate_id),
        title: input.title,
        unit_ids: input.unit_ids,
        due_date: input.due_date,
        urgent: input.urgent,
        create_time: svc.clock.now(),
    };
    let row = reports::insert_request(&mut tx, &row).await?;
    let resource = request_name(plan_id, &row.request_id);
    let write = Write {
        action: "CreateReportRequest",
        event_type: "report_request.created",
        resource: &resource,
        reason: None,
        before: None,
    };
    commit_write(tx, who, write, idem.as_ref(), row).await
}

/// A plan's ad-hoc requests (any role).
pub async fn list_requests(svc: &Services, who: &Principal, plan_id: &str) -> Result<Vec<RequestRow>, Error> {
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    plan_exists(&mut tx, &who.tenant, plan_id).await?;
    let rows = reports::requests(&mut tx, &who.tenant, plan_id).await?;
    store::commit(tx).await?;
    Ok(rows)
}
