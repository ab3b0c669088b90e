//! `followup-bench`: measures followup against its targets with real gRPC calls to a
//! release server on a fresh managed PostgreSQL. Speed is shown here, never by timed
//! tests.
//!
//! ```text
//! cargo run --release --bin followup-bench -- [--tasks 20000] [--units 500] [--iterations 300]
//! ```
//!
//! Scenario `plan-progress`: a plan of `--tasks` tasks across `--units` units, asked for
//! its consolidated progress (GetPlanProgress) `--iterations` times; prints p50, p95, p99
//! and max, whether p95 meets the 50 ms target, and the aggregate query's plan.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use followup::admin;
use followup::api::proto::followup::v1::{GetPlanProgressRequest, report_service_client::ReportServiceClient};
use followup::auth::principal::Role;
use followup::db::{self, PoolSettings};
use followup::domain::calendar::SystemClock;
use followup::managed_pg::ManagedPostgres;
use followup::server::{Application, ServerSettings};
use sqlx::{Connection, Executor, PgConnection};
use tonic::metadata::MetadataValue;

/// Command-line options.
#[derive(Debug, Parser)]
#[command(name = "followup-bench", about = "Benchmarks followup with real gRPC calls")]
struct Args {
    /// Tasks in the benchmark plan.
    #[arg(long, default_value_t = 20_000)]
    tasks: u32,
    /// Units the tasks are spread across.
    #[arg(long, default_value_t = 500)]
    units: u32,
    /// Measured calls (after 20 warm-up calls).
    #[arg(long, default_value_t = 300)]
    iterations: u32,
    /// Writes in the event-delivery scenario.
    #[arg(long, default_value_t = 300)]
    events: u32,
    /// Where the throwaway PostgreSQL lives (removed first).
    #[arg(long, default_value = "target/bench-pg")]
    data_dir: std::path::PathBuf,
}

const TENANT: &str = "bench";

async fn seed(conn: &mut PgConnection, tasks: u32, units: u32) -> anyhow::Result<()> {
    admin::create_tenant(conn, TENANT, "Benchmark province").await?;
    let mut tx = conn.begin().await?;
    sqlx::query(
        "insert into units (tenant_id, unit_id, display_name, code, kind, valid_from, search_text)
         select $1, 'u' || g, 'Đơn vị ' || g, 'U' || g, 'AGENCY', date '2004-01-01', 'don vi ' || g
         from generate_series(1, $2) g",
    )
    .bind(TENANT)
    .bind(units as i32)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into conclusions (tenant_id, conclusion_id, document_ref, document_year, issuer_key, issuing_body,
             signed_date, title, search_text)
         values ($1, 'c1', '01/KL-TTCP', 2025, 'thanh tra chinh phu', 'Thanh tra Chính phủ', '2025-01-02', 'Kết luận', 'x')",
    )
    .bind(TENANT)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into recommendations (tenant_id, conclusion_id, recommendation_id, content, kind, required)
         select $1, 'c1', 'r' || g, 'Kiến nghị ' || g, 'MONEY_RECOVERY', '{\"DONG\": 1000000}'::jsonb
         from generate_series(0, 9) g",
    )
    .bind(TENANT)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into plans (tenant_id, plan_id, document_ref, document_year, issuing_unit_id, issue_date, title,
             conclusion_ids, monitoring_unit_id, state, search_text)
         values ($1, 'p1', '01/KH-UBND', 2025, 'u1', '2025-01-05', 'Kế hoạch', '{c1}', 'u1', 'ISSUED', 'ke hoach')",
    )
    .bind(TENANT)
    .execute(&mut *tx)
    .await?;
    // Every state and a spread of due dates around today, some tasks addressing
    // recommendations with achieved figures.
    sqlx::query(
        "insert into tasks (tenant_id, plan_id, task_id, title, lead_unit_id, recommendations, due_date, standing,
             state, completed_time, completed_date, achieved, search_text)
         select $1, 'p1', 't' || g, 'Nhiệm vụ ' || g, 'u' || (1 + g % $3),
             case when g % 20 = 0 then array['conclusions/c1/recommendations/r' || (g % 10)] else '{}' end,
             case when g % 17 = 0 then null else current_date - 400 + (g % 800) end,
             g % 17 = 0,
             (array['NOT_STARTED', 'IN_PROGRESS', 'REPORTED_DONE', 'DONE', 'SUSPENDED', 'CLOSED_NOT_DONE'])[1 + g % 6],
             case when g % 6 in (2, 3) then now() - (g % 700) * interval '1 day' end,
             case when g % 6 in (2, 3) then ((now() - (g % 700) * interval '1 day') at time zone 'Asia/Ho_Chi_Minh')::date end,
             case when g % 20 = 0 then jsonb_build_object('conclusions/c1/recommendations/r' || (g % 10), jsonb_build_object('DONG', 1000))
                  else '{}'::jsonb end,
             'nhiem vu ' || g
         from generate_series(1, $2) g",
    )
    .bind(TENANT)
    .bind(tasks as i32)
    .bind(units as i32)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into report_schedules (tenant_id, plan_id, schedule_id, period_kind, deadline_working_days)
         values ($1, 'p1', 'quarterly', 'QUARTER', 5)",
    )
    .bind(TENANT)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    conn.execute("analyze").await?;
    Ok(())
}

async fn channel_for(addr: std::net::SocketAddr) -> anyhow::Result<tonic::transport::Channel> {
    Ok(tonic::transport::Channel::from_shared(format!("http://{addr}"))?
        .initial_stream_window_size(Some(1024 * 1024))
        .initial_connection_window_size(Some(4 * 1024 * 1024))
        .connect()
        .await?)
}

fn with_key(key: &str) -> anyhow::Result<impl tonic::service::Interceptor + Clone> {
    let bearer: MetadataValue<_> = format!("Bearer {key}").parse()?;
    Ok(move |mut request: tonic::Request<()>| {
        request.metadata_mut().insert("authorization", bearer.clone());
        Ok(request)
    })
}

/// Event delivery: a watcher follows `units/` events while a writer creates units at a
/// steady 50 per second on another connection; each latency runs from the write
/// request being sent to its event reaching the watcher, an upper bound of commit to
/// delivery.
async fn event_delivery(channel: &tonic::transport::Channel, key: &str, writes: u32) -> anyhow::Result<()> {
    use followup::api::proto::followup::v1::{
        CreateUnitRequest, Unit, UnitKind, WatchEventsRequest, event_service_client::EventServiceClient,
        unit_service_client::UnitServiceClient,
    };
    use std::collections::HashMap;
    use std::sync::Mutex;

    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let mut watcher = EventServiceClient::with_interceptor(channel.clone(), with_key(key)?);
    let listed = watcher
        .list_events(followup::api::proto::followup::v1::ListEventsRequest { page_size: 1000, ..Default::default() })
        .await?
        .into_inner();
    let after = listed.events.last().map(|e| e.event_id).unwrap_or(0);
    let mut stream = watcher
        .watch_events(WatchEventsRequest { after_event_id: after, resource_prefix: "units/ev".into(), types: vec![] })
        .await?
        .into_inner();
    let writer = {
        // HTTP/2 multiplexes the writer's calls and the watcher's stream on one connection.
        let (sent, channel, key) = (sent.clone(), channel.clone(), key.to_owned());
        tokio::spawn(async move {
            let mut units = UnitServiceClient::with_interceptor(channel, with_key(&key)?);
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            for i in 0..writes {
                tick.tick().await;
                let id = format!("ev{i}");
                sent.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.insert(format!("units/{id}"), Instant::now());
                let unit = Unit {
                    display_name: format!("Đơn vị {i}"),
                    code: format!("EV{i}"),
                    kind: UnitKind::Agency as i32,
                    ..Default::default()
                };
                units
                    .create_unit(CreateUnitRequest { unit: Some(unit), unit_id: id, request_id: String::new() })
                    .await?;
            }
            Ok::<_, anyhow::Error>(())
        })
    };
    let mut latencies = Vec::with_capacity(writes as usize);
    while latencies.len() < writes as usize {
        let Some(event) = tokio::time::timeout(Duration::from_secs(10), stream.message()).await?? else { break };
        let start = sent.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.get(&event.resource).copied();
        if let Some(start) = start {
            latencies.push(start.elapsed());
        }
    }
    writer.await??;
    latencies.sort();
    println!("\nEvent delivery ({writes} writes at 50/s; from write request to the watcher):");
    println!("{:<18} {:>8} {:>8} {:>8} {:>8} {:>8}", "scenario", "events", "p50 ms", "p95 ms", "p99 ms", "max ms");
    let p99 = percentile(&latencies, 0.99);
    println!(
        "{:<18} {:>8} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
        "WatchEvents",
        latencies.len(),
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.95)),
        ms(p99),
        ms(*latencies.last().unwrap_or(&Duration::ZERO)),
    );
    println!("target p99 <= 50 ms: {}", if ms(p99) <= 50.0 { "MET" } else { "NOT MET" });
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Server logs only when asked (RUST_LOG), so they do not weigh on the measurement.
    if std::env::var_os("RUST_LOG").is_some() {
        followup::telemetry::init(followup::telemetry::LogFormat::Json);
    }
    let _ = std::fs::remove_dir_all(&args.data_dir);
    println!("starting a fresh PostgreSQL in {}", args.data_dir.display());
    let cluster = ManagedPostgres::start(&args.data_dir, true)?;
    let options = cluster.connect_options("followup");
    db::ensure_database(&options, "followup").await?;
    db::migrate(&options).await?;
    let mut conn = PgConnection::connect_with(&options).await?;
    let started = Instant::now();
    seed(&mut conn, args.tasks, args.units).await?;
    println!("seeded {} tasks across {} units in {:.1?}", args.tasks, args.units, started.elapsed());
    let key = admin::create_key(&mut conn, TENANT, Role::Monitor, None, "bench").await?.text;
    let admin_key = admin::create_key(&mut conn, TENANT, Role::Admin, None, "bench writer").await?.text;

    let settings = ServerSettings {
        listen: "127.0.0.1:0".parse()?,
        database: options.clone(),
        pool: PoolSettings { max_connections: 16, acquire_timeout: Duration::from_secs(3) },
        max_message_bytes: 16 * 1024 * 1024,
        shutdown_timeout: Duration::from_secs(5),
        health_interval: Duration::from_secs(1),
        event_retention: Duration::from_secs(30 * 86_400),
        reminder_interval: None,
        max_concurrent_calls: 64,
        clock: Arc::new(SystemClock),
    };
    let app = Application::build(settings).await?;
    let addr = app.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let channel = channel_for(addr).await?;
    let bearer: MetadataValue<_> = format!("Bearer {key}").parse()?;
    let mut client = ReportServiceClient::with_interceptor(channel, move |mut request: tonic::Request<()>| {
        request.metadata_mut().insert("authorization", bearer.clone());
        Ok(request)
    })
    .max_decoding_message_size(16 * 1024 * 1024);

    let request = || GetPlanProgressRequest { name: "plans/p1".into(), as_of: None };
    let mut last = None;
    for _ in 0..20 {
        last = Some(client.get_plan_progress(request()).await?.into_inner());
    }
    let mut latencies = Vec::with_capacity(args.iterations as usize);
    for _ in 0..args.iterations {
        let begin = Instant::now();
        client.get_plan_progress(request()).await?;
        latencies.push(begin.elapsed());
    }
    latencies.sort();
    let progress = last.unwrap_or_default();
    println!(
        "\nGetPlanProgress: {} bytes; plan of {} tasks, {} unit rows, {} overdue listed, {} missing reports",
        prost::Message::encoded_len(&progress),
        progress.total_tasks,
        progress.units.len(),
        progress.overdue_tasks.len(),
        progress.missing_reports.len()
    );
    println!("{:<18} {:>8} {:>8} {:>8} {:>8} {:>8}", "scenario", "calls", "p50 ms", "p95 ms", "p99 ms", "max ms");
    let p95 = percentile(&latencies, 0.95);
    println!(
        "{:<18} {:>8} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
        "GetPlanProgress",
        latencies.len(),
        ms(percentile(&latencies, 0.50)),
        ms(p95),
        ms(percentile(&latencies, 0.99)),
        ms(*latencies.last().unwrap_or(&Duration::ZERO)),
    );
    println!("target p95 <= 50 ms: {}", if ms(p95) <= 50.0 { "MET" } else { "NOT MET" });

    // The plan of the main aggregate: the plan's tasks read once, grouped.
    let today = followup::domain::calendar::local_date(chrono::Utc::now());
    let explain = followup::store::progress::explain_bucket_counts(&mut conn, TENANT, "p1", today).await?;
    println!("\nEXPLAIN (ANALYZE, BUFFERS) of the per-unit, per-bucket aggregate:\n{}", explain.join("\n"));

    event_delivery(&channel_for(addr).await?, &admin_key, args.events).await?;

    let _ = stop.send(());
    server.await??;
    drop(cluster);
    Ok(())
}
