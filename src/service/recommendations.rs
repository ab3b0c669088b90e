//! Recommendation use cases: targets are typed in; status and achievement are derived
//! from the addressing tasks on every read.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sqlx::types::Json;

use super::{
    Change, Idempotency, Services, check_etag, not_found, page, page_position, record_change, refs, remember, replay,
    require_role, snapshot,
};
use crate::auth::principal::{Principal, Role};
use crate::domain::page_token::TokenScope;
use crate::domain::recommendation::{
    FigureProgress, Measure, RecommendationKind, RecommendationStatus, TaskOutcome, check_required, derive,
};
use crate::domain::resource_name;
use crate::domain::task::TaskState;
use crate::error::Error;
use crate::store::{self, conclusions};

pub use conclusions::{RecommendationQuery, RecommendationRow};

/// Who may write recommendations.
const WRITERS: &[Role] = &[Role::Admin];

/// A validated recommendation.
#[derive(Debug, Clone)]
pub struct RecommendationInput {
    /// What must be done.
    pub content: String,
    /// The kind.
    pub kind: RecommendationKind,
    /// The addressees.
    pub addressee_unit_ids: Vec<String>,
    /// The deadline.
    pub deadline: Option<NaiveDate>,
    /// Target figures as given (checked against the kind by the use case).
    pub required: Vec<(Measure, i64)>,
}

/// A recommendation with what is derived from its tasks.
#[derive(Debug, Clone)]
pub struct RecommendationView {
    /// The stored recommendation.
    pub row: RecommendationRow,
    /// Derived status.
    pub status: RecommendationStatus,
    /// Targets against achievement.
    pub progress: Vec<FigureProgress>,
}

/// `conclusions/{c}/recommendations/{r}`.
pub fn name(conclusion_id: &str, id: &str) -> String {
    format!("conclusions/{conclusion_id}/recommendations/{id}")
}

/// The storage name of a measure.
pub fn measure_key(measure: Measure) -> String {
    serde_json::to_value(measure).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn measure_of(key: &str) -> Option<Measure> {
    serde_json::from_value(serde_json::Value::String(key.to_owned())).ok()
}

fn required_of(row: &RecommendationRow) -> BTreeMap<Measure, i64> {
    row.required.0.iter().filter_map(|(k, v)| Some((measure_of(k)?, *v))).collect()
}

async fn views(
    tx: &mut store::Tx,
    tenant: &str,
    rows: Vec<RecommendationRow>,
) -> Result<Vec<RecommendationView>, Error> {
    let names: Vec<String> = rows.iter().map(|r| name(&r.conclusion_id, &r.recommendation_id)).collect();
    let tasks = conclusions::addressing_tasks(tx, tenant, &names).await?;
    Ok(rows
        .into_iter()
        .zip(names)
        .map(|(row, rec_name)| {
            let outcomes: Vec<TaskOutcome> = tasks
                .iter()
                .filter(|(rec, _, _)| *rec == rec_name)
                .filter_map(|(_, state, achieved)| {
                    Some(TaskOutcome {
                        state: TaskState::from_db(state)?,
                        achieved: achieved.0.iter().filter_map(|(k, v)| Some((measure_of(k)?, *v))).collect(),
                    })
                })
                .collect();
            let (status, progress) = derive(&required_of(&row), &outcomes);
            RecommendationView { row, status, progress }
        })
        .collect())
}

/// Views of every recommendation of the given conclusions: one query for the
/// recommendations and one for their tasks.
pub async fn views_of_conclusions(
    tx: &mut store::Tx,
    tenant: &str,
    conclusion_ids: &[String],
) -> Result<Vec<RecommendationView>, Error> {
    let rows = conclusions::recommendations_of(tx, tenant, conclusion_ids).await?;
    views(tx, tenant, rows).await
}

fn checked(input: &RecommendationInput) -> Result<Json<BTreeMap<String, i64>>, Error> {
    let required = check_required(input.kind, &input.required)
        .map_err(|e| Error::invalid(format!("recommendation.required[{}]", e.index()), e))?;
    Ok(Json(required.into_iter().map(|(m, v)| (measure_key(m), v)).collect()))
}

/// Adds a recommendation to a conclusion (ADMIN).
pub async fn create(
    svc: &Services,
    who: &Principal,
    conclusion_id: &str,
    id: Option<String>,
    input: RecommendationInput,
    idem: Option<Idempotency>,
) -> Result<RecommendationView, Error> {
    require_role(who, WRITERS, "CreateRecommendation")?;
    let required = checked(&input)?;
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    if let Some(replay) = replay::<RecommendationRow>(&mut tx, who, "CreateRecommendation", idem.as_ref()).await? {
        let view = views(&mut tx, &who.tenant, vec![replay]).await?;
        store::commit(tx).await?;
        return view.into_iter().next().ok_or_else(|| Error::Internal(anyhow::anyhow!("replay lost its row")));
    }
    conclusions::get(&mut tx, &who.tenant, conclusion_id, true)
        .await?
        .ok_or_else(|| not_found(super::conclusions::name(conclusion_id)))?;
    refs::units_exist(&mut tx, &who.tenant, &input.addressee_unit_ids).await?;
    let now = svc.clock.now();
    let row = RecommendationRow {
        tenant_id: who.tenant.clone(),
        conclusion_id: conclusion_id.to_owned(),
        recommendation_id: id.unwrap_or_else(resource_name::generate_id),
        content: input.content,
        kind: input.kind.as_str().to_owned(),
        addressee_unit_ids: input.addressee_unit_ids,
        deadline: input.deadline,
        required,
        revision: 1,
        create_time: now,
        update_time: now,
    };
    let row = conclusions::insert_recommendation(&mut tx, &row).await?;
    let resource = name(&row.conclusion_id, &row.recommendation_id);
    let event_type = if input.kind.flagged() { "recommendation.flagged" } else { "recommendation.created" };
    let change = Change {
        action: "CreateRecommendation",
        event_type,
        resource: &resource,
        request_id: idem.as_ref().map(|i| i.request_id),
        reason: None,
        before: None,
        after: Some(snapshot(&row)),
    };
    record_change(&mut tx, who, change).await?;
    remember(&mut tx, who, idem.as_ref(), &row).await?;
    let view = views(&mut tx, &who.tenant, vec![row]).await?;
    store::commit(tx).await?;
    view.into_iter().next().ok_or_else(|| Error::Internal(anyhow::anyhow!("view lost its row")))
}

/// Reads a recommendation with its derived status (any role).
pub async fn get(svc: &Services, who: &Principal, conclusion_id: &str, id: &str) -> Result<RecommendationView, Error> {
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    let row = conclusions::get_recommendation(&mut tx, &who.tenant, conclusion_id, id, false)
        .await?
        .ok_or_else(|| not_found(name(conclusion_id, id)))?;
    let view = views(&mut tx, &who.tenant, vec![row]).await?;
    store::commit(tx).await?;
    view.into_iter().next().ok_or_else(|| Error::Internal(anyhow::anyhow!("view lost its row")))
}

/// One page of a conclusion's recommendations (any role).
pub async fn list(
    svc: &Services,
    who: &Principal,
    conclusion_id: &str,
    query: &RecommendationQuery,
    filter: &str,
    page_size: i64,
    page_token: &str,
) -> Result<(Vec<RecommendationView>, String), Error> {
    let scope_filter = format!("{conclusion_id}\u{0}{filter}");
    let scope = TokenScope { tenant: &who.tenant, method: "ListRecommendations", filter: &scope_filter };
    let after: Option<String> = page_position(svc, scope, page_token)?;
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    if conclusions::get(&mut tx, &who.tenant, conclusion_id, false).await?.is_none() {
        return Err(not_found(super::conclusions::name(conclusion_id)));
    }
    let rows =
        conclusions::list_recommendations(&mut tx, &who.tenant, conclusion_id, query, after.as_deref(), page_size + 1)
            .await?;
    let (rows, token) = page(svc, scope, rows, page_size, |row| row.recommendation_id.clone());
    let views = views(&mut tx, &who.tenant, rows).await?;
    store::commit(tx).await?;
    Ok((views, token))
}

/// The current values of a recommendation as input.
pub fn input_of(row: &RecommendationRow) -> Result<RecommendationInput, Error> {
    Ok(RecommendationInput {
        content: row.content.clone(),
        kind: RecommendationKind::from_db(&row.kind)
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("unknown kind {:?} stored", row.kind)))?,
        addressee_unit_ids: row.addressee_unit_ids.clone(),
        deadline: row.deadline,
        required: required_of(row).into_iter().collect(),
    })
}

/// Changes a recommendation (ADMIN).
pub async fn update(
    svc: &Services,
    who: &Principal,
    conclusion_id: &str,
    id: &str,
    etag: &str,
    change: impl FnOnce(RecommendationInput) -> RecommendationInput,
) -> Result<RecommendationView, Error> {
    require_role(who, WRITERS, "UpdateRecommendation")?;
    let resource = name(conclusion_id, id);
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    let before = conclusions::get_recommendation(&mut tx, &who.tenant, conclusion_id, id, true)
        .await?
        .ok_or_else(|| not_found(&resource))?;
    check_etag("recommendation.etag", etag, before.revision, &resource)?;
    let input = change(input_of(&before)?);
    let required = checked(&input)?;
    refs::units_exist(&mut tx, &who.tenant, &input.addressee_unit_ids).await?;
    let mut row = before.clone();
    row.content = input.content;
    row.kind = input.kind.as_str().to_owned();
    row.addressee_unit_ids = input.addressee_unit_ids;
    row.deadline = input.deadline;
    row.required = required;
    let row = conclusions::update_recommendation(&mut tx, &row).await?;
    let change = Change {
        action: "UpdateRecommendation",
        event_type: "recommendation.updated",
        resource: &resource,
        request_id: None,
        reason: None,
        before: Some(snapshot(&before)),
        after: Some(snapshot(&row)),
    };
    record_change(&mut tx, who, change).await?;
    let view = views(&mut tx, &who.tenant, vec![row]).await?;
    store::commit(tx).await?;
    view.into_iter().next().ok_or_else(|| Error::Internal(anyhow::anyhow!("view lost its row")))
}
