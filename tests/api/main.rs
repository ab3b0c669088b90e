//! Integration tests: one binary, real server, real PostgreSQL.

#![allow(unreachable_pub)] // shared between this binary's modules only

mod helpers;

mod auth;
mod binary;
mod events;
mod faults;
mod grpc_web;
mod grpcurl;
mod health;
mod hostile_input;
mod interop;
mod ledger;
mod metrics;
mod operators;
mod overload;
mod plans_and_conclusions;
mod reflection;
mod reminders;
mod replicas;
mod reports;
mod shutdown;
mod tasks_assignment;
mod tasks_lifecycle;
mod tasks_timeliness;
mod tenancy;
mod tls;
mod tracking_fixture;
mod units;
mod units_concurrency;
mod units_listing;

use tonic::{Code, Status};
use tonic_types::StatusExt;

/// Asserts `status` has `code` and an ErrorInfo with `reason` in the followup domain.
#[track_caller]
pub fn assert_error(status: &Status, code: Code, reason: &str) {
    assert_eq!(status.code(), code, "unexpected status: {status:?}");
    let details = status.get_error_details();
    let info = details.error_info().unwrap_or_else(|| panic!("no ErrorInfo in {status:?}"));
    assert_eq!(info.domain, "followup");
    assert_eq!(info.reason, reason, "unexpected reason in {status:?}");
}

/// The fields named by the BadRequest detail of `status`.
pub fn violated_fields(status: &Status) -> Vec<String> {
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
        .unwrap_or_default()
}
