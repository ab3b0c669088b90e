//! Report use cases: drafting, submission (which applies the report to its tasks),
//! review, versions, and who has not reported.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use sqlx::types::Json;

use super::tasks::{TaskStep, apply_step, at_index, lock_task, record_progress};
use super::{
    Idempotency, Services, Write, check_etag, commit_write, holidays, not_found, page, page_position, replay,
    require_role, snapshot,
};
use crate::auth::principal::{Principal, Role};
use crate::domain::calendar::local_date;
use crate::domain::page_token::TokenScope;
use crate::domain::period::{NineMonthsEnd, Period, PeriodKind, due_periods};
use crate::domain::plan::PlanState;
use crate::domain::recommendation::Measure;
use crate::domain::resource_name;
use crate::domain::task::TaskState;
use crate::domain::working_days::add_working_days;
use crate::error::Error;
use crate::store::tasks::EvidenceRecord;
use crate::store::{self, Tx, plans, progress, reports};

pub use reports::{ItemRecord, ReportQuery, ReportRow};

/// `plans/{plan}/reports/{report}`.
pub fn name(plan_id: &str, id: &str) -> String {
    format!("plans/{plan_id}/reports/{id}")
}

/// What a report answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A period of one of the plan's schedules.
    Period(Period),
    /// An ad-hoc request, by ID.
    Request(String),
}

/// A validated item.
#[derive(Debug, Clone)]
pub struct ItemInput {
    /// The task's ID within the plan.
    pub task_id: String,
    /// The task's new state, if it moves.
    pub state: Option<TaskState>,
    /// Progress percent, 0 to 100.
    pub progress_percent: i32,
    /// What was done.
    pub done: String,
    /// Achieved figures: (recommendation name, measure, amount).
    pub achieved: Vec<(String, Measure, i64)>,
    /// Evidence.
    pub evidence: Option<EvidenceRecord>,
}

/// The editable text of a report.
#[derive(Debug, Clone, Default)]
pub struct ReportText {
    /// Its document reference, or empty.
    pub document_ref: String,
    /// Summary.
    pub summary: String,
    /// Results.
    pub results: String,
    /// Difficulties.
    pub difficulties: String,
    /// Proposals.
    pub proposals: String,
}

fn item_record(item: ItemInput) -> ItemRecord {
    ItemRecord {
        task_id: item.task_id,
        state: item.state.map(|s| s.as_str().to_owned()),
        progress_percent: item.progress_percent,
        done: item.done,
        achieved: item.achieved.into_iter().map(|(r, m, a)| (r, super::recommendations::measure_key(m), a)).collect(),
        evidence: item.evidence,
    }
}

fn nine_months_end(schedule: &reports::ScheduleRow) -> NineMonthsEnd {
    use chrono::Datelike;
    schedule.nine_months_end.map(|d| NineMonthsEnd { month: d.month(), day: d.day() }).unwrap_or_default()
}

/// The deadline of a period under a schedule: its working days after the cut-off.
async fn period_deadline(
    tx: &mut Tx,
    tenant: &str,
    schedule: &reports::ScheduleRow,
    period: &Period,
) -> Result<NaiveDate, Error> {
    let (_, end) = period.window(nine_months_end(schedule));
    let calendar = holidays::calendar(tx, tenant, end, end).await?;
    Ok(add_working_days(end, u32::try_from(schedule.deadline_working_days).unwrap_or(1), &calendar))
}

/// Whether a UNIT key may see a report: its own unit's only.
fn visible(who: &Principal, row: &ReportRow) -> bool {
    who.role != Role::Unit || who.unit.as_deref() == Some(row.unit_id.as_str())
}

fn state_of(row: &ReportRow) -> &str {
    row.state.as_str()
}

async fn issued_plan(tx: &mut Tx, tenant: &str, plan_id: &str) -> Result<plans::PlanRow, Error> {
    let plan = plans::get(tx, tenant, plan_id, false).await?.ok_or_else(|| not_found(super::plans::name(plan_id)))?;
    if plan.state != PlanState::Issued.as_str() {
        return Err(Error::FailedPrecondition {
            reason: "PLAN_NOT_ISSUED",
            message: format!("reports are made on issued plans; {} is {}", super::plans::name(plan_id), plan.state),
        });
    }
    Ok(plan)
}

/// Each item names a task of the plan that the unit leads, once.
async fn check_items(tx: &mut Tx, tenant: &str, plan_id: &str, unit: &str, items: &[ItemInput]) -> Result<(), Error> {
    let mut seen = BTreeSet::new();
    for (index, item) in items.iter().enumerate() {
        let field = format!("report.items[{index}].task");
        if !seen.insert(item.task_id.clone()) {
            return Err(Error::invalid(field, "this task already has an item in the report"));
        }
        let task = store::tasks::get(tx, tenant, plan_id, &item.task_id, false).await?;
        match task {
            None => {
                return Err(Error::invalid(
                    field,
                    format!("{} is not a task of this plan", super::tasks::name(plan_id, &item.task_id)),
                ));
            }
            Some(task) if task.lead_unit_id != unit => {
                return Err(Error::invalid(
                    field,
                    format!("the task is led by units/{}, not the reporting unit", task.lead_unit_id),
                ));
            }
            Some(_) => {}
        }
        if item.state == Some(TaskState::ReportedDone) && item.evidence.is_none() {
            return Err(Error::invalid(
                format!("report.items[{index}].evidence"),
                "is required to report the task done",
            ));
        }
    }
    Ok(())
}

/// A validated new report.
#[derive(Debug, Clone)]
pub struct NewReport {
    /// The reporting unit.
    pub unit_id: String,
    /// What it answers.
    pub subject: Subject,
    /// Its text.
    pub text: ReportText,
    /// Its items.
    pub items: Vec<ItemInput>,
}

/// Starts a report as a draft (ADMIN, or a UNIT key for its own unit).
pub async fn create(
    svc: &Services,
    who: &Principal,
    plan_id: &str,
    id: Option<String>,
    new: NewReport,
    idem: Option<Idempotency>,
) -> Result<ReportRow, Error> {
    let NewReport { unit_id, subject, text, items } = new;
    require_role(who, &[Role::Admin, Role::Unit], "CreateReport")?;
    if who.role == Role::Unit && who.unit.as_deref() != Some(unit_id.as_str()) {
        return Err(Error::PermissionDenied {
            reason: "NOT_RESPONSIBLE_UNIT",
            message: format!("a UNIT key reports only for its own unit, not units/{unit_id}"),
        });
    }
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    if let Some(replay) = replay(&mut tx, who, "CreateReport", idem.as_ref()).await? {
        return Ok(replay);
    }
    issued_plan(&mut tx, &who.tenant, plan_id).await?;
    super::refs::units_exist(&mut tx, &who.tenant, std::slice::from_ref(&unit_id)).await?;
    let (period_key, request_id, deadline) = match &subject {
        Subject::Period(period) => {
            let schedules = reports::schedules(&mut tx, &who.tenant, plan_id).await?;
            let schedule = schedules.iter().find(|s| s.period_kind == period.kind.as_str()).ok_or_else(|| {
                Error::invalid("report.period", format!("the plan has no {} reporting schedule", period.kind.as_str()))
            })?;
            (Some(period.key()), None, period_deadline(&mut tx, &who.tenant, schedule, period).await?)
        }
        Subject::Request(request_id) => {
            let requests = reports::requests(&mut tx, &who.tenant, plan_id).await?;
            let request = requests
                .iter()
                .find(|r| r.request_id == *request_id)
                .ok_or_else(|| not_found(super::schedules::request_name(plan_id, request_id)))?;
            (None, Some(request_id.clone()), request.due_date)
        }
    };
    check_items(&mut tx, &who.tenant, plan_id, &unit_id, &items).await?;
    let now = svc.clock.now();
    let row = ReportRow {
        tenant_id: who.tenant.clone(),
        plan_id: plan_id.to_owned(),
        report_id: id.unwrap_or_else(resource_name::generate_id),
        unit_id,
        period_key,
        report_request_id: request_id,
        deadline,
        document_ref: text.document_ref,
        summary: text.summary,
        results: text.results,
        difficulties: text.difficulties,
        proposals: text.proposals,
        items: Json(items.into_iter().map(item_record).collect()),
        state: "DRAFT".into(),
        late: false,
        version: 0,
        submit_time: None,
        review_comment: String::new(),
        revision: 1,
        create_time: now,
        update_time: now,
    };
    let row = reports::insert_report(&mut tx, &row).await?;
    let resource = name(plan_id, &row.report_id);
    let write =
        Write { action: "CreateReport", event_type: "report.created", resource: &resource, reason: None, before: None };
    commit_write(tx, who, write, idem.as_ref(), row).await
}

async fn load(tx: &mut Tx, who: &Principal, plan_id: &str, id: &str, lock: bool) -> Result<ReportRow, Error> {
    let resource = name(plan_id, id);
    let row = reports::get_report(tx, &who.tenant, plan_id, id, lock).await?.ok_or_else(|| not_found(&resource))?;
    if !visible(who, &row) {
        return Err(not_found(resource));
    }
    Ok(row)
}

/// Reads a report (a UNIT key only its own unit's).
pub async fn get(svc: &Services, who: &Principal, plan_id: &str, id: &str) -> Result<ReportRow, Error> {
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    let row = load(&mut tx, who, plan_id, id, false).await?;
    store::commit(tx).await?;
    Ok(row)
}

/// One page of a plan's reports (a UNIT key sees its own unit's only).
pub async fn list(
    svc: &Services,
    who: &Principal,
    plan_id: &str,
    mut query: ReportQuery,
    filter: &str,
    page_size: i64,
    page_token: &str,
) -> Result<(Vec<ReportRow>, String), Error> {
    let scope_filter = format!("{plan_id}\u{0}{filter}");
    let scope = TokenScope { tenant: &who.tenant, method: "ListReports", filter: &scope_filter };
    let after: Option<String> = page_position(svc, scope, page_token)?;
    match super::own_unit_filter(who, query.unit.take()) {
        Some(unit) => query.unit = unit,
        None => return Ok((Vec::new(), String::new())),
    }
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    if plans::get(&mut tx, &who.tenant, plan_id, false).await?.is_none() {
        return Err(not_found(super::plans::name(plan_id)));
    }
    let rows = reports::list_reports(&mut tx, &who.tenant, plan_id, &query, after.as_deref(), page_size + 1).await?;
    store::commit(tx).await?;
    Ok(page(svc, scope, rows, page_size, |row| row.report_id.clone()))
}

fn require_editable(row: &ReportRow, resource: &str) -> Result<(), Error> {
    if matches!(state_of(row), "DRAFT" | "RETURNED") {
        return Ok(());
    }
    Err(Error::FailedPrecondition {
        reason: "REPORT_STATE",
        message: format!("{resource} is {}; only a DRAFT or RETURNED report can change", row.state),
    })
}

fn require_author(who: &Principal, row: &ReportRow, action: &str) -> Result<(), Error> {
    require_role(who, &[Role::Admin, Role::Unit], action)?;
    if who.role == Role::Unit && who.unit.as_deref() != Some(row.unit_id.as_str()) {
        return Err(Error::PermissionDenied {
            reason: "NOT_RESPONSIBLE_UNIT",
            message: format!("{action} is for the reporting unit, units/{}", row.unit_id),
        });
    }
    Ok(())
}

/// Edits a draft or returned report (its unit, or ADMIN).
pub async fn update(
    svc: &Services,
    who: &Principal,
    plan_id: &str,
    id: &str,
    etag: &str,
    change: impl FnOnce(ReportText, Option<Vec<ItemInput>>) -> (ReportText, Option<Vec<ItemInput>>),
) -> Result<ReportRow, Error> {
    require_role(who, &[Role::Admin, Role::Unit], "UpdateReport")?;
    let resource = name(plan_id, id);
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    let before = load(&mut tx, who, plan_id, id, true).await?;
    require_author(who, &before, "UpdateReport")?;
    check_etag("report.etag", etag, before.revision, &resource)?;
    require_editable(&before, &resource)?;
    let current = ReportText {
        document_ref: before.document_ref.clone(),
        summary: before.summary.clone(),
        results: before.results.clone(),
        difficulties: before.difficulties.clone(),
        proposals: before.proposals.clone(),
    };
    let (text, items) = change(current, None);
    let mut row = before.clone();
    if let Some(items) = items {
        check_items(&mut tx, &who.tenant, plan_id, &before.unit_id, &items).await?;
        row.items = Json(items.into_iter().map(item_record).collect());
    }
    row.document_ref = text.document_ref;
    row.summary = text.summary;
    row.results = text.results;
    row.difficulties = text.difficulties;
    row.proposals = text.proposals;
    let row = reports::update_report(&mut tx, &row).await?;
    let write = Write {
        action: "UpdateReport",
        event_type: "report.updated",
        resource: &resource,
        reason: None,
        before: Some(snapshot(&before)),
    };
    commit_write(tx, who, write, None, row).await
}

fn item_input(record: &ItemRecord) -> Result<ItemInput, Error> {
    let bad = || Error::Internal(anyhow::anyhow!("a stored report item is unreadable"));
    Ok(ItemInput {
        task_id: record.task_id.clone(),
        state: match &record.state {
            Some(s) => Some(TaskState::from_db(s).ok_or_else(bad)?),
            None => None,
        },
        progress_percent: record.progress_percent,
        done: record.done.clone(),
        achieved: record
            .achieved
            .iter()
            .map(|(r, m, a)| {
                let measure: Measure =
                    serde_json::from_value(serde_json::Value::String(m.clone())).map_err(|_| bad())?;
                Ok((r.clone(), measure, *a))
            })
            .collect::<Result<_, Error>>()?,
        evidence: record.evidence.clone(),
    })
}

/// Applies one item to its task inside the submission's transaction.
async fn apply_item(
    tx: &mut Tx,
    svc: &Services,
    who: &Principal,
    plan: &plans::PlanGate,
    report: &ReportRow,
    item: ItemInput,
    resource: &str,
) -> Result<(), Error> {
    let task = lock_task(tx, &who.tenant, &plan.plan_id, &item.task_id).await?;
    if task.lead_unit_id != report.unit_id {
        return Err(Error::FailedPrecondition {
            reason: "NOT_RESPONSIBLE_UNIT",
            message: format!("the task is now led by units/{}, not the reporting unit", task.lead_unit_id),
        });
    }
    let current = super::tasks::state_of_task(&task)?;
    let task = match item.state {
        None => task,
        Some(TaskState::InProgress) if current == TaskState::InProgress => task,
        Some(TaskState::InProgress) => apply_step(tx, svc, who, plan, &task, TaskStep::Start, None).await?,
        Some(TaskState::ReportedDone) => {
            let evidence =
                item.evidence.ok_or_else(|| Error::invalid("evidence", "is required to report the task done"))?;
            let step = TaskStep::ReportDone { evidence, achieved: item.achieved };
            apply_step(tx, svc, who, plan, &task, step, None).await?
        }
        Some(other) => {
            return Err(Error::invalid(
                "state",
                format!("a report moves a task to IN_PROGRESS or REPORTED_DONE, not {}", other.as_str()),
            ));
        }
    };
    record_progress(tx, who, &task, item.progress_percent, item.done, resource).await?;
    Ok(())
}

/// Submits a report: applies every item to its task, all or none, in one transaction;
/// marks it late past its deadline (its unit, or ADMIN).
pub async fn submit(
    svc: &Services,
    who: &Principal,
    plan_id: &str,
    id: &str,
    etag: &str,
    idem: Option<Idempotency>,
) -> Result<ReportRow, Error> {
    require_role(who, &[Role::Admin, Role::Unit], "SubmitReport")?;
    let resource = name(plan_id, id);
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    if let Some(replay) = replay(&mut tx, who, "SubmitReport", idem.as_ref()).await? {
        return Ok(replay);
    }
    // Locked first: a second, concurrent submission waits here and then finds it submitted.
    let before = load(&mut tx, who, plan_id, id, true).await?;
    require_author(who, &before, "SubmitReport")?;
    check_etag("etag", etag, before.revision, &resource)?;
    require_editable(&before, &resource)?;
    let plan = issued_plan(&mut tx, &who.tenant, plan_id).await?.gate();
    for (index, record) in before.items.0.iter().enumerate() {
        let item = item_input(record)?;
        apply_item(&mut tx, svc, who, &plan, &before, item, &resource)
            .await
            .map_err(|e| at_index(e, "items", index))?;
    }
    let now = svc.clock.now();
    let mut row = before.clone();
    row.state = "SUBMITTED".into();
    row.version = before.version + 1;
    row.submit_time = Some(now);
    row.late = local_date(now) > before.deadline;
    let row = reports::update_report(&mut tx, &row).await?;
    reports::insert_version(&mut tx, &row, snapshot(&row)).await?;
    let reason = row.late.then_some("submitted after its deadline");
    let write = Write {
        action: "SubmitReport",
        event_type: "report.submitted",
        resource: &resource,
        reason,
        before: Some(snapshot(&before)),
    };
    commit_write(tx, who, write, idem.as_ref(), row).await
}

/// A review's outcome, with the reviewer's comment.
#[derive(Debug, Clone)]
pub enum Review {
    /// AcceptReport.
    Accept(String),
    /// ReturnReport.
    Return(String),
}

/// Accepts or returns a submitted report (the monitoring side).
pub async fn review(
    svc: &Services,
    who: &Principal,
    plan_id: &str,
    id: &str,
    review: Review,
    etag: &str,
    idem: Option<Idempotency>,
) -> Result<ReportRow, Error> {
    let (accept, comment) = match review {
        Review::Accept(comment) => (true, comment),
        Review::Return(comment) => (false, comment),
    };
    let action = if accept { "AcceptReport" } else { "ReturnReport" };
    require_role(who, &[Role::Admin, Role::Monitor], action)?;
    let resource = name(plan_id, id);
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    if let Some(replay) = replay(&mut tx, who, action, idem.as_ref()).await? {
        return Ok(replay);
    }
    let before = load(&mut tx, who, plan_id, id, true).await?;
    let plan = plans::get(&mut tx, &who.tenant, plan_id, false).await?.ok_or_else(|| not_found(&resource))?;
    if let (Role::Monitor, Some(unit)) = (who.role, &who.unit)
        && plan.monitoring_unit_id.as_deref() != Some(unit.as_str())
    {
        return Err(Error::PermissionDenied {
            reason: "NOT_RESPONSIBLE_UNIT",
            message: format!("{action} is for the plan's monitoring unit; this key acts for units/{unit}"),
        });
    }
    check_etag("etag", etag, before.revision, &resource)?;
    if state_of(&before) != "SUBMITTED" {
        return Err(Error::FailedPrecondition {
            reason: "REPORT_STATE",
            message: format!("{resource} is {}; only a SUBMITTED report is reviewed", before.state),
        });
    }
    let mut row = before.clone();
    row.state = if accept { "ACCEPTED" } else { "RETURNED" }.into();
    row.review_comment = comment;
    let row = reports::update_report(&mut tx, &row).await?;
    let event_type = if accept { "report.accepted" } else { "report.returned" };
    let reason = Some(row.review_comment.clone()).filter(|c| !c.is_empty());
    let write =
        Write { action, event_type, resource: &resource, reason: reason.as_deref(), before: Some(snapshot(&before)) };
    commit_write(tx, who, write, idem.as_ref(), row).await
}

/// Every submitted version of a report, oldest first.
pub async fn versions(
    svc: &Services,
    who: &Principal,
    plan_id: &str,
    id: &str,
) -> Result<Vec<(i32, ReportRow, bool, chrono::DateTime<chrono::Utc>)>, Error> {
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    load(&mut tx, who, plan_id, id, false).await?;
    let versions = reports::versions(&mut tx, &who.tenant, plan_id, id).await?;
    store::commit(tx).await?;
    Ok(versions.into_iter().map(|(v, row, late, at)| (v, row.0, late, at)).collect())
}

/// A report a unit owes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// The period key, or the ad-hoc request's ID prefixed with `#`.
    pub subject: String,
    /// The unit.
    pub unit_id: String,
    /// The deadline.
    pub deadline: NaiveDate,
    /// Days past it as of the day asked about.
    pub days_late: i32,
}

/// Who owes which report on the plan as of `as_of` (inside a transaction of the caller).
/// `open_leads` are the lead units of the plan's open tasks, when the caller knows them.
pub async fn missing_in(
    tx: &mut Tx,
    tenant: &str,
    plan: &plans::PlanRow,
    as_of: NaiveDate,
    open_leads: Option<Vec<String>>,
) -> Result<Vec<Missing>, Error> {
    let delivered: BTreeSet<(String, String)> =
        reports::delivered(tx, tenant, &plan.plan_id).await?.into_iter().collect();
    let open_leads = match open_leads {
        Some(units) => units,
        None => progress::open_lead_units(tx, tenant, &plan.plan_id).await?,
    };
    let calendar = holidays::calendar(tx, tenant, plan.issue_date, as_of).await?;
    let mut out = Vec::new();
    let mut owe = |subject: String, units: &[String], deadline: NaiveDate| {
        let units = if units.is_empty() { open_leads.as_slice() } else { units };
        for unit in units {
            if !delivered.contains(&(unit.clone(), subject.clone())) {
                let days_late = i32::try_from((as_of - deadline).num_days().max(0)).unwrap_or(i32::MAX);
                out.push(Missing { subject: subject.clone(), unit_id: unit.clone(), deadline, days_late });
            }
        }
    };
    for schedule in reports::schedules(tx, tenant, &plan.plan_id).await? {
        let Some(kind) = PeriodKind::from_db(&schedule.period_kind) else { continue };
        let n = u32::try_from(schedule.deadline_working_days).unwrap_or(1);
        for period in due_periods(kind, plan.issue_date, as_of, nine_months_end(&schedule)) {
            let (_, end) = period.window(nine_months_end(&schedule));
            let deadline = add_working_days(end, n, &calendar);
            owe(period.key(), &schedule.unit_ids, deadline);
        }
    }
    for request in reports::requests(tx, tenant, &plan.plan_id).await? {
        if request.due_date < as_of {
            owe(format!("#{}", request.request_id), &request.unit_ids, request.due_date);
        }
    }
    out.sort_by(|a, b| (a.deadline, &a.unit_id, &a.subject).cmp(&(b.deadline, &b.unit_id, &b.subject)));
    Ok(out)
}

/// Who owes which report on the plan as of `as_of` (MONITOR, ADMIN, READER).
pub async fn missing(svc: &Services, who: &Principal, plan_id: &str, as_of: NaiveDate) -> Result<Vec<Missing>, Error> {
    require_role(who, &[Role::Admin, Role::Monitor, Role::Reader], "ListMissingReports")?;
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    let plan = plans::get(&mut tx, &who.tenant, plan_id, false)
        .await?
        .ok_or_else(|| not_found(super::plans::name(plan_id)))?;
    let out = missing_in(&mut tx, &who.tenant, &plan, as_of, None).await?;
    store::commit(tx).await?;
    Ok(out)
}

/// Missing reports per unit, for the progress rows.
pub fn missing_per_unit(missing: &[Missing]) -> BTreeMap<String, i32> {
    let mut out = BTreeMap::new();
    for m in missing {
        *out.entry(m.unit_id.clone()).or_insert(0) += 1;
    }
    out
}
