//! `followup.v1.RecommendationService`.

use tonic::{Request, Response, Status};

use super::convert::{Violations, chosen_id, date, date_to_proto, idempotency, ids, mask_paths, principal, timestamp};
use super::filter_terms::FilterTerms;
use super::proto::followup::v1 as pb;
use crate::domain::recommendation::{Measure, RecommendationKind, RecommendationStatus};
use crate::domain::resource_name;
use crate::domain::text;
use crate::error::Error;
use crate::service::recommendations::{self, RecommendationInput, RecommendationQuery, RecommendationView};
use crate::service::{self, Services, etag};

/// The most addressee units of one recommendation.
const MAX_ADDRESSEES: usize = 200;
/// The longest recommendation content.
const MAX_CONTENT: usize = 5000;

/// Serves RecommendationService.
#[derive(Debug, Clone)]
pub struct RecommendationApi {
    services: Services,
}

impl RecommendationApi {
    /// A RecommendationService backed by `services`.
    pub fn new(services: Services) -> Self {
        Self { services }
    }
}

/// A kind from its protobuf value.
pub fn kind_from_proto(value: i32) -> Result<RecommendationKind, String> {
    use RecommendationKind as K;
    use pb::RecommendationKind as P;
    Ok(match P::try_from(value).map_err(|_| format!("{value} is not a RecommendationKind value"))? {
        P::Unspecified => return Err("is required".into()),
        P::MoneyRecovery => K::MoneyRecovery,
        P::LandRecovery => K::LandRecovery,
        P::RemovalFromSettlement => K::RemovalFromSettlement,
        P::AdministrativeHandling => K::AdministrativeHandling,
        P::DisciplinaryHandling => K::DisciplinaryHandling,
        P::SelfCriticismReview => K::SelfCriticismReview,
        P::Fines => K::Fines,
        P::AmendRegulation => K::AmendRegulation,
        P::TransferToInvestigation => K::TransferToInvestigation,
        P::Other => K::Other,
    })
}

fn kind_to_proto(kind: RecommendationKind) -> pb::RecommendationKind {
    use RecommendationKind as K;
    use pb::RecommendationKind as P;
    match kind {
        K::MoneyRecovery => P::MoneyRecovery,
        K::LandRecovery => P::LandRecovery,
        K::RemovalFromSettlement => P::RemovalFromSettlement,
        K::AdministrativeHandling => P::AdministrativeHandling,
        K::DisciplinaryHandling => P::DisciplinaryHandling,
        K::SelfCriticismReview => P::SelfCriticismReview,
        K::Fines => P::Fines,
        K::AmendRegulation => P::AmendRegulation,
        K::TransferToInvestigation => P::TransferToInvestigation,
        K::Other => P::Other,
    }
}

/// A measure from its protobuf value.
pub fn measure_from_proto(value: i32) -> Result<Measure, String> {
    use pb::Measure as P;
    Ok(match P::try_from(value).map_err(|_| format!("{value} is not a Measure value"))? {
        P::Unspecified => return Err("is required".into()),
        P::Dong => Measure::Dong,
        P::SquareMetre => Measure::SquareMetre,
        P::Organisations => Measure::Organisations,
        P::Individuals => Measure::Individuals,
        P::Collectives => Measure::Collectives,
        P::Decisions => Measure::Decisions,
        P::Cases => Measure::Cases,
        P::Persons => Measure::Persons,
        P::Documents => Measure::Documents,
    })
}

/// The protobuf value of a measure.
pub fn measure_to_proto(measure: Measure) -> pb::Measure {
    match measure {
        Measure::Dong => pb::Measure::Dong,
        Measure::SquareMetre => pb::Measure::SquareMetre,
        Measure::Organisations => pb::Measure::Organisations,
        Measure::Individuals => pb::Measure::Individuals,
        Measure::Collectives => pb::Measure::Collectives,
        Measure::Decisions => pb::Measure::Decisions,
        Measure::Cases => pb::Measure::Cases,
        Measure::Persons => pb::Measure::Persons,
        Measure::Documents => pb::Measure::Documents,
    }
}

fn status_to_proto(status: RecommendationStatus) -> pb::RecommendationStatus {
    match status {
        RecommendationStatus::NotStarted => pb::RecommendationStatus::NotStarted,
        RecommendationStatus::InProgress => pb::RecommendationStatus::InProgress,
        RecommendationStatus::Implemented => pb::RecommendationStatus::Implemented,
        RecommendationStatus::PartlyImplemented => pb::RecommendationStatus::PartlyImplemented,
        RecommendationStatus::NotImplemented => pb::RecommendationStatus::NotImplemented,
    }
}

fn to_proto(view: RecommendationView) -> pb::Recommendation {
    let RecommendationView { row, status, progress } = view;
    let kind = RecommendationKind::from_db(&row.kind);
    pb::Recommendation {
        name: recommendations::name(&row.conclusion_id, &row.recommendation_id),
        content: row.content,
        kind: kind.map(kind_to_proto).unwrap_or_default() as i32,
        addressee_units: row.addressee_unit_ids.iter().map(|id| resource_name::format("units", id)).collect(),
        deadline: row.deadline.map(date_to_proto),
        required: progress
            .iter()
            .map(|p| pb::Figure { measure: measure_to_proto(p.measure) as i32, amount: p.required })
            .collect(),
        progress: progress
            .iter()
            .map(|p| pb::FigureProgress {
                measure: measure_to_proto(p.measure) as i32,
                required: p.required,
                achieved: p.achieved,
                rate_percent: p.rate_percent,
            })
            .collect(),
        status: status_to_proto(status) as i32,
        flagged: kind.is_some_and(RecommendationKind::flagged),
        etag: etag(row.revision),
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
    }
}

const PATHS: [&str; 5] = ["content", "kind", "addressee_units", "deadline", "required"];

#[derive(Default)]
struct Fields {
    content: Option<String>,
    kind: Option<RecommendationKind>,
    addressee_unit_ids: Option<Vec<String>>,
    deadline: Option<Option<chrono::NaiveDate>>,
    required: Option<Vec<(Measure, i64)>>,
}

fn fields(v: &mut Violations, r: &pb::Recommendation, paths: &[String]) -> Fields {
    let mut f = Fields::default();
    for path in paths {
        let field = format!("recommendation.{path}");
        match path.as_str() {
            "content" => f.content = v.check(&field, text::multi_line(&r.content, MAX_CONTENT, true)),
            "kind" => f.kind = v.check(&field, kind_from_proto(r.kind)),
            "addressee_units" => f.addressee_unit_ids = ids(v, &field, "units", &r.addressee_units, MAX_ADDRESSEES),
            "deadline" => f.deadline = v.check(&field, date(r.deadline.as_ref())),
            "required" => {
                let figures: Vec<_> = r
                    .required
                    .iter()
                    .enumerate()
                    .filter_map(|(i, fig)| {
                        v.check(&format!("{field}[{i}].measure"), measure_from_proto(fig.measure))
                            .map(|m| (m, fig.amount))
                    })
                    .collect();
                f.required = (figures.len() == r.required.len()).then_some(figures);
            }
            other => v.add("update_mask", format!("{other:?} cannot be updated; allowed: {}", PATHS.join(", "))),
        }
    }
    f
}

impl Fields {
    fn apply(self, mut input: RecommendationInput) -> RecommendationInput {
        if let Some(x) = self.content {
            input.content = x;
        }
        if let Some(x) = self.kind {
            input.kind = x;
        }
        if let Some(x) = self.addressee_unit_ids {
            input.addressee_unit_ids = x;
        }
        if let Some(x) = self.deadline {
            input.deadline = x;
        }
        if let Some(x) = self.required {
            input.required = x;
        }
        input
    }

    fn into_input(self) -> Option<RecommendationInput> {
        let base = RecommendationInput {
            content: self.content.clone()?,
            kind: self.kind?,
            addressee_unit_ids: Vec::new(),
            deadline: None,
            required: Vec::new(),
        };
        Some(self.apply(base))
    }
}

fn recommendation_query(filter: &str) -> Result<RecommendationQuery, Error> {
    let mut query = RecommendationQuery::default();
    let mut terms = FilterTerms::parse(filter)?;
    if !terms.texts().is_empty() {
        return Err(Error::invalid(
            "filter",
            "ListRecommendations has no text search; filter by kind or addressee_unit",
        ));
    }
    while let Some(term) = terms.next_comparison() {
        match term.field.as_str() {
            "kind" => {
                let kind = term.enum_eq("RecommendationKind", |name| {
                    pb::RecommendationKind::from_str_name(name).and_then(|k| kind_from_proto(k as i32).ok())
                })?;
                query.kind = Some(kind.as_str().to_owned());
            }
            "addressee_unit" => query.addressee_unit = Some(term.id_eq("units")?),
            _ => return Err(term.unknown(&["kind", "addressee_unit"])),
        }
    }
    Ok(query)
}

fn recommendation_name(field: &str, name: &str) -> Result<(String, String), Error> {
    resource_name::parse_nested("conclusions", "recommendations", name).map_err(|e| Error::invalid(field, e))
}

#[tonic::async_trait]
impl pb::recommendation_service_server::RecommendationService for RecommendationApi {
    async fn create_recommendation(
        &self,
        request: Request<pb::CreateRecommendationRequest>,
    ) -> Result<Response<pb::Recommendation>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let idem = v.check("request_id", idempotency(&req.request_id, &req)).flatten();
        let conclusion = v.check("parent", resource_name::parse("conclusions", &req.parent));
        let id = v.check("recommendation_id", chosen_id(&req.recommendation_id)).flatten();
        let Some(recommendation) = req.recommendation.as_ref() else {
            return Err(Error::invalid("recommendation", "is required").into());
        };
        let all: Vec<String> = PATHS.iter().map(|p| p.to_string()).collect();
        let fields = fields(&mut v, recommendation, &all);
        let (conclusion, input) = v.finish_with(conclusion.zip(fields.into_input()))?;
        let view = recommendations::create(&self.services, &who, &conclusion, id, input, idem).await?;
        Ok(Response::new(to_proto(view)))
    }

    async fn get_recommendation(
        &self,
        request: Request<pb::GetRecommendationRequest>,
    ) -> Result<Response<pb::Recommendation>, Status> {
        let who = principal(&request)?;
        let (conclusion, id) = recommendation_name("name", &request.get_ref().name)?;
        Ok(Response::new(to_proto(recommendations::get(&self.services, &who, &conclusion, &id).await?)))
    }

    async fn list_recommendations(
        &self,
        request: Request<pb::ListRecommendationsRequest>,
    ) -> Result<Response<pb::ListRecommendationsResponse>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let conclusion = resource_name::parse("conclusions", &req.parent).map_err(|e| Error::invalid("parent", e))?;
        let page_size = service::page_size(req.page_size)?;
        let query = recommendation_query(&req.filter)?;
        let (views, next_page_token) =
            recommendations::list(&self.services, &who, &conclusion, &query, &req.filter, page_size, &req.page_token)
                .await?;
        Ok(Response::new(pb::ListRecommendationsResponse {
            recommendations: views.into_iter().map(to_proto).collect(),
            next_page_token,
        }))
    }

    async fn update_recommendation(
        &self,
        request: Request<pb::UpdateRecommendationRequest>,
    ) -> Result<Response<pb::Recommendation>, Status> {
        let who = principal(&request)?;
        let req = request.into_inner();
        let Some(recommendation) = req.recommendation else {
            return Err(Error::invalid("recommendation", "is required").into());
        };
        let (conclusion, id) = recommendation_name("recommendation.name", &recommendation.name)?;
        let paths = mask_paths(req.update_mask, "content")?;
        let mut v = Violations::default();
        let fields = fields(&mut v, &recommendation, &paths);
        v.finish()?;
        let view = recommendations::update(&self.services, &who, &conclusion, &id, &recommendation.etag, |input| {
            fields.apply(input)
        })
        .await?;
        Ok(Response::new(to_proto(view)))
    }
}
