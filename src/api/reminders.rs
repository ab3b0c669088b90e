//! `followup.v1.ReminderService`.

use tonic::{Request, Response, Status};

use super::convert::{Violations, idempotency, mask_paths, principal, timestamp};
use super::filter_terms::FilterTerms;
use super::proto::followup::v1 as pb;
use crate::domain::document_ref::DocumentRef;
use crate::domain::reminder::ReminderRules;
use crate::domain::resource_name;
use crate::domain::text;
use crate::error::Error;
use crate::service::reminders::{self, ManualReminder, ReminderQuery, ReminderRow};
use crate::service::{self, Services};

/// The longest reminder message.
const MAX_MESSAGE: usize = 5000;

/// Serves ReminderService.
#[derive(Debug, Clone)]
pub struct ReminderApi {
    services: Services,
}

impl ReminderApi {
    /// A ReminderService backed by `services`.
    pub fn new(services: Services) -> Self {
        Self { services }
    }
}

/// `Some(plan)` for `plans/{plan}/reminderRules`, `None` for `reminderRules`.
fn rules_owner(name: &str) -> Result<Option<String>, Error> {
    if name == "reminderRules" {
        return Ok(None);
    }
    name.strip_suffix("/reminderRules")
        .and_then(|plan| resource_name::parse("plans", plan).ok())
        .map(Some)
        .ok_or_else(|| Error::invalid("name", "must be plans/{plan}/reminderRules or reminderRules"))
}

fn rules_to_proto(name: String, r: ReminderRules) -> pb::ReminderRules {
    pb::ReminderRules {
        name,
        days_before: r.days_before,
        on_due_day: r.on_due_day,
        overdue_every_days: r.overdue_every_days,
        escalate_after_days: r.escalate_after_days,
        escalate_to_parent: r.escalate_to_parent,
        report_days_before: r.report_days_before,
        remind_missing_reports: r.remind_missing_reports,
    }
}

fn kind(kind: &str) -> pb::ReminderKind {
    match kind {
        "AUTOMATIC" => pb::ReminderKind::Automatic,
        "MANUAL" => pb::ReminderKind::Manual,
        "ESCALATION" => pb::ReminderKind::Escalation,
        _ => pb::ReminderKind::Unspecified,
    }
}

fn to_proto(row: ReminderRow) -> pb::Reminder {
    let period = if row.rule.starts_with("REPORT_") { row.occurrence.clone() } else { String::new() };
    pb::Reminder {
        name: reminders::name(&row.reminder_id),
        plan: resource_name::format("plans", &row.plan_id),
        unit: resource_name::format("units", &row.unit_id),
        kind: kind(&row.kind) as i32,
        rule: row.rule,
        tasks: row.task_names,
        period,
        document_ref: row.document_ref,
        message: row.message,
        state: if row.state == "ACKNOWLEDGED" { pb::ReminderState::Acknowledged } else { pb::ReminderState::Open }
            as i32,
        sender: row.sender,
        create_time: Some(timestamp(row.create_time)),
        acknowledge_time: row.acknowledge_time.map(timestamp),
    }
}

fn reminder_query(filter: &str) -> Result<ReminderQuery, Error> {
    let mut query = ReminderQuery::default();
    let mut terms = FilterTerms::parse(filter)?;
    if !terms.texts().is_empty() {
        return Err(Error::invalid("filter", "ListReminders has no text search; filter by plan, unit, state or kind"));
    }
    while let Some(term) = terms.next_comparison() {
        match term.field.as_str() {
            "plan" => query.plan = Some(term.id_eq("plans")?),
            "unit" => query.unit = Some(term.id_eq("units")?),
            "state" => {
                let state = term.enum_eq("ReminderState", |name| match pb::ReminderState::from_str_name(name)? {
                    pb::ReminderState::Open => Some("OPEN"),
                    pb::ReminderState::Acknowledged => Some("ACKNOWLEDGED"),
                    pb::ReminderState::Unspecified => None,
                })?;
                query.state = Some(state.to_owned());
            }
            "kind" => {
                let kind = term.enum_eq("ReminderKind", |name| match pb::ReminderKind::from_str_name(name)? {
                    pb::ReminderKind::Automatic => Some("AUTOMATIC"),
                    pb::ReminderKind::Manual => Some("MANUAL"),
                    pb::ReminderKind::Escalation => Some("ESCALATION"),
                    pb::ReminderKind::Unspecified => None,
                })?;
                query.kind = Some(kind.to_owned());
            }
            _ => return Err(term.unknown(&["plan", "unit", "state", "kind"])),
        }
    }
    Ok(query)
}

/// The most tasks one reminder may name.
const MAX_REMINDER_TASKS: usize = 500;

#[tonic::async_trait]
impl pb::reminder_service_server::ReminderService for ReminderApi {
    async fn get_reminder_rules(
        &self,
        request: Request<pb::GetReminderRulesRequest>,
    ) -> Result<Response<pb::ReminderRules>, Status> {
        let who = principal(&request)?;
        let name = request.into_inner().name;
        let plan = rules_owner(&name)?;
        let rules = reminders::get_rules(&self.services, &who, plan.as_deref()).await?;
        Ok(Response::new(rules_to_proto(name, rules)))
    }

    async fn update_reminder_rules(
        &self,
        request: Request<pb::UpdateReminderRulesRequest>,
    ) -> Result<Response<pb::ReminderRules>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let new = req.reminder_rules.unwrap_or_default();
        let plan = rules_owner(&new.name)?;
        let paths = mask_paths(req.update_mask, "days_before")?;
        let mut v = Violations::default();
        let in_range = |v: &mut Violations, field: &str, value: i32, max: i32| {
            if !(0..=max).contains(&value) {
                v.add(&format!("reminder_rules.{field}"), format!("must be from 0 to {max}"));
            }
        };
        for path in &paths {
            match path.as_str() {
                "days_before" => in_range(&mut v, path, new.days_before, 365),
                "overdue_every_days" => in_range(&mut v, path, new.overdue_every_days, 365),
                "escalate_after_days" => in_range(&mut v, path, new.escalate_after_days, 3650),
                "report_days_before" => in_range(&mut v, path, new.report_days_before, 365),
                "on_due_day" | "escalate_to_parent" | "remind_missing_reports" => {}
                other => v.add("update_mask", format!("{other:?} is not a field of ReminderRules")),
            }
        }
        v.finish()?;
        let rules = reminders::set_rules(&self.services, &who, plan.as_deref(), |mut r| {
            for path in &paths {
                match path.as_str() {
                    "days_before" => r.days_before = new.days_before,
                    "on_due_day" => r.on_due_day = new.on_due_day,
                    "overdue_every_days" => r.overdue_every_days = new.overdue_every_days,
                    "escalate_after_days" => r.escalate_after_days = new.escalate_after_days,
                    "escalate_to_parent" => r.escalate_to_parent = new.escalate_to_parent,
                    "report_days_before" => r.report_days_before = new.report_days_before,
                    "remind_missing_reports" => r.remind_missing_reports = new.remind_missing_reports,
                    _ => {}
                }
            }
            r
        })
        .await?;
        Ok(Response::new(rules_to_proto(new.name, rules)))
    }

    async fn create_reminder(
        &self,
        request: Request<pb::CreateReminderRequest>,
    ) -> Result<Response<pb::Reminder>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let idem = v.check("request_id", idempotency(&req.request_id, &req)).flatten();
        let r = req.reminder.clone().unwrap_or_default();
        let plan = v.check("reminder.plan", resource_name::parse("plans", &r.plan));
        let unit = v.check("reminder.unit", resource_name::parse("units", &r.unit));
        v.at_most("reminder.tasks", r.tasks.len(), MAX_REMINDER_TASKS);
        let mut task_ids = Vec::new();
        for (i, task) in r.tasks.iter().enumerate().take(MAX_REMINDER_TASKS) {
            match resource_name::parse_nested("plans", "tasks", task) {
                Ok((p, t)) if Some(&p) == plan.as_ref() => task_ids.push(t),
                Ok(_) => v.add(&format!("reminder.tasks[{i}]"), "must be a task of the reminder's plan"),
                Err(e) => v.add(&format!("reminder.tasks[{i}]"), e),
            }
        }
        let document_ref = if r.document_ref.trim().is_empty() {
            Some(String::new())
        } else {
            v.check("reminder.document_ref", DocumentRef::parse(&r.document_ref)).map(|d| d.as_str().to_owned())
        };
        let message = v.check("reminder.message", text::multi_line(&r.message, MAX_MESSAGE, true));
        let input = v.finish_with((|| {
            Some(ManualReminder {
                plan_id: plan?,
                unit_id: unit?,
                task_ids,
                document_ref: document_ref?,
                message: message?,
            })
        })())?;
        Ok(Response::new(to_proto(reminders::create(&self.services, &who, input, idem).await?)))
    }

    async fn list_reminders(
        &self,
        request: Request<pb::ListRemindersRequest>,
    ) -> Result<Response<pb::ListRemindersResponse>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let page_size = service::page_size(req.page_size)?;
        let query = reminder_query(&req.filter)?;
        let (rows, next_page_token) =
            reminders::list(&self.services, &who, query, &req.filter, page_size, &req.page_token).await?;
        Ok(Response::new(pb::ListRemindersResponse {
            reminders: rows.into_iter().map(to_proto).collect(),
            next_page_token,
        }))
    }

    async fn acknowledge_reminder(
        &self,
        request: Request<pb::AcknowledgeReminderRequest>,
    ) -> Result<Response<pb::Reminder>, Status> {
        let who = principal(&request)?;
        let id = resource_name::parse("reminders", &request.get_ref().name).map_err(|e| Error::invalid("name", e))?;
        Ok(Response::new(to_proto(reminders::acknowledge(&self.services, &who, &id).await?)))
    }
}
