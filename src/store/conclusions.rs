//! Conclusions and their recommendations.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::{StoreError, like_pattern};

/// A conclusion as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct ConclusionRow {
    /// The owning tenant.
    pub tenant_id: String,
    /// The ID.
    pub conclusion_id: String,
    /// The document reference, NFC.
    pub document_ref: String,
    /// The year the reference is unique in.
    pub document_year: i32,
    /// The issuer the reference is unique for.
    pub issuer_key: String,
    /// The issuing body's name.
    pub issuing_body: String,
    /// The issuing unit, when it is one of the tenant's.
    pub issuing_unit_id: Option<String>,
    /// The signing day.
    pub signed_date: NaiveDate,
    /// The title.
    pub title: String,
    /// The summary.
    pub summary: String,
    /// The inspected units' IDs.
    pub inspected_unit_ids: Vec<String>,
    /// Where it was published.
    pub publication_place: String,
    /// From when it was published.
    pub publication_date: Option<NaiveDate>,
    /// Bumped by every change.
    pub revision: i64,
    /// Creation time.
    pub create_time: DateTime<Utc>,
    /// Last change time.
    pub update_time: DateTime<Utc>,
}

const COLUMNS: &str = "tenant_id, conclusion_id, document_ref, document_year, issuer_key, issuing_body, issuing_unit_id, \
    signed_date, title, summary, inspected_unit_ids, publication_place, publication_date, revision, create_time, update_time";

/// Inserts `row` (its revision and times are set by the database).
pub async fn insert(
    conn: &mut PgConnection,
    row: &ConclusionRow,
    search_text: &str,
) -> Result<ConclusionRow, StoreError> {
    Ok(sqlx::query_as(&format!(
        "insert into conclusions (tenant_id, conclusion_id, document_ref, document_year, issuer_key, issuing_body,
             issuing_unit_id, signed_date, title, summary, inspected_unit_ids, publication_place, publication_date, search_text)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         returning {COLUMNS}"
    ))
    .bind(&row.tenant_id)
    .bind(&row.conclusion_id)
    .bind(&row.document_ref)
    .bind(row.document_year)
    .bind(&row.issuer_key)
    .bind(&row.issuing_body)
    .bind(&row.issuing_unit_id)
    .bind(row.signed_date)
    .bind(&row.title)
    .bind(&row.summary)
    .bind(&row.inspected_unit_ids)
    .bind(&row.publication_place)
    .bind(row.publication_date)
    .bind(search_text)
    .fetch_one(conn)
    .await?)
}

/// Writes the changeable fields of `row` and bumps its revision.
pub async fn update(
    conn: &mut PgConnection,
    row: &ConclusionRow,
    search_text: &str,
) -> Result<ConclusionRow, StoreError> {
    Ok(sqlx::query_as(&format!(
        "update conclusions set document_ref = $3, document_year = $4, issuer_key = $5, issuing_body = $6,
             issuing_unit_id = $7, signed_date = $8, title = $9, summary = $10, inspected_unit_ids = $11,
             publication_place = $12, publication_date = $13, search_text = $14,
             revision = revision + 1, update_time = now()
         where tenant_id = $1 and conclusion_id = $2
         returning {COLUMNS}"
    ))
    .bind(&row.tenant_id)
    .bind(&row.conclusion_id)
    .bind(&row.document_ref)
    .bind(row.document_year)
    .bind(&row.issuer_key)
    .bind(&row.issuing_body)
    .bind(&row.issuing_unit_id)
    .bind(row.signed_date)
    .bind(&row.title)
    .bind(&row.summary)
    .bind(&row.inspected_unit_ids)
    .bind(&row.publication_place)
    .bind(row.publication_date)
    .bind(search_text)
    .fetch_one(conn)
    .await?)
}

/// The conclusion `id`; with `lock`, locked until the transaction ends.
pub async fn get(
    conn: &mut PgConnection,
    tenant: &str,
    id: &str,
    lock: bool,
) -> Result<Option<ConclusionRow>, StoreError> {
    let lock = if lock { " for update" } else { "" };
    Ok(sqlx::query_as(&format!("select {COLUMNS} from conclusions where tenant_id = $1 and conclusion_id = $2{lock}"))
        .bind(tenant)
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// Which of `ids` exist in `tenant`.
pub async fn existing(conn: &mut PgConnection, tenant: &str, ids: &[String]) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar("select conclusion_id from conclusions where tenant_id = $1 and conclusion_id = any($2)")
        .bind(tenant)
        .bind(ids)
        .fetch_all(conn)
        .await?)
}

/// A validated conclusion filter.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ConclusionQuery {
    /// Only this reference.
    pub document_ref: Option<String>,
    /// Only conclusions that inspected this unit.
    pub inspected_unit: Option<String>,
    /// Signed on or after.
    pub signed_from: Option<NaiveDate>,
    /// Signed on or before.
    pub signed_to: Option<NaiveDate>,
    /// Folded texts that must all occur.
    pub texts: Vec<String>,
}

/// One page in ID order after `after`.
pub async fn list(
    conn: &mut PgConnection,
    tenant: &str,
    query: &ConclusionQuery,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<ConclusionRow>, StoreError> {
    let mut sql = QueryBuilder::<Postgres>::new(format!("select {COLUMNS} from conclusions where tenant_id = "));
    sql.push_bind(tenant.to_owned());
    if let Some(document_ref) = &query.document_ref {
        sql.push(" and document_ref = ").push_bind(document_ref.clone());
    }
    if let Some(unit) = &query.inspected_unit {
        sql.push(" and inspected_unit_ids @> array[").push_bind(unit.clone()).push("]::text[]");
    }
    if let Some(from) = query.signed_from {
        sql.push(" and signed_date >= ").push_bind(from);
    }
    if let Some(to) = query.signed_to {
        sql.push(" and signed_date <= ").push_bind(to);
    }
    for text in &query.texts {
        sql.push(" and search_text like ").push_bind(like_pattern(text)).push(r" escape '\'");
    }
    if let Some(after) = after {
        sql.push(" and conclusion_id > ").push_bind(after.to_owned());
    }
    sql.push(" order by conclusion_id limit ").push_bind(limit);
    Ok(sql.build_query_as().fetch_all(conn).await?)
}

/// A recommendation as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct RecommendationRow {
    /// The owning tenant.
    pub tenant_id: String,
    /// The conclusion's ID.
    pub conclusion_id: String,
    /// The ID within the conclusion.
    pub recommendation_id: String,
    /// What must be done.
    pub content: String,
    /// The kind's storage name.
    pub kind: String,
    /// The addressees' IDs.
    pub addressee_unit_ids: Vec<String>,
    /// The deadline.
    pub deadline: Option<NaiveDate>,
    /// Target figures by measure name.
    pub required: sqlx::types::Json<std::collections::BTreeMap<String, i64>>,
    /// Bumped by every change.
    pub revision: i64,
    /// Creation time.
    pub create_time: DateTime<Utc>,
    /// Last change time.
    pub update_time: DateTime<Utc>,
}

const REC_COLUMNS: &str = "tenant_id, conclusion_id, recommendation_id, content, kind, addressee_unit_ids, deadline, \
    required, revision, create_time, update_time";

/// Inserts a recommendation.
pub async fn insert_recommendation(
    conn: &mut PgConnection,
    row: &RecommendationRow,
) -> Result<RecommendationRow, StoreError> {
    Ok(sqlx::query_as(&format!(
        "insert into recommendations (tenant_id, conclusion_id, recommendation_id, content, kind, addressee_unit_ids,
             deadline, required)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         returning {REC_COLUMNS}"
    ))
    .bind(&row.tenant_id)
    .bind(&row.conclusion_id)
    .bind(&row.recommendation_id)
    .bind(&row.content)
    .bind(&row.kind)
    .bind(&row.addressee_unit_ids)
    .bind(row.deadline)
    .bind(&row.required)
    .fetch_one(conn)
    .await?)
}

/// Writes the changeable fields of a recommendation.
pub async fn update_recommendation(
    conn: &mut PgConnection,
    row: &RecommendationRow,
) -> Result<RecommendationRow, StoreError> {
    Ok(sqlx::query_as(&format!(
        "update recommendations set content = $4, kind = $5, addressee_unit_ids = $6, deadline = $7, required = $8,
             revision = revision + 1, update_time = now()
         where tenant_id = $1 and conclusion_id = $2 and recommendation_id = $3
         returning {REC_COLUMNS}"
    ))
    .bind(&row.tenant_id)
    .bind(&row.conclusion_id)
    .bind(&row.recommendation_id)
    .bind(&row.content)
    .bind(&row.kind)
    .bind(&row.addressee_unit_ids)
    .bind(row.deadline)
    .bind(&row.required)
    .fetch_one(conn)
    .await?)
}

/// One recommendation; with `lock`, locked until the transaction ends.
pub async fn get_recommendation(
    conn: &mut PgConnection,
    tenant: &str,
    conclusion_id: &str,
    id: &str,
    lock: bool,
) -> Result<Option<RecommendationRow>, StoreError> {
    let lock = if lock { " for update" } else { "" };
    Ok(sqlx::query_as(&format!(
        "select {REC_COLUMNS} from recommendations
         where tenant_id = $1 and conclusion_id = $2 and recommendation_id = $3{lock}"
    ))
    .bind(tenant)
    .bind(conclusion_id)
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Which of the (conclusion, recommendation) pairs exist, as `conclusion/recommendation`.
pub async fn existing_recommendations(
    conn: &mut PgConnection,
    tenant: &str,
    pairs: &[(String, String)],
) -> Result<Vec<(String, String)>, StoreError> {
    let (conclusions, ids): (Vec<String>, Vec<String>) = pairs.iter().cloned().unzip();
    Ok(sqlx::query_as(
        "select r.conclusion_id, r.recommendation_id
         from recommendations r join unnest($2::text[], $3::text[]) as p (c, r_id)
           on r.conclusion_id = p.c and r.recommendation_id = p.r_id
         where r.tenant_id = $1",
    )
    .bind(tenant)
    .bind(conclusions)
    .bind(ids)
    .fetch_all(conn)
    .await?)
}

/// The recommendations of the given conclusions, in name order.
pub async fn recommendations_of(
    conn: &mut PgConnection,
    tenant: &str,
    conclusion_ids: &[String],
) -> Result<Vec<RecommendationRow>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "select {REC_COLUMNS} from recommendations where tenant_id = $1 and conclusion_id = any($2)
         order by conclusion_id, recommendation_id"
    ))
    .bind(tenant)
    .bind(conclusion_ids)
    .fetch_all(conn)
    .await?)
}

/// A validated recommendation filter.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RecommendationQuery {
    /// Only this kind's storage name.
    pub kind: Option<String>,
    /// Only those addressed to this unit.
    pub addressee_unit: Option<String>,
}

/// One page of a conclusion's recommendations in ID order.
pub async fn list_recommendations(
    conn: &mut PgConnection,
    tenant: &str,
    conclusion_id: &str,
    query: &RecommendationQuery,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<RecommendationRow>, StoreError> {
    let mut sql =
        QueryBuilder::<Postgres>::new(format!("select {REC_COLUMNS} from recommendations where tenant_id = "));
    sql.push_bind(tenant.to_owned());
    sql.push(" and conclusion_id = ").push_bind(conclusion_id.to_owned());
    if let Some(kind) = &query.kind {
        sql.push(" and kind = ").push_bind(kind.clone());
    }
    if let Some(unit) = &query.addressee_unit {
        sql.push(" and addressee_unit_ids @> array[").push_bind(unit.clone()).push("]::text[]");
    }
    if let Some(after) = after {
        sql.push(" and recommendation_id > ").push_bind(after.to_owned());
    }
    sql.push(" order by recommendation_id limit ").push_bind(limit);
    Ok(sql.build_query_as().fetch_all(conn).await?)
}

/// What the status derivation needs of each task addressing any of `recommendations`
/// (names): the recommendation, the task's state and its achieved figures for it. One
/// query for a whole page of recommendations, through a function that can use the array
/// index where row-level security would not (migration 0006 says why).
pub async fn addressing_tasks(
    conn: &mut PgConnection,
    tenant: &str,
    recommendations: &[String],
) -> Result<Vec<(String, String, sqlx::types::Json<std::collections::BTreeMap<String, i64>>)>, StoreError> {
    Ok(sqlx::query_as("select recommendation, state, achieved from followup_addressing_tasks($1, $2)")
        .bind(tenant)
        .bind(recommendations)
        .fetch_all(conn)
        .await?)
}
