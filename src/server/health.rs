//! `grpc.health.v1.Health`: SERVING only while the database answers.

use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

/// The services whose health is reported, besides the overall `""`.
pub const SERVICE_NAMES: &[&str] = &[
    "followup.v1.AuditService",
    "followup.v1.ConclusionService",
    "followup.v1.EventService",
    "followup.v1.HolidayService",
    "followup.v1.PlanService",
    "followup.v1.RecommendationService",
    "followup.v1.ReminderService",
    "followup.v1.ReportScheduleService",
    "followup.v1.ReportService",
    "followup.v1.TaskService",
    "followup.v1.UnitService",
];

/// Sets every reported service to `status`.
pub async fn set_all(reporter: &HealthReporter, status: ServingStatus) {
    reporter.set_service_status("", status).await;
    for name in SERVICE_NAMES {
        reporter.set_service_status(*name, status).await;
    }
}

/// Probes the database every `interval` until `stop` turns true, and reports the result.
pub async fn watch_database(
    pool: PgPool,
    reporter: HealthReporter,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut last = None;
    loop {
        let probe =
            tokio::time::timeout(interval.max(Duration::from_millis(500)), sqlx::query("select 1").execute(&pool))
                .await;
        let status = match probe {
            Ok(Ok(_)) => ServingStatus::Serving,
            _ => ServingStatus::NotServing,
        };
        if *stop.borrow() {
            return;
        }
        if last != Some(status) {
            tracing::info!(?status, "database health changed");
            set_all(&reporter, status).await;
            last = Some(status);
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.wait_for(|stopped| *stopped) => return,
        }
    }
}
