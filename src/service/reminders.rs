//! Reminders: the scheduler that sends them when due, exactly once per occurrence, and
//! manual urging by the monitoring side.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, Utc};
use serde_json::json;

use super::reports::missing_in;
use super::{
    Change, Idempotency, Services, Write, commit_write, not_found, page, page_position, record_change, refs, replay,
    require_role,
};
use crate::auth::principal::{Principal, Role};
use crate::domain::calendar::local_date;
use crate::domain::page_token::TokenScope;
use crate::domain::reminder::{ReminderRule, ReminderRules, task_occurrences};
use crate::domain::resource_name;
use crate::error::Error;
use crate::store::{self, Tx, plans, reminders};

pub use reminders::{ReminderQuery, ReminderRow};

/// `reminders/{id}`.
pub fn name(id: &str) -> String {
    resource_name::format("reminders", id)
}

/// The rules in force for `plan_id`: its own, else the province's default, else the
/// built-in default.
async fn rules_for(tx: &mut Tx, tenant: &str, plan_id: &str) -> Result<ReminderRules, Error> {
    if let Some(rules) = reminders::rules(tx, tenant, plan_id).await? {
        return Ok(rules);
    }
    Ok(reminders::rules(tx, tenant, "").await?.unwrap_or_default())
}

/// The rules of a plan (or, with `None`, the province's default) (any role).
pub async fn get_rules(svc: &Services, who: &Principal, plan_id: Option<&str>) -> Result<ReminderRules, Error> {
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    if let Some(plan) = plan_id
        && plans::get(&mut tx, &who.tenant, plan, false).await?.is_none()
    {
        return Err(not_found(super::plans::name(plan)));
    }
    let rules = rules_for(&mut tx, &who.tenant, plan_id.unwrap_or("")).await?;
    store::commit(tx).await?;
    Ok(rules)
}

/// Sets the rules of a plan or the province's default (ADMIN, MONITOR).
pub async fn set_rules(
    svc: &Services,
    who: &Principal,
    plan_id: Option<&str>,
    change: impl FnOnce(ReminderRules) -> ReminderRules,
) -> Result<ReminderRules, Error> {
    require_role(who, &[Role::Admin, Role::Monitor], "UpdateReminderRules")?;
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    let resource = match plan_id {
        Some(plan) => {
            if plans::get(&mut tx, &who.tenant, plan, false).await?.is_none() {
                return Err(not_found(super::plans::name(plan)));
            }
            format!("plans/{plan}/reminderRules")
        }
        None => "reminderRules".to_owned(),
    };
    let before = rules_for(&mut tx, &who.tenant, plan_id.unwrap_or("")).await?;
    let after = change(before);
    reminders::set_rules(&mut tx, &who.tenant, plan_id.unwrap_or(""), &after).await?;
    let write = Write {
        action: "UpdateReminderRules",
        event_type: "reminder_rules.updated",
        resource: &resource,
        reason: None,
        before: Some(super::snapshot(&before)),
    };
    commit_write(tx, who, write, None, after).await
}

/// The principal automatic reminders are recorded under.
fn system(tenant: &str) -> Principal {
    Principal { tenant: tenant.to_owned(), key_id: "scheduler".into(), role: Role::Admin, unit: None }
}

/// Inserts a reminder with its event, unless the same occurrence was already sent.
async fn send(tx: &mut Tx, who: &Principal, row: ReminderRow) -> Result<bool, Error> {
    let Some(row) = reminders::insert(tx, &row).await? else { return Ok(false) };
    let resource = name(&row.reminder_id);
    let payload = json!({ "unit": format!("units/{}", row.unit_id), "subject": row.subject, "rule": row.rule });
    crate::store::events::append(tx, &who.tenant, "reminder.created", &resource, payload).await?;
    Ok(true)
}

fn automatic(
    tenant: &str,
    plan_id: &str,
    unit: &str,
    rule: ReminderRule,
    subject: String,
    occurrence: String,
    tasks: Vec<String>,
) -> ReminderRow {
    let kind = if rule == ReminderRule::Escalation { "ESCALATION" } else { "AUTOMATIC" };
    let message = match rule {
        ReminderRule::Before => "Nhiệm vụ sắp đến hạn.",
        ReminderRule::DueDay => "Nhiệm vụ đến hạn hôm nay.",
        ReminderRule::Overdue => "Nhiệm vụ đã quá hạn; đề nghị khẩn trương thực hiện và báo cáo.",
        ReminderRule::Escalation => "Nhiệm vụ quá hạn kéo dài; đề nghị cơ quan theo dõi đôn đốc.",
        ReminderRule::ReportDue => "Sắp đến hạn gửi báo cáo định kỳ.",
        ReminderRule::ReportMissing => "Đã quá hạn gửi báo cáo; đề nghị gửi báo cáo.",
    };
    ReminderRow {
        tenant_id: tenant.to_owned(),
        reminder_id: resource_name::generate_id(),
        plan_id: plan_id.to_owned(),
        unit_id: unit.to_owned(),
        kind: kind.into(),
        rule: rule.as_str().into(),
        subject,
        occurrence,
        task_names: tasks,
        document_ref: String::new(),
        message: message.into(),
        state: "OPEN".into(),
        sender: "system".into(),
        acknowledge_time: None,
        create_time: Utc::now(),
    }
}

/// Computes and sends the reminders due at `now` in every province; returns how many
/// were sent. Safe to run from several replicas at once: a province being processed
/// elsewhere is skipped, and the unique occurrence key keeps each reminder single.
pub async fn run_due(svc: &Services, now: DateTime<Utc>) -> Result<usize, Error> {
    let today = local_date(now);
    let mut sent = 0;
    for tenant in store::tenants::all(&svc.pool).await? {
        let who = system(&tenant);
        let mut tx = store::begin(&svc.pool, &tenant).await?;
        if !reminders::try_lock(&mut tx, &tenant).await? {
            continue;
        }
        let horizon = today.checked_add_days(Days::new(366)).unwrap_or(today);
        let tasks = reminders::open_tasks_due_by(&mut tx, &tenant, horizon).await?;
        let mut rules_by_plan: BTreeMap<String, ReminderRules> = BTreeMap::new();
        for task in tasks {
            if !rules_by_plan.contains_key(&task.plan_id) {
                let rules = rules_for(&mut tx, &tenant, &task.plan_id).await?;
                rules_by_plan.insert(task.plan_id.clone(), rules);
            }
            let rules = rules_by_plan[&task.plan_id];
            let subject = super::tasks::name(&task.plan_id, &task.task_id);
            for (rule, occurrence) in task_occurrences(&rules, task.due, today) {
                let mut addressees = vec![task.lead_unit_id.clone()];
                if rule == ReminderRule::Escalation {
                    addressees = task.monitoring_unit_id.iter().cloned().collect();
                    if rules.escalate_to_parent {
                        addressees.extend(task.parent_id.iter().cloned());
                    }
                }
                for unit in addressees {
                    let row = automatic(
                        &tenant,
                        &task.plan_id,
                        &unit,
                        rule,
                        subject.clone(),
                        occurrence.clone(),
                        vec![subject.clone()],
                    );
                    sent += usize::from(send(&mut tx, &who, row).await?);
                }
            }
        }
        sent += report_reminders(&mut tx, &who, today, &mut rules_by_plan).await?;
        store::commit(tx).await?;
    }
    Ok(sent)
}

/// Reminders of periodic reports due soon or missing, per issued plan with schedules.
async fn report_reminders(
    tx: &mut Tx,
    who: &Principal,
    today: chrono::NaiveDate,
    rules_by_plan: &mut BTreeMap<String, ReminderRules>,
) -> Result<usize, Error> {
    let tenant = who.tenant.clone();
    let mut sent = 0;
    let issued = plans::list(
        tx,
        &tenant,
        &plans::PlanQuery { state: Some("ISSUED".into()), ..Default::default() },
        None,
        10_000,
    )
    .await?;
    for plan in issued {
        if store::reports::schedules(tx, &tenant, &plan.plan_id).await?.is_empty() {
            continue;
        }
        let rules = match rules_by_plan.get(&plan.plan_id) {
            Some(rules) => *rules,
            None => rules_for(tx, &tenant, &plan.plan_id).await?,
        };
        // Periods whose cut-off has passed and that are not delivered: due soon if the
        // deadline is near, missing once it has passed.
        for owed in missing_in(tx, &tenant, &plan, today, None).await? {
            let days_left = (owed.deadline - today).num_days();
            let rule = if owed.days_late > 0 {
                if !rules.remind_missing_reports {
                    continue;
                }
                ReminderRule::ReportMissing
            } else if rules.report_days_before > 0 && days_left <= i64::from(rules.report_days_before) {
                ReminderRule::ReportDue
            } else {
                continue;
            };
            let subject = format!("plans/{}/reports?{}", plan.plan_id, owed.subject);
            let row = automatic(&tenant, &plan.plan_id, &owed.unit_id, rule, subject, owed.subject.clone(), vec![]);
            sent += usize::from(send(tx, who, row).await?);
        }
    }
    Ok(sent)
}

/// A manual reminder's content.
#[derive(Debug, Clone)]
pub struct ManualReminder {
    /// The plan.
    pub plan_id: String,
    /// The addressed unit.
    pub unit_id: String,
    /// The tasks it is about (task IDs within the plan).
    pub task_ids: Vec<String>,
    /// The formal letter's reference, if it is one.
    pub document_ref: String,
    /// The message.
    pub message: String,
}

/// Urges a unit (MONITOR, ADMIN): a manual reminder, with its audit record and event.
pub async fn create(
    svc: &Services,
    who: &Principal,
    input: ManualReminder,
    idem: Option<Idempotency>,
) -> Result<ReminderRow, Error> {
    require_role(who, &[Role::Admin, Role::Monitor], "CreateReminder")?;
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    if let Some(replay) = replay(&mut tx, who, "CreateReminder", idem.as_ref()).await? {
        return Ok(replay);
    }
    let plan = plans::get(&mut tx, &who.tenant, &input.plan_id, false)
        .await?
        .ok_or_else(|| not_found(super::plans::name(&input.plan_id)))?;
    if let (Role::Monitor, Some(unit)) = (who.role, &who.unit)
        && plan.monitoring_unit_id.as_deref() != Some(unit.as_str())
    {
        return Err(Error::PermissionDenied {
            reason: "NOT_RESPONSIBLE_UNIT",
            message: format!("CreateReminder is for the plan's monitoring unit; this key acts for units/{unit}"),
        });
    }
    refs::units_exist(&mut tx, &who.tenant, std::slice::from_ref(&input.unit_id)).await?;
    for task in &input.task_ids {
        if store::tasks::get(&mut tx, &who.tenant, &input.plan_id, task, false).await?.is_none() {
            return Err(not_found(super::tasks::name(&input.plan_id, task)));
        }
    }
    let id = resource_name::generate_id();
    let task_names: Vec<String> = input.task_ids.iter().map(|t| super::tasks::name(&input.plan_id, t)).collect();
    let row = ReminderRow {
        tenant_id: who.tenant.clone(),
        reminder_id: id.clone(),
        plan_id: input.plan_id.clone(),
        unit_id: input.unit_id,
        kind: "MANUAL".into(),
        rule: "MANUAL".into(),
        subject: task_names.first().cloned().unwrap_or_else(|| super::plans::name(&input.plan_id)),
        occurrence: id,
        task_names,
        document_ref: input.document_ref,
        message: input.message,
        state: "OPEN".into(),
        sender: who.actor(),
        acknowledge_time: None,
        create_time: svc.clock.now(),
    };
    let row = reminders::insert(&mut tx, &row)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("a fresh reminder ID collided")))?;
    let resource = name(&row.reminder_id);
    let write = Write {
        action: "CreateReminder",
        event_type: "reminder.created",
        resource: &resource,
        reason: None,
        before: None,
    };
    commit_write(tx, who, write, idem.as_ref(), row).await
}

/// The addressed unit (or ADMIN) acknowledges a reminder.
pub async fn acknowledge(svc: &Services, who: &Principal, id: &str) -> Result<ReminderRow, Error> {
    require_role(who, &[Role::Admin, Role::Unit], "AcknowledgeReminder")?;
    let resource = name(id);
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    let before = reminders::get(&mut tx, &who.tenant, id, true).await?.ok_or_else(|| not_found(&resource))?;
    if who.role == Role::Unit && who.unit.as_deref() != Some(before.unit_id.as_str()) {
        return Err(not_found(resource));
    }
    if before.state == "ACKNOWLEDGED" {
        return Ok(before);
    }
    let row = reminders::acknowledge(&mut tx, &who.tenant, id).await?;
    let change = Change {
        action: "AcknowledgeReminder",
        event_type: "reminder.acknowledged",
        resource: &resource,
        request_id: None,
        reason: None,
        before: Some(super::snapshot(&before)),
        after: Some(super::snapshot(&row)),
    };
    record_change(&mut tx, who, change).await?;
    store::commit(tx).await?;
    Ok(row)
}

/// One page of reminders (a UNIT key sees those addressed to its unit).
pub async fn list(
    svc: &Services,
    who: &Principal,
    mut query: ReminderQuery,
    scope_filter: &str,
    page_size: i64,
    page_token: &str,
) -> Result<(Vec<ReminderRow>, String), Error> {
    let scope = TokenScope { tenant: &who.tenant, method: "ListReminders", filter: scope_filter };
    let after: Option<String> = page_position(svc, scope, page_token)?;
    match super::own_unit_filter(who, query.unit.take()) {
        Some(unit) => query.unit = unit,
        None => return Ok((Vec::new(), String::new())),
    }
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    let rows = reminders::list(&mut tx, &who.tenant, &query, after.as_deref(), page_size + 1).await?;
    store::commit(tx).await?;
    Ok(page(svc, scope, rows, page_size, |row| row.reminder_id.clone()))
}
