//! The one place where service errors become gRPC statuses with rich details (AIP-193):
//! every status carries an `ErrorInfo` (domain `followup`) and bad input a `BadRequest`
//! with one field violation per bad field.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::error::Error;

/// The `ErrorInfo.domain` of every error this service returns.
pub const ERROR_DOMAIN: &str = "followup";

fn status(
    code: Code,
    message: String,
    reason: &str,
    metadata: HashMap<String, String>,
    details: ErrorDetails,
) -> Status {
    let mut details = details;
    details.set_error_info(reason, ERROR_DOMAIN, metadata);
    Status::with_error_details(code, message, details)
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        let none = HashMap::new;
        match error {
            Error::InvalidArgument(violations) => {
                let message =
                    violations.iter().map(|v| format!("{}: {}", v.field, v.description)).collect::<Vec<_>>().join("; ");
                let details = ErrorDetails::with_bad_request(
                    violations
                        .into_iter()
                        .map(|v| tonic_types::FieldViolation::new(v.field, v.description))
                        .collect::<Vec<_>>(),
                );
                status(
                    Code::InvalidArgument,
                    format!("invalid request: {message}"),
                    "INVALID_ARGUMENT",
                    none(),
                    details,
                )
            }
            Error::Unauthenticated { reason, message } => {
                status(Code::Unauthenticated, message, reason, none(), ErrorDetails::new())
            }
            Error::PermissionDenied { reason, message } => {
                status(Code::PermissionDenied, message, reason, none(), ErrorDetails::new())
            }
            Error::NotFound { resource } => {
                let metadata = HashMap::from([("resource".to_owned(), resource.clone())]);
                let details =
                    ErrorDetails::with_resource_info("", resource.clone(), "", "not found in the caller's province");
                status(Code::NotFound, format!("{resource} was not found"), "RESOURCE_NOT_FOUND", metadata, details)
            }
            Error::AlreadyExists { reason, message } => {
                status(Code::AlreadyExists, message, reason, none(), ErrorDetails::new())
            }
            Error::Aborted { reason, message } => status(Code::Aborted, message, reason, none(), ErrorDetails::new()),
            Error::FailedPrecondition { reason, message } => {
                status(Code::FailedPrecondition, message, reason, none(), ErrorDetails::new())
            }
            Error::OutOfRange { reason, message, metadata } => {
                status(Code::OutOfRange, message, reason, metadata.into_iter().collect(), ErrorDetails::new())
            }
            Error::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                status(
                    Code::Unavailable,
                    "the service cannot reach its database right now; retry with backoff".into(),
                    "DATABASE_UNAVAILABLE",
                    none(),
                    ErrorDetails::with_retry_info(Some(std::time::Duration::from_secs(1))),
                )
            }
            Error::MessageTooLarge { limit } => status(
                Code::ResourceExhausted,
                format!(
                    "the request message is larger than this server accepts ({limit} bytes); send less per call, \
                     e.g. smaller batches or shorter texts"
                ),
                "MESSAGE_TOO_LARGE",
                [("limit_bytes".to_owned(), limit.to_string())].into_iter().collect(),
                ErrorDetails::new(),
            ),
            Error::DeadlineExceeded(cause) => {
                tracing::warn!(error = %cause, "statement cancelled");
                status(
                    Code::DeadlineExceeded,
                    "the operation ran out of time".into(),
                    "DEADLINE_EXCEEDED",
                    none(),
                    ErrorDetails::new(),
                )
            }
            Error::Internal(cause) => {
                // The cause chain goes to the log only: it may hold SQL or internals.
                tracing::error!(error = ?cause, "internal error");
                status(
                    Code::Internal,
                    "internal error; the service logged the details".into(),
                    "INTERNAL",
                    none(),
                    ErrorDetails::new(),
                )
            }
        }
    }
}
