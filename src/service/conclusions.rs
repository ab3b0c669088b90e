//! Conclusion use cases.

use chrono::{Datelike, NaiveDate};

use super::{
    Idempotency, Services, Write, check_etag, commit_write, not_found, page, page_position, refs, replay, require_role,
    snapshot,
};
use crate::auth::principal::{Principal, Role};
use crate::domain::document_ref::DocumentRef;
use crate::domain::page_token::TokenScope;
use crate::domain::resource_name;
use crate::domain::text::fold_for_search;
use crate::error::Error;
use crate::store::{self, conclusions};

pub use conclusions::{ConclusionQuery, ConclusionRow};

/// Who may record and change conclusions.
const WRITERS: &[Role] = &[Role::Admin];

/// A validated conclusion.
#[derive(Debug, Clone)]
pub struct ConclusionInput {
    /// The document reference.
    pub document_ref: DocumentRef,
    /// The issuing body's name (may be empty when `issuing_unit_id` is set).
    pub issuing_body: String,
    /// The issuing unit.
    pub issuing_unit_id: Option<String>,
    /// The signing day.
    pub signed_date: NaiveDate,
    /// The title.
    pub title: String,
    /// The summary.
    pub summary: String,
    /// The inspected units.
    pub inspected_unit_ids: Vec<String>,
    /// Where it was published.
    pub publication_place: String,
    /// From when.
    pub publication_date: Option<NaiveDate>,
}

/// The resource name of a conclusion.
pub fn name(id: &str) -> String {
    resource_name::format("conclusions", id)
}

fn search_text(row: &ConclusionRow) -> String {
    fold_for_search(&format!("{} {} {}", row.document_ref, row.issuing_body, row.title))
}

/// Writes `input` over `row`: the reference's year and issuer decide its uniqueness.
fn apply(row: &mut ConclusionRow, input: ConclusionInput) {
    row.document_year = input.document_ref.year().unwrap_or(input.signed_date.year());
    row.issuer_key = match &input.issuing_unit_id {
        Some(unit) => format!("units/{unit}"),
        None => fold_for_search(&input.issuing_body),
    };
    row.document_ref = input.document_ref.as_str().to_owned();
    row.issuing_body = input.issuing_body;
    row.issuing_unit_id = input.issuing_unit_id;
    row.signed_date = input.signed_date;
    row.title = input.title;
    row.summary = input.summary;
    row.inspected_unit_ids = input.inspected_unit_ids;
    row.publication_place = input.publication_place;
    row.publication_date = input.publication_date;
}

/// The current values of a row as input, for updates that change a few fields.
pub fn input_of(row: &ConclusionRow) -> Result<ConclusionInput, Error> {
    Ok(ConclusionInput {
        document_ref: DocumentRef::parse(&row.document_ref).map_err(|e| Error::Internal(e.into()))?,
        issuing_body: row.issuing_body.clone(),
        issuing_unit_id: row.issuing_unit_id.clone(),
        signed_date: row.signed_date,
        title: row.title.clone(),
        summary: row.summary.clone(),
        inspected_unit_ids: row.inspected_unit_ids.clone(),
        publication_place: row.publication_place.clone(),
        publication_date: row.publication_date,
    })
}

async fn check_refs(tx: &mut store::Tx, tenant: &str, input: &ConclusionInput) -> Result<(), Error> {
    if input.issuing_body.is_empty() && input.issuing_unit_id.is_none() {
        return Err(Error::invalid("conclusion.issuing_body", "is required unless issuing_unit is set"));
    }
    if let Some(unit) = &input.issuing_unit_id {
        refs::units_exist(tx, tenant, std::slice::from_ref(unit)).await?;
    }
    refs::units_exist(tx, tenant, &input.inspected_unit_ids).await
}

/// Records a conclusion (ADMIN).
pub async fn create(
    svc: &Services,
    who: &Principal,
    id: Option<String>,
    input: ConclusionInput,
    idem: Option<Idempotency>,
) -> Result<ConclusionRow, Error> {
    require_role(who, WRITERS, "CreateConclusion")?;
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    if let Some(replay) = replay(&mut tx, who, "CreateConclusion", idem.as_ref()).await? {
        return Ok(replay);
    }
    check_refs(&mut tx, &who.tenant, &input).await?;
    let now = svc.clock.now();
    let mut row = ConclusionRow {
        tenant_id: who.tenant.clone(),
        conclusion_id: id.unwrap_or_else(resource_name::generate_id),
        document_ref: String::new(),
        document_year: 0,
        issuer_key: String::new(),
        issuing_body: String::new(),
        issuing_unit_id: None,
        signed_date: input.signed_date,
        title: String::new(),
        summary: String::new(),
        inspected_unit_ids: Vec::new(),
        publication_place: String::new(),
        publication_date: None,
        revision: 1,
        create_time: now,
        update_time: now,
    };
    apply(&mut row, input);
    let row = conclusions::insert(&mut tx, &row, &search_text(&row)).await?;
    let resource = name(&row.conclusion_id);
    let write = Write {
        action: "CreateConclusion",
        event_type: "conclusion.created",
        resource: &resource,
        reason: None,
        before: None,
    };
    commit_write(tx, who, write, idem.as_ref(), row).await
}

/// Reads a conclusion (any role).
pub async fn get(svc: &Services, who: &Principal, id: &str) -> Result<ConclusionRow, Error> {
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    let row = conclusions::get(&mut tx, &who.tenant, id, false).await?;
    store::commit(tx).await?;
    row.ok_or_else(|| not_found(name(id)))
}

/// One page of conclusions (any role).
pub async fn list(
    svc: &Services,
    who: &Principal,
    query: &ConclusionQuery,
    filter: &str,
    page_size: i64,
    page_token: &str,
) -> Result<(Vec<ConclusionRow>, String), Error> {
    let scope = TokenScope { tenant: &who.tenant, method: "ListConclusions", filter };
    let after: Option<String> = page_position(svc, scope, page_token)?;
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    let rows = conclusions::list(&mut tx, &who.tenant, query, after.as_deref(), page_size + 1).await?;
    store::commit(tx).await?;
    Ok(page(svc, scope, rows, page_size, |row| row.conclusion_id.clone()))
}

/// Changes a conclusion (ADMIN): `change` turns the current values into the new ones.
pub async fn update(
    svc: &Services,
    who: &Principal,
    id: &str,
    etag: &str,
    change: impl FnOnce(ConclusionInput) -> ConclusionInput,
) -> Result<ConclusionRow, Error> {
    require_role(who, WRITERS, "UpdateConclusion")?;
    let resource = name(id);
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    let before = conclusions::get(&mut tx, &who.tenant, id, true).await?.ok_or_else(|| not_found(&resource))?;
    check_etag("conclusion.etag", etag, before.revision, &resource)?;
    let input = change(input_of(&before)?);
    check_refs(&mut tx, &who.tenant, &input).await?;
    let mut row = before.clone();
    apply(&mut row, input);
    let row = conclusions::update(&mut tx, &row, &search_text(&row)).await?;
    let write = Write {
        action: "UpdateConclusion",
        event_type: "conclusion.updated",
        resource: &resource,
        reason: None,
        before: Some(snapshot(&before)),
    };
    commit_write(tx, who, write, None, row).await
}
