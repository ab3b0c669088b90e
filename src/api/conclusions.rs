//! `followup.v1.ConclusionService`.

use tonic::{Request, Response, Status};

use super::convert::{
    MAX_NAME, Violations, chosen_id, date, date_to_proto, idempotency, ids, long_text, mask_paths, optional_id,
    principal, required_date, timestamp, title,
};
use super::filter_terms::{FilterTerms, date_bound};
use super::proto::followup::v1 as pb;
use crate::domain::document_ref::DocumentRef;
use crate::domain::resource_name;
use crate::domain::text;
use crate::error::Error;
use crate::service::conclusions::{self, ConclusionInput, ConclusionQuery, ConclusionRow};
use crate::service::{self, Services, etag};

/// The most units one conclusion lists as inspected.
const MAX_INSPECTED: usize = 200;

/// Serves ConclusionService.
#[derive(Debug, Clone)]
pub struct ConclusionApi {
    services: Services,
}

impl ConclusionApi {
    /// A ConclusionService backed by `services`.
    pub fn new(services: Services) -> Self {
        Self { services }
    }
}

fn unit_name(id: &str) -> String {
    resource_name::format("units", id)
}

fn to_proto(row: ConclusionRow) -> pb::Conclusion {
    let publication = (!row.publication_place.is_empty() || row.publication_date.is_some()).then(|| pb::Publication {
        place: row.publication_place.clone(),
        start_date: row.publication_date.map(date_to_proto),
    });
    pb::Conclusion {
        name: conclusions::name(&row.conclusion_id),
        document_ref: row.document_ref,
        issuing_body: row.issuing_body,
        issuing_unit: row.issuing_unit_id.as_deref().map(unit_name).unwrap_or_default(),
        signed_date: Some(date_to_proto(row.signed_date)),
        title: row.title,
        summary: row.summary,
        inspected_units: row.inspected_unit_ids.iter().map(|id| unit_name(id)).collect(),
        publication,
        etag: etag(row.revision),
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
    }
}

/// The fields of a request's conclusion that a mask names, each checked.
#[derive(Default)]
struct Fields {
    document_ref: Option<DocumentRef>,
    issuing_body: Option<String>,
    issuing_unit_id: Option<Option<String>>,
    signed_date: Option<chrono::NaiveDate>,
    title: Option<String>,
    summary: Option<String>,
    inspected_unit_ids: Option<Vec<String>>,
    publication: Option<(String, Option<chrono::NaiveDate>)>,
}

const PATHS: [&str; 8] = [
    "document_ref",
    "issuing_body",
    "issuing_unit",
    "signed_date",
    "title",
    "summary",
    "inspected_units",
    "publication",
];

fn fields(v: &mut Violations, c: &pb::Conclusion, paths: &[String]) -> Fields {
    let mut f = Fields::default();
    for path in paths {
        let field = format!("conclusion.{path}");
        match path.as_str() {
            "document_ref" => f.document_ref = v.check(&field, DocumentRef::parse(&c.document_ref)),
            "issuing_body" => f.issuing_body = v.check(&field, text::single_line(&c.issuing_body, MAX_NAME, false)),
            "issuing_unit" => f.issuing_unit_id = v.check(&field, optional_id("units", &c.issuing_unit)),
            "signed_date" => f.signed_date = v.check(&field, required_date(c.signed_date.as_ref())),
            "title" => f.title = v.check(&field, title(&c.title)),
            "summary" => f.summary = v.check(&field, long_text(&c.summary)),
            "inspected_units" => f.inspected_unit_ids = ids(v, &field, "units", &c.inspected_units, MAX_INSPECTED),
            "publication" => {
                let publication = c.publication.clone().unwrap_or_default();
                let place =
                    v.check("conclusion.publication.place", text::single_line(&publication.place, MAX_NAME, false));
                let start = v.check("conclusion.publication.start_date", date(publication.start_date.as_ref()));
                f.publication = place.zip(start);
            }
            other => v.add("update_mask", format!("{other:?} cannot be updated; allowed: {}", PATHS.join(", "))),
        }
    }
    f
}

impl Fields {
    fn apply(self, mut input: ConclusionInput) -> ConclusionInput {
        if let Some(x) = self.document_ref {
            input.document_ref = x;
        }
        if let Some(x) = self.issuing_body {
            input.issuing_body = x;
        }
        if let Some(x) = self.issuing_unit_id {
            input.issuing_unit_id = x;
        }
        if let Some(x) = self.signed_date {
            input.signed_date = x;
        }
        if let Some(x) = self.title {
            input.title = x;
        }
        if let Some(x) = self.summary {
            input.summary = x;
        }
        if let Some(x) = self.inspected_unit_ids {
            input.inspected_unit_ids = x;
        }
        if let Some((place, start)) = self.publication {
            input.publication_place = place;
            input.publication_date = start;
        }
        input
    }

    fn into_input(self) -> Option<ConclusionInput> {
        let input = ConclusionInput {
            document_ref: self.document_ref.clone()?,
            issuing_body: String::new(),
            issuing_unit_id: None,
            signed_date: self.signed_date?,
            title: String::new(),
            summary: String::new(),
            inspected_unit_ids: Vec::new(),
            publication_place: String::new(),
            publication_date: None,
        };
        Some(self.apply(input))
    }
}

fn conclusion_query(filter: &str) -> Result<ConclusionQuery, Error> {
    let mut query = ConclusionQuery::default();
    let mut terms = FilterTerms::parse(filter)?;
    query.texts = terms.texts();
    while let Some(term) = terms.next_comparison() {
        match term.field.as_str() {
            "document_ref" => query.document_ref = Some(text::normalize(&term.string_eq()?)),
            "inspected_unit" => query.inspected_unit = Some(term.id_eq("units")?),
            "signed_date" => date_bound(&term, &mut query.signed_from, &mut query.signed_to)?,
            _ => return Err(term.unknown(&["document_ref", "inspected_unit", "signed_date"])),
        }
    }
    Ok(query)
}

#[tonic::async_trait]
impl pb::conclusion_service_server::ConclusionService for ConclusionApi {
    async fn create_conclusion(
        &self,
        request: Request<pb::CreateConclusionRequest>,
    ) -> Result<Response<pb::Conclusion>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let idem = v.check("request_id", idempotency(&req.request_id, &req)).flatten();
        let id = v.check("conclusion_id", chosen_id(&req.conclusion_id)).flatten();
        let Some(conclusion) = req.conclusion.as_ref() else {
            return Err(Error::invalid("conclusion", "is required").into());
        };
        let all: Vec<String> = PATHS.iter().map(|p| p.to_string()).collect();
        let fields = fields(&mut v, conclusion, &all);
        let input = v.finish_with(fields.into_input())?;
        let row = conclusions::create(&self.services, &who, id, input, idem).await?;
        Ok(Response::new(to_proto(row)))
    }

    async fn get_conclusion(
        &self,
        request: Request<pb::GetConclusionRequest>,
    ) -> Result<Response<pb::Conclusion>, Status> {
        let who = principal(&request)?;
        let id = resource_name::parse("conclusions", &request.get_ref().name).map_err(|e| Error::invalid("name", e))?;
        Ok(Response::new(to_proto(conclusions::get(&self.services, &who, &id).await?)))
    }

    async fn list_conclusions(
        &self,
        request: Request<pb::ListConclusionsRequest>,
    ) -> Result<Response<pb::ListConclusionsResponse>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let page_size = service::page_size(req.page_size)?;
        let query = conclusion_query(&req.filter)?;
        let (rows, next_page_token) =
            conclusions::list(&self.services, &who, &query, &req.filter, page_size, &req.page_token).await?;
        Ok(Response::new(pb::ListConclusionsResponse {
            conclusions: rows.into_iter().map(to_proto).collect(),
            next_page_token,
        }))
    }

    async fn update_conclusion(
        &self,
        request: Request<pb::UpdateConclusionRequest>,
    ) -> Result<Response<pb::Conclusion>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let Some(conclusion) = req.conclusion else {
            return Err(Error::invalid("conclusion", "is required").into());
        };
        let id =
            resource_name::parse("conclusions", &conclusion.name).map_err(|e| Error::invalid("conclusion.name", e))?;
        let paths = mask_paths(req.update_mask, "title")?;
        let mut v = Violations::default();
        let fields = fields(&mut v, &conclusion, &paths);
        v.finish()?;
        let row = conclusions::update(&self.services, &who, &id, &conclusion.etag, |input| fields.apply(input)).await?;
        Ok(Response::new(to_proto(row)))
    }
}
