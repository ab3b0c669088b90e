//! Holiday use cases, and the holiday calendar deadlines are counted on.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::{Services, Write, commit_write, not_found, require_role};
use crate::auth::principal::{Principal, Role};
use crate::error::Error;
use crate::store::{self, Tx, reports};

/// `holidays/{yyyy-mm-dd}`.
pub fn name(day: NaiveDate) -> String {
    format!("holidays/{}", day.format("%Y-%m-%d"))
}

/// The tenant's holidays from `from` until some 4 months after `to`: enough to count a
/// deadline of up to 60 working days from any day in between.
pub async fn calendar(tx: &mut Tx, tenant: &str, from: NaiveDate, to: NaiveDate) -> Result<BTreeSet<NaiveDate>, Error> {
    let to = to.checked_add_days(chrono::Days::new(130)).unwrap_or(NaiveDate::MAX);
    Ok(reports::holidays_between(tx, tenant, from, to).await?.into_iter().map(|(day, _)| day).collect())
}

/// Holidays of `year` (0: all), earliest first (any role).
pub async fn list(svc: &Services, who: &Principal, year: i32) -> Result<Vec<(NaiveDate, String)>, Error> {
    let (from, to) = if year == 0 {
        (NaiveDate::MIN, NaiveDate::MAX)
    } else {
        let start = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| Error::invalid("year", "is not a year"))?;
        let end = NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(|| Error::invalid("year", "is not a year"))?;
        (start, end)
    };
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    let days = reports::holidays_between(&mut tx, &who.tenant, from, to).await?;
    store::commit(tx).await?;
    Ok(days)
}

/// Adds or renames a holiday (ADMIN).
pub async fn create(
    svc: &Services,
    who: &Principal,
    day: NaiveDate,
    display_name: String,
) -> Result<(NaiveDate, String), Error> {
    require_role(who, &[Role::Admin], "CreateHoliday")?;
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    reports::upsert_holiday(&mut tx, &who.tenant, day, &display_name).await?;
    let resource = name(day);
    let write = Write {
        action: "CreateHoliday",
        event_type: "holiday.created",
        resource: &resource,
        reason: None,
        before: None,
    };
    commit_write(tx, who, write, None, (day, display_name)).await
}

/// Removes a holiday (ADMIN).
pub async fn delete(svc: &Services, who: &Principal, day: NaiveDate) -> Result<(), Error> {
    require_role(who, &[Role::Admin], "DeleteHoliday")?;
    let resource = name(day);
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    if !reports::delete_holiday(&mut tx, &who.tenant, day).await? {
        return Err(not_found(resource));
    }
    let write = Write {
        action: "DeleteHoliday",
        event_type: "holiday.deleted",
        resource: &resource,
        reason: None,
        before: None,
    };
    commit_write(tx, who, write, None, ()).await
}
