//! Units: the directory of a province's agencies, departments and communes.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::{StoreError, like_pattern};

/// A unit as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct UnitRow {
    /// The owning tenant.
    pub tenant_id: String,
    /// The ID within the tenant.
    pub unit_id: String,
    /// The name, NFC.
    pub display_name: String,
    /// The short code.
    pub code: String,
    /// The kind's storage name.
    pub kind: String,
    /// The parent's ID.
    pub parent_id: Option<String>,
    /// The first day it exists.
    pub valid_from: NaiveDate,
    /// The first day it no longer exists.
    pub valid_to: Option<NaiveDate>,
    /// The successor's ID.
    pub successor_id: Option<String>,
    /// Bumped by every change; the etag.
    pub revision: i64,
    /// Creation time.
    pub create_time: DateTime<Utc>,
    /// Last change time.
    pub update_time: DateTime<Utc>,
}

const COLUMNS: &str = "tenant_id, unit_id, display_name, code, kind, parent_id, valid_from, valid_to, \
                       successor_id, revision, create_time, update_time";

/// The values of a new unit.
#[derive(Debug)]
pub struct NewUnit<'a> {
    /// The owning tenant.
    pub tenant_id: &'a str,
    /// The ID.
    pub unit_id: &'a str,
    /// The name.
    pub display_name: &'a str,
    /// The code.
    pub code: &'a str,
    /// The kind's storage name.
    pub kind: &'a str,
    /// The parent's ID.
    pub parent_id: Option<&'a str>,
    /// The first day it exists.
    pub valid_from: NaiveDate,
    /// The folded search text.
    pub search_text: &'a str,
}

/// Which of `ids` exist in `tenant`, with their `valid_to` (None while active).
pub async fn existing(
    conn: &mut PgConnection,
    tenant: &str,
    ids: &[String],
) -> Result<Vec<(String, Option<NaiveDate>)>, StoreError> {
    Ok(sqlx::query_as("select unit_id, valid_to from units where tenant_id = $1 and unit_id = any($2)")
        .bind(tenant)
        .bind(ids)
        .fetch_all(conn)
        .await?)
}

/// Inserts a unit.
pub async fn insert(conn: &mut PgConnection, unit: &NewUnit<'_>) -> Result<UnitRow, StoreError> {
    Ok(sqlx::query_as(&format!(
        "insert into units (tenant_id, unit_id, display_name, code, kind, parent_id, valid_from, search_text)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         returning {COLUMNS}"
    ))
    .bind(unit.tenant_id)
    .bind(unit.unit_id)
    .bind(unit.display_name)
    .bind(unit.code)
    .bind(unit.kind)
    .bind(unit.parent_id)
    .bind(unit.valid_from)
    .bind(unit.search_text)
    .fetch_one(conn)
    .await?)
}

/// The unit `unit_id` of `tenant`; with `lock`, locked until the transaction ends so a
/// read-check-write cannot lose a concurrent update.
pub async fn get(
    conn: &mut PgConnection,
    tenant: &str,
    unit_id: &str,
    lock: bool,
) -> Result<Option<UnitRow>, StoreError> {
    let lock = if lock { " for update" } else { "" };
    Ok(sqlx::query_as(&format!("select {COLUMNS} from units where tenant_id = $1 and unit_id = $2{lock}"))
        .bind(tenant)
        .bind(unit_id)
        .fetch_optional(conn)
        .await?)
}

/// `unit_id` followed by its ancestors up to the root.
pub async fn lineage(conn: &mut PgConnection, tenant: &str, unit_id: &str) -> Result<Vec<String>, StoreError> {
    // The depth bound stops the walk even if a cycle slipped in by hand-edited data.
    Ok(sqlx::query_scalar(
        "with recursive up (unit_id, parent_id, depth) as (
             select unit_id, parent_id, 0 from units where tenant_id = $1 and unit_id = $2
             union all
             select u.unit_id, u.parent_id, up.depth + 1
             from units u join up on u.tenant_id = $1 and u.unit_id = up.parent_id
             where up.depth < 1000
         )
         select unit_id from up order by depth",
    )
    .bind(tenant)
    .bind(unit_id)
    .fetch_all(conn)
    .await?)
}

/// The filter of a unit list, already validated.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct UnitQuery {
    /// `Some(None)`: roots only; `Some(Some(id))`: children of `id`.
    pub parent: Option<Option<String>>,
    /// Only units of these kinds' storage names (all must match).
    pub kind: Option<String>,
    /// Only this code.
    pub code: Option<String>,
    /// Only units active on this day.
    pub active_on: Option<NaiveDate>,
    /// Only units whose folded search text contains each of these folded texts.
    pub texts: Vec<String>,
}

/// One page of units in ID order, after `after` when given.
pub async fn list(
    conn: &mut PgConnection,
    tenant: &str,
    query: &UnitQuery,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<UnitRow>, StoreError> {
    let mut sql = QueryBuilder::<Postgres>::new(format!("select {COLUMNS} from units where tenant_id = "));
    sql.push_bind(tenant);
    match &query.parent {
        Some(Some(parent)) => {
            sql.push(" and parent_id = ").push_bind(parent.clone());
        }
        Some(None) => {
            sql.push(" and parent_id is null");
        }
        None => {}
    }
    if let Some(kind) = &query.kind {
        sql.push(" and kind = ").push_bind(kind.clone());
    }
    if let Some(code) = &query.code {
        sql.push(" and code = ").push_bind(code.clone());
    }
    if let Some(day) = query.active_on {
        sql.push(" and valid_from <= ").push_bind(day);
        sql.push(" and (valid_to is null or valid_to > ").push_bind(day).push(")");
    }
    for text in &query.texts {
        sql.push(" and search_text like ").push_bind(like_pattern(text)).push(r" escape '\'");
    }
    if let Some(after) = after {
        sql.push(" and unit_id > ").push_bind(after.to_owned());
    }
    sql.push(" order by unit_id limit ").push_bind(limit);
    Ok(sql.build_query_as().fetch_all(conn).await?)
}

/// Writes the changeable fields of `unit` and bumps its revision.
pub async fn update(conn: &mut PgConnection, unit: &UnitRow, search_text: &str) -> Result<UnitRow, StoreError> {
    Ok(sqlx::query_as(&format!(
        "update units set display_name = $3, code = $4, kind = $5, parent_id = $6, valid_from = $7,
             valid_to = $8, successor_id = $9, search_text = $10,
             revision = revision + 1, update_time = now()
         where tenant_id = $1 and unit_id = $2
         returning {COLUMNS}"
    ))
    .bind(&unit.tenant_id)
    .bind(&unit.unit_id)
    .bind(&unit.display_name)
    .bind(&unit.code)
    .bind(&unit.kind)
    .bind(&unit.parent_id)
    .bind(unit.valid_from)
    .bind(unit.valid_to)
    .bind(&unit.successor_id)
    .bind(search_text)
    .fetch_one(conn)
    .await?)
}
