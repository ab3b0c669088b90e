//! `followup.v1.ReportScheduleService`.

use chrono::NaiveDate;
use tonic::{Request, Response, Status};

use super::convert::{
    Violations, chosen_id, date, date_to_proto, idempotency, ids, plan_id, principal, required_date, timestamp, title,
};
use super::proto::followup::v1 as pb;
use crate::domain::period::PeriodKind;
use crate::domain::resource_name;
use crate::error::Error;
use crate::service::Services;
use crate::service::schedules::{self, RequestInput, RequestRow, ScheduleInput, ScheduleRow};

/// The most units one schedule or request names.
const MAX_UNITS: usize = 500;

/// Serves ReportScheduleService.
#[derive(Debug, Clone)]
pub struct ScheduleApi {
    services: Services,
}

impl ScheduleApi {
    /// A ReportScheduleService backed by `services`.
    pub fn new(services: Services) -> Self {
        Self { services }
    }
}

/// A period kind from its protobuf value.
pub fn kind_from_proto(value: i32) -> Result<PeriodKind, String> {
    Ok(match pb::PeriodKind::try_from(value).map_err(|_| format!("{value} is not a PeriodKind value"))? {
        pb::PeriodKind::Unspecified => return Err("is required".into()),
        pb::PeriodKind::Month => PeriodKind::Month,
        pb::PeriodKind::Quarter => PeriodKind::Quarter,
        pb::PeriodKind::HalfYear => PeriodKind::HalfYear,
        pb::PeriodKind::NineMonths => PeriodKind::NineMonths,
        pb::PeriodKind::Year => PeriodKind::Year,
    })
}

fn kind_to_proto(kind: Option<PeriodKind>) -> pb::PeriodKind {
    match kind {
        Some(PeriodKind::Month) => pb::PeriodKind::Month,
        Some(PeriodKind::Quarter) => pb::PeriodKind::Quarter,
        Some(PeriodKind::HalfYear) => pb::PeriodKind::HalfYear,
        Some(PeriodKind::NineMonths) => pb::PeriodKind::NineMonths,
        Some(PeriodKind::Year) => pb::PeriodKind::Year,
        None => pb::PeriodKind::Unspecified,
    }
}

fn unit_names(ids: &[String]) -> Vec<String> {
    ids.iter().map(|id| resource_name::format("units", id)).collect()
}

fn schedule_to_proto(row: ScheduleRow) -> pb::ReportSchedule {
    pb::ReportSchedule {
        name: schedules::schedule_name(&row.plan_id, &row.schedule_id),
        period_kind: kind_to_proto(PeriodKind::from_db(&row.period_kind)) as i32,
        units: unit_names(&row.unit_ids),
        deadline_working_days: row.deadline_working_days,
        nine_months_end: row.nine_months_end.map(date_to_proto),
        create_time: Some(timestamp(row.create_time)),
    }
}

fn request_to_proto(row: RequestRow) -> pb::ReportRequest {
    pb::ReportRequest {
        name: schedules::request_name(&row.plan_id, &row.request_id),
        title: row.title,
        units: unit_names(&row.unit_ids),
        due_date: Some(date_to_proto(row.due_date)),
        urgent: row.urgent,
        create_time: Some(timestamp(row.create_time)),
    }
}

#[tonic::async_trait]
impl pb::report_schedule_service_server::ReportScheduleService for ScheduleApi {
    async fn create_report_schedule(
        &self,
        request: Request<pb::CreateReportScheduleRequest>,
    ) -> Result<Response<pb::ReportSchedule>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let idem = v.check("request_id", idempotency(&req.request_id, &req)).flatten();
        let plan = v.check("parent", resource_name::parse("plans", &req.parent));
        let id = v.check("report_schedule_id", chosen_id(&req.report_schedule_id)).flatten();
        let s = req.report_schedule.clone().unwrap_or_default();
        let kind = v.check("report_schedule.period_kind", kind_from_proto(s.period_kind));
        let units = ids(&mut v, "report_schedule.units", "units", &s.units, MAX_UNITS);
        if !(1..=60).contains(&s.deadline_working_days) {
            v.add(
                "report_schedule.deadline_working_days",
                "must be from 1 to 60 (Decree 09/2019 requires at least one)",
            );
        }
        let nine = v.check("report_schedule.nine_months_end", date(s.nine_months_end.as_ref()));
        let (plan, input) = v.finish_with((|| {
            Some((
                plan?,
                ScheduleInput {
                    period_kind: kind?,
                    unit_ids: units?,
                    deadline_working_days: s.deadline_working_days,
                    nine_months_end: nine?,
                },
            ))
        })())?;
        let row = schedules::create_schedule(&self.services, &who, &plan, id, input, idem).await?;
        Ok(Response::new(schedule_to_proto(row)))
    }

    async fn list_report_schedules(
        &self,
        request: Request<pb::ListReportSchedulesRequest>,
    ) -> Result<Response<pb::ListReportSchedulesResponse>, Status> {
        let who = principal(&request)?;
        let plan = plan_id("parent", &request.get_ref().parent)?;
        let rows = schedules::list_schedules(&self.services, &who, &plan).await?;
        Ok(Response::new(pb::ListReportSchedulesResponse {
            report_schedules: rows.into_iter().map(schedule_to_proto).collect(),
        }))
    }

    async fn delete_report_schedule(
        &self,
        request: Request<pb::DeleteReportScheduleRequest>,
    ) -> Result<Response<()>, Status> {
        let who = principal(&request)?;
        let (plan, id) = resource_name::parse_nested("plans", "reportSchedules", &request.get_ref().name)
            .map_err(|e| Error::invalid("name", e))?;
        schedules::delete_schedule(&self.services, &who, &plan, &id).await?;
        Ok(Response::new(()))
    }

    async fn create_report_request(
        &self,
        request: Request<pb::CreateReportRequestRequest>,
    ) -> Result<Response<pb::ReportRequest>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let idem = v.check("request_id", idempotency(&req.request_id, &req)).flatten();
        let plan = v.check("parent", resource_name::parse("plans", &req.parent));
        let id = v.check("report_request_id", chosen_id(&req.report_request_id)).flatten();
        let r = req.report_request.clone().unwrap_or_default();
        let title = v.check("report_request.title", title(&r.title));
        let units = ids(&mut v, "report_request.units", "units", &r.units, MAX_UNITS);
        let due: Option<NaiveDate> = v.check("report_request.due_date", required_date(r.due_date.as_ref()));
        let (plan, input) = v.finish_with((|| {
            Some((plan?, RequestInput { title: title?, unit_ids: units?, due_date: due?, urgent: r.urgent }))
        })())?;
        let row = schedules::create_request(&self.services, &who, &plan, id, input, idem).await?;
        Ok(Response::new(request_to_proto(row)))
    }

    async fn list_report_requests(
        &self,
        request: Request<pb::ListReportRequestsRequest>,
    ) -> Result<Response<pb::ListReportRequestsResponse>, Status> {
        let who = principal(&request)?;
        let plan = plan_id("parent", &request.get_ref().parent)?;
        let rows = schedules::list_requests(&self.services, &who, &plan).await?;
        Ok(Response::new(pb::ListReportRequestsResponse {
            report_requests: rows.into_iter().map(request_to_proto).collect(),
        }))
    }
}
