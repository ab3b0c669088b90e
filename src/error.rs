//! The service layer's error: what a use case reports, by what the caller can do about it.
//! `api::status` maps it to `tonic::Status` in one place.

use crate::domain::Violation;
use crate::store::StoreError;

/// Everything a use case can answer instead of a result.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input: one violation per bad field.
    #[error("invalid argument: {}", summary(.0))]
    InvalidArgument(Vec<Violation>),
    /// No key, or a key that is unknown or revoked.
    #[error("{message}")]
    Unauthenticated {
        /// ErrorInfo reason, e.g. `API_KEY_MISSING`.
        reason: &'static str,
        /// What is wrong and what to do.
        message: String,
    },
    /// The key's role may not do this.
    #[error("{message}")]
    PermissionDenied {
        /// ErrorInfo reason.
        reason: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The named resource does not exist in the caller's tenant.
    #[error("{resource} was not found")]
    NotFound {
        /// The resource name as the caller gave it.
        resource: String,
    },
    /// The resource, or a unique value of it, already exists.
    #[error("{message}")]
    AlreadyExists {
        /// ErrorInfo reason.
        reason: &'static str,
        /// What clashes.
        message: String,
    },
    /// The etag is stale, or a concurrent transaction won: re-read and retry.
    #[error("{message}")]
    Aborted {
        /// ErrorInfo reason.
        reason: &'static str,
        /// What happened.
        message: String,
    },
    /// The request is valid but the resource's state does not allow it.
    #[error("{message}")]
    FailedPrecondition {
        /// ErrorInfo reason.
        reason: &'static str,
        /// Why not, and what would allow it.
        message: String,
    },
    /// A position (such as an event cursor) outside what is kept.
    #[error("{message}")]
    OutOfRange {
        /// ErrorInfo reason.
        reason: &'static str,
        /// What is out of range and what to do.
        message: String,
        /// ErrorInfo metadata, e.g. the oldest position still available.
        metadata: Vec<(String, String)>,
    },
    /// The database is unreachable or overloaded: retry with backoff.
    #[error("the database is unavailable")]
    Unavailable(#[source] StoreError),

    /// A request message larger than the server accepts.
    #[error("the request is larger than {limit} bytes")]
    MessageTooLarge {
        /// The server's limit, in bytes.
        limit: usize,
    },
    /// The call ran out of time in the database.
    #[error("the operation ran out of time")]
    DeadlineExceeded(#[source] StoreError),
    /// A bug or an unexpected failure: logged in full, shown to the caller as opaque.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

fn summary(violations: &[Violation]) -> String {
    violations.iter().map(|v| format!("{}: {}", v.field, v.description)).collect::<Vec<_>>().join("; ")
}

impl Error {
    /// One bad field.
    pub fn invalid(field: impl Into<String>, description: impl std::fmt::Display) -> Self {
        Error::InvalidArgument(vec![Violation::new(field, description)])
    }
}

impl From<Violation> for Error {
    fn from(violation: Violation) -> Self {
        Error::InvalidArgument(vec![violation])
    }
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(_) => Error::Unavailable(error),
            StoreError::Cancelled(_) => Error::DeadlineExceeded(error),
            StoreError::Conflict(_) => Error::Aborted {
                reason: "CONCURRENT_CHANGE",
                message: "a concurrent change conflicted with this one; read the resource again and retry".into(),
            },
            StoreError::UniqueViolation { ref constraint } => match constraint.as_str() {
                "units_active_code_key" => Error::AlreadyExists {
                    reason: "UNIT_CODE_TAKEN",
                    message: "another unit that is not dissolved already uses this code".into(),
                },
                "units_pkey" => Error::AlreadyExists {
                    reason: "UNIT_ALREADY_EXISTS",
                    message: "a unit with this ID already exists".into(),
                },
                "conclusions_pkey" | "recommendations_pkey" | "plans_pkey" | "tasks_pkey" => Error::AlreadyExists {
                    reason: "RESOURCE_ALREADY_EXISTS",
                    message: "a resource with this ID already exists; choose another ID or leave it empty".into(),
                },
                "conclusions_document_ref_key" => Error::AlreadyExists {
                    reason: "DOCUMENT_REF_TAKEN",
                    message: "a conclusion with this document reference from this issuer and year is already recorded"
                        .into(),
                },
                "plans_document_ref_key" => Error::AlreadyExists {
                    reason: "DOCUMENT_REF_TAKEN",
                    message: "a plan with this document reference from this issuing unit and year already exists"
                        .into(),
                },
                "reports_open_key" => Error::AlreadyExists {
                    reason: "REPORT_ALREADY_OPEN",
                    message: "the unit already has an open report for this plan and period; edit or submit that one"
                        .into(),
                },
                "report_schedules_kind_key" => Error::AlreadyExists {
                    reason: "SCHEDULE_ALREADY_EXISTS",
                    message: "the plan already has a schedule of this period kind".into(),
                },
                "reports_pkey" | "report_schedules_pkey" | "report_requests_pkey" => Error::AlreadyExists {
                    reason: "RESOURCE_ALREADY_EXISTS",
                    message: "a resource with this ID already exists; choose another ID or leave it empty".into(),
                },
                "deadline_extensions_pending_key" => Error::FailedPrecondition {
                    reason: "EXTENSION_PENDING",
                    message: "the task already has an extension request awaiting a decision".into(),
                },
                _ => Error::Internal(error.into()),
            },
            StoreError::ForeignKeyViolation { ref constraint } => match constraint.as_str() {
                c if c.ends_with("unit_fkey") || c == "units_parent_fkey" || c == "units_successor_fkey" => {
                    Error::FailedPrecondition {
                        reason: "UNIT_MISSING",
                        message: "the referenced unit does not exist".into(),
                    }
                }
                _ => Error::Internal(error.into()),
            },
            StoreError::Other(_) => Error::Internal(error.into()),
        }
    }
}
