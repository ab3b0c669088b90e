//! Checks that what a request refers to exists in the caller's tenant, so a name from
//! another province (or a typo) is refused as NOT_FOUND and never stored.

use chrono::NaiveDate;

use super::not_found;
use crate::error::Error;
use crate::store::{Tx, conclusions, units};

/// Every unit in `ids` exists.
pub async fn units_exist(tx: &mut Tx, tenant: &str, ids: &[String]) -> Result<(), Error> {
    if ids.is_empty() {
        return Ok(());
    }
    let found = units::existing(tx, tenant, ids).await?;
    match ids.iter().find(|id| !found.iter().any(|(f, _)| f == *id)) {
        Some(missing) => Err(not_found(units_name(missing))),
        None => Ok(()),
    }
}

/// `id` exists and is not dissolved on `day`: no new work goes to a unit that no
/// longer exists.
pub async fn unit_active(tx: &mut Tx, tenant: &str, id: &str, day: NaiveDate) -> Result<(), Error> {
    let found = units::existing(tx, tenant, &[id.to_owned()]).await?;
    match found.first() {
        None => Err(not_found(units_name(id))),
        Some((_, Some(valid_to))) if *valid_to <= day => Err(Error::FailedPrecondition {
            reason: "UNIT_DISSOLVED",
            message: format!(
                "{} was dissolved on {valid_to}; assign the work to the unit that exists now (its successor)",
                units_name(id)
            ),
        }),
        Some(_) => Ok(()),
    }
}

/// Every conclusion in `ids` exists.
pub async fn conclusions_exist(tx: &mut Tx, tenant: &str, ids: &[String]) -> Result<(), Error> {
    if ids.is_empty() {
        return Ok(());
    }
    let found = conclusions::existing(tx, tenant, ids).await?;
    match ids.iter().find(|id| !found.contains(id)) {
        Some(missing) => Err(not_found(format!("conclusions/{missing}"))),
        None => Ok(()),
    }
}

/// Every recommendation in `pairs` (conclusion ID, recommendation ID) exists.
pub async fn recommendations_exist(tx: &mut Tx, tenant: &str, pairs: &[(String, String)]) -> Result<(), Error> {
    if pairs.is_empty() {
        return Ok(());
    }
    let found = conclusions::existing_recommendations(tx, tenant, pairs).await?;
    match pairs.iter().find(|p| !found.contains(p)) {
        Some((c, r)) => Err(not_found(format!("conclusions/{c}/recommendations/{r}"))),
        None => Ok(()),
    }
}

fn units_name(id: &str) -> String {
    format!("units/{id}")
}
