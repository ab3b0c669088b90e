//! `followup.v1.HolidayService`.

use chrono::NaiveDate;
use tonic::{Request, Response, Status};

use super::convert::{MAX_NAME, date_to_proto, principal, required_date};
use super::proto::followup::v1 as pb;
use crate::domain::text;
use crate::error::Error;
use crate::service::{Services, holidays};

/// Serves HolidayService.
#[derive(Debug, Clone)]
pub struct HolidayApi {
    services: Services,
}

impl HolidayApi {
    /// A HolidayService backed by `services`.
    pub fn new(services: Services) -> Self {
        Self { services }
    }
}

fn to_proto((day, display_name): (NaiveDate, String)) -> pb::Holiday {
    pb::Holiday { name: holidays::name(day), day: Some(date_to_proto(day)), display_name }
}

#[tonic::async_trait]
impl pb::holiday_service_server::HolidayService for HolidayApi {
    async fn list_holidays(
        &self,
        request: Request<pb::ListHolidaysRequest>,
    ) -> Result<Response<pb::ListHolidaysResponse>, Status> {
        let who = principal(&request)?;
        let year = request.get_ref().year;
        if !(year == 0 || (1900..=9998).contains(&year)) {
            return Err(Error::invalid("year", "must be 0 (all) or a year from 1900 to 9998").into());
        }
        let days = holidays::list(&self.services, &who, year).await?;
        Ok(Response::new(pb::ListHolidaysResponse { holidays: days.into_iter().map(to_proto).collect() }))
    }

    async fn create_holiday(
        &self,
        request: Request<pb::CreateHolidayRequest>,
    ) -> Result<Response<pb::Holiday>, Status> {
        let who = principal(&request)?;
        let holiday = request.into_inner().holiday.unwrap_or_default();
        let mut v = super::convert::Violations::default();
        let day = v.check("holiday.day", required_date(holiday.day.as_ref()));
        let display_name = v.check("holiday.display_name", text::single_line(&holiday.display_name, MAX_NAME, true));
        let (day, display_name) = v.finish_with(day.zip(display_name))?;
        Ok(Response::new(to_proto(holidays::create(&self.services, &who, day, display_name).await?)))
    }

    async fn delete_holiday(&self, request: Request<pb::DeleteHolidayRequest>) -> Result<Response<()>, Status> {
        let who = principal(&request)?;
        let name = &request.get_ref().name;
        // chrono's parser forgives spaces and signed long years; a name is exactly one form.
        let day = name
            .strip_prefix("holidays/")
            .filter(|d| {
                d.len() == 10
                    && d.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() })
            })
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .ok_or_else(|| Error::invalid("name", "must be holidays/{yyyy-mm-dd}, e.g. holidays/2026-02-17"))?;
        holidays::delete(&self.services, &who, day).await?;
        Ok(Response::new(()))
    }
}
