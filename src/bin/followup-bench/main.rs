//! `followup-bench`: measures followup against its targets with real gRPC calls to a
//! release server on a fresh managed PostgreSQL. Speed is shown here, never by timed
//! tests.
//!
//! ```text
//! cargo run --release --bin followup-bench -- [--tasks 20000] [--units 500] [--iterations 300]
//! ```
//!
//! On a plan of `--tasks` tasks across `--units` units:
//! - under load from `--clients` clients for `--seconds` each: `grpc.health.v1.Health/Check`
//!   (the framework's ceiling), GetTask and its read issued directly through sqlx,
//!   ListTasks (one unit's overdue tasks, a page of 50), the write path (ReportTaskDone)
//!   and the same write transaction issued directly through sqlx (the database's
//!   ceilings), with each scenario's ratio to its ceiling;
//! - GetPlanProgress `--iterations` times in sequence, with the aggregate's query plan;
//! - event delivery from a write to a WatchEvents client.
//!
//! Prints a table and each target as met or not, and writes the same as JSON to
//! `target/bench-results.json`.

mod dataset;
mod load;

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
    /// Concurrent clients in the load scenarios.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Database connections of the server's pool, and of the direct-sqlx ceilings'.
    #[arg(long, default_value_t = db::DEFAULT_POOL_SIZE)]
    pool_size: u32,
    /// Seconds each load scenario runs.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Writes in the event-delivery scenario.
    #[arg(long, default_value_t = 300)]
    events: u32,
    /// Where the throwaway PostgreSQL lives (removed first).
    #[arg(long, default_value = "target/bench-pg")]
    data_dir: std::path::PathBuf,
    /// `default`: one province of 1,000 units, 200 plans, 50,000 tasks and 200,000
    /// reports around the measured plan; `large`: also 10 million tasks over 34 provinces,
    /// loaded with COPY; `small`: the measured plan alone (CI's short mode).
    #[arg(long, value_enum, default_value_t = Scale::Default)]
    scale: Scale,
}

impl Args {
    /// The pool of the server and of the direct-sqlx ceilings alike, so they compare.
    fn pool(&self) -> PoolSettings {
        PoolSettings { max_connections: self.pool_size, acquire_timeout: Duration::from_secs(3) }
    }
}

/// How much data surrounds the measured plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Scale {
    Small,
    Default,
    Large,
}

const TENANT: &str = "bench";

/// Not-started tasks for the write scenarios, half for each.
const WRITE_TASKS: u32 = 60_000;

async fn seed(conn: &mut PgConnection, tasks: u32, units: u32) -> anyhow::Result<()> {
    admin::create_tenant(conn, TENANT, "Benchmark province").await?;
    let mut tx = conn.begin().await?;
    dataset::units(&mut tx, TENANT, units).await?;
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
    Ok(())
}

async fn channel_for(addr: std::net::SocketAddr) -> anyhow::Result<tonic::transport::Channel> {
    Ok(tonic::transport::Channel::from_shared(format!("http://{addr}"))?
        .initial_stream_window_size(Some(1024 * 1024))
        .initial_connection_window_size(Some(4 * 1024 * 1024))
        .connect()
        .await?)
}

fn with_key(key: &str) -> anyhow::Result<impl tonic::service::Interceptor + Clone + use<>> {
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
async fn event_delivery(channel: &tonic::transport::Channel, key: &str, writes: u32) -> anyhow::Result<load::Stats> {
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
    println!("\nEvent delivery: {writes} writes at 50/s, each timed from its write request to the watcher");
    Ok(load::stats("WatchEvents delivery", 1, Duration::from_secs(1), latencies, Default::default()))
}

/// Prints the table of every scenario and each target as met or not.
fn report_targets(results: &[load::Stats]) {
    let find = |name: &str| results.iter().find(|r| r.name.starts_with(name));
    println!("\nAll scenarios (latency scenarios GetPlanProgress and WatchEvents ran one at a time):");
    load::header();
    for r in results {
        load::row(r);
    }
    let ratio = |a: Option<&load::Stats>, b: Option<&load::Stats>| match (a, b) {
        (Some(a), Some(b)) if b.rps > 0.0 => a.rps / b.rps,
        _ => 0.0,
    };
    let get_task = find("GetTask");
    let health_ratio = ratio(get_task, find("Health/Check"));
    let write_ratio = ratio(find("ReportTaskDone"), find("write via sqlx"));
    let met = |ok: bool| if ok { "MET" } else { "NOT MET" };
    println!("\nTargets:");
    println!("  GetTask throughput >= 40% of Health/Check: {:.0}% {}", health_ratio * 100.0, met(health_ratio >= 0.40));
    // If a GetTask cost the machine exactly one Health/Check plus one direct read, and
    // nothing of followup's own, this is the share of Health/Check it could reach.
    let read_ratio = ratio(find("read via sqlx"), find("Health/Check"));
    if read_ratio > 0.0 {
        let bound = read_ratio / (1.0 + read_ratio);
        println!(
            "    (bound on this machine: a Health/Check plus a direct read allow {:.0}% of Health/Check; GetTask reaches {:.0}% of that)",
            bound * 100.0,
            health_ratio / bound * 100.0
        );
    }
    let p99 = get_task.map(|g| g.p99_ms).unwrap_or(f64::MAX);
    println!("  GetTask p99 <= 5 ms: {p99:.2} ms {}", met(p99 <= 5.0));
    println!(
        "  ReportTaskDone >= 75% of the direct sqlx write: {:.0}% {}",
        write_ratio * 100.0,
        met(write_ratio >= 0.75)
    );
    let list_p99 = find("ListTasks").map(|g| g.p99_ms).unwrap_or(f64::MAX);
    println!("  ListTasks p99 <= 10 ms (the --scale large target): {list_p99:.2} ms {}", met(list_p99 <= 10.0));
    let progress_p95 = find("GetPlanProgress").map(|g| g.p95_ms).unwrap_or(f64::MAX);
    println!("  GetPlanProgress p95 <= 50 ms: {progress_p95:.2} ms {}", met(progress_p95 <= 50.0));
    let events_p99 = find("WatchEvents").map(|g| g.p99_ms).unwrap_or(f64::MAX);
    println!("  event delivery p99 <= 50 ms: {events_p99:.2} ms {}", met(events_p99 <= 50.0));
    match rss_mib() {
        Some(rss) => {
            println!("  RSS <= 150 MiB (server and clients in one process): {rss:.0} MiB {}", met(rss <= 150.0))
        }
        None => println!("  RSS: not readable here"),
    }
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
    seed_writes(&mut conn, args.units).await?;
    println!("seeded a plan of {} tasks across {} units in {:.1?}", args.tasks, args.units, started.elapsed());
    let today = followup::domain::calendar::local_date(chrono::Utc::now());
    if args.scale != Scale::Small {
        let started = Instant::now();
        dataset::fill_province(&mut conn, TENANT, args.tasks).await?;
        println!(
            "filled the province to {} units, {} plans, {} tasks and {} reports in {:.1?}",
            dataset::UNITS,
            dataset::PLANS,
            dataset::TASKS,
            dataset::REPORTS,
            started.elapsed()
        );
    }
    if args.scale == Scale::Large {
        let started = Instant::now();
        println!("loading {} tasks over {} provinces with COPY", dataset::LARGE_TASKS, dataset::LARGE_TENANTS);
        let loaded = dataset::load_large(&mut conn, TENANT, today).await?;
        println!("loaded {loaded} tasks in {:.1?}", started.elapsed());
    }
    // A steady-state database is vacuumed (hint bits and the visibility map are set) and
    // checkpointed, so the seed's writes are not flushed during the measurements.
    conn.execute("vacuum analyze").await?;
    conn.execute("checkpoint").await?;
    let total: i64 = sqlx::query_scalar("select count(*) from tasks").fetch_one(&mut conn).await?;
    println!("tasks in the database: {total}");
    let key = admin::create_key(&mut conn, TENANT, Role::Monitor, None, "bench").await?.text;
    let admin_key = admin::create_key(&mut conn, TENANT, Role::Admin, None, "bench writer").await?.text;

    let settings = ServerSettings {
        listen: "127.0.0.1:0".parse()?,
        database: options.clone(),
        pool: args.pool(),
        max_message_bytes: 16 * 1024 * 1024,
        shutdown_timeout: Duration::from_secs(5),
        health_interval: Duration::from_secs(1),
        event_retention: Duration::from_secs(30 * 86_400),
        reminder_interval: None,
        max_concurrent_calls: 64,
        clock: Arc::new(SystemClock),
        metrics_listen: None,
        cors_allowed_origins: Vec::new(),
        tls: None,
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

    // GetPlanProgress first, on the freshly seeded plan, before the load scenarios'
    // writes leave their dead rows behind.
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
    let progress = last.unwrap_or_default();
    println!(
        "\nGetPlanProgress: {} bytes; plan of {} tasks, {} unit rows, {} overdue listed, {} missing reports",
        prost::Message::encoded_len(&progress),
        progress.total_tasks,
        progress.units.len(),
        progress.overdue_tasks.len(),
        progress.missing_reports.len()
    );
    let progress_stats = load::stats("GetPlanProgress", 1, Duration::from_secs(1), latencies, Default::default());

    // The plan of the main aggregate: the plan's tasks read once, grouped.
    let explain = followup::store::progress::explain_bucket_counts(&mut conn, TENANT, "p1", today).await?;
    println!("\nEXPLAIN (ANALYZE, BUFFERS) of the per-unit, per-bucket aggregate:\n{}", explain.join("\n"));
    // And of the ListTasks scenario's query: one unit's overdue tasks in the plan.
    let query = followup::store::tasks::TaskQuery {
        plan: Some("p1".into()),
        lead_unit: Some("u7".into()),
        timeliness: Some(followup::domain::task::Timeliness::OpenOverdue),
        ..Default::default()
    };
    let explain = followup::store::tasks::explain_list(&mut conn, TENANT, &query, today, 51).await?;
    println!(
        "\nEXPLAIN (ANALYZE, BUFFERS) of ListTasks (one unit's overdue tasks, a page of 50):\n{}",
        explain.join("\n")
    );

    let mut results = load_scenarios(&args, addr, &options, &key, &admin_key, &mut conn).await?;
    let events = event_delivery(&channel_for(addr).await?, &admin_key, args.events).await?;
    results.push(progress_stats);
    results.push(events);
    report_targets(&results);
    std::fs::write("target/bench-results.json", serde_json::to_string_pretty(&results)?)?;
    println!("results written to target/bench-results.json");

    let _ = stop.send(());
    server.await??;
    drop(cluster);
    Ok(())
}

/// A second plan of not-started tasks for the write scenarios: each write reports one
/// task done, and a task is reported done only once.
async fn seed_writes(conn: &mut PgConnection, units: u32) -> anyhow::Result<()> {
    sqlx::query(
        "insert into plans (tenant_id, plan_id, document_ref, document_year, issuing_unit_id, issue_date, title,
             monitoring_unit_id, state, search_text)
         values ($1, 'p2', '02/KH-UBND', 2025, 'u1', '2025-01-05', 'Kế hoạch ghi', 'u1', 'ISSUED', 'ke hoach ghi')",
    )
    .bind(TENANT)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "insert into tasks (tenant_id, plan_id, task_id, title, lead_unit_id, due_date, search_text)
         select $1, 'p2', 'w' || g, 'Nhiệm vụ ' || g, 'u' || (1 + g % $3), current_date + 30, 'nhiem vu ' || g
         from generate_series(1, $2) g",
    )
    .bind(TENANT)
    .bind(WRITE_TASKS as i32)
    .bind(units as i32)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A few connections shared by the clients, as portals would hold them.
async fn channels(addr: std::net::SocketAddr, count: usize) -> anyhow::Result<Vec<tonic::transport::Channel>> {
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        out.push(channel_for(addr).await?);
    }
    Ok(out)
}

fn code(status: tonic::Status) -> String {
    format!("{:?}", status.code())
}

/// The load scenarios and their ceilings.
async fn load_scenarios(
    args: &Args,
    addr: std::net::SocketAddr,
    options: &sqlx::postgres::PgConnectOptions,
    key: &str,
    admin_key: &str,
    conn: &mut PgConnection,
) -> anyhow::Result<Vec<load::Stats>> {
    use followup::api::proto::followup::v1::{
        Evidence, GetTaskRequest, ListTasksRequest, ReportTaskDoneRequest, task_service_client::TaskServiceClient,
    };
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

    let duration = Duration::from_secs_f64(args.seconds);
    let clients = args.clients.max(1);
    let pool = channels(addr, 4).await?;
    let tasks = args.tasks.max(1) as usize;
    let units = args.units.max(1) as usize;
    let mut results = Vec::new();

    let health = {
        let pool = pool.clone();
        load::run("Health/Check (ceiling)", clients, duration, move |client, _| {
            let mut health = HealthClient::new(pool[client % pool.len()].clone());
            async move { health.check(HealthCheckRequest { service: String::new() }).await.map(|_| ()).map_err(code) }
        })
        .await
    };
    results.push(health);

    let monitor = with_key(key)?;
    let get_task = {
        let (pool, monitor) = (pool.clone(), monitor.clone());
        load::run("GetTask", clients, duration, move |client, i| {
            let mut tasks_client =
                TaskServiceClient::with_interceptor(pool[client % pool.len()].clone(), monitor.clone());
            let name = format!("plans/p1/tasks/t{}", 1 + (client * 7919 + i * 104_729) % tasks);
            async move { tasks_client.get_task(GetTaskRequest { name }).await.map(|_| ()).map_err(code) }
        })
        .await
    };
    results.push(get_task);

    // The database's ceiling for the read: GetTask's statement straight through sqlx.
    let read_pool = db::app_pool(options, args.pool());
    let direct_read = {
        let read_pool = read_pool.clone();
        load::run("read via sqlx (ceiling)", clients, duration, move |client, i| {
            let pool = read_pool.clone();
            let task = format!("t{}", 1 + (client * 7919 + i * 104_729) % tasks);
            async move {
                let mut conn = pool.acquire().await.map_err(|e| format!("{e}"))?;
                followup::store::tasks::get(&mut conn, TENANT, "p1", &task, false)
                    .await
                    .map_err(|e| format!("{e}"))?
                    .map(|_| ())
                    .ok_or_else(|| "missing".to_owned())
            }
        })
        .await
    };
    results.push(direct_read);
    read_pool.close().await;

    let list_tasks = {
        let (pool, monitor) = (pool.clone(), monitor.clone());
        load::run("ListTasks (overdue)", clients, duration, move |client, i| {
            let mut tasks_client =
                TaskServiceClient::with_interceptor(pool[client % pool.len()].clone(), monitor.clone());
            let unit = 1 + (client * 31 + i * 17) % units;
            let request = ListTasksRequest {
                parent: "plans/p1".into(),
                filter: format!("lead_unit = \"units/u{unit}\" AND timeliness = TIMELINESS_OPEN_OVERDUE"),
                page_size: 50,
                ..Default::default()
            };
            async move { tasks_client.list_tasks(request).await.map(|_| ()).map_err(code) }
        })
        .await
    };
    results.push(list_tasks);

    // Open tasks for the writes, split between the RPC and the direct transaction.
    let open: Vec<String> =
        sqlx::query_scalar("select task_id from tasks where tenant_id = $1 and plan_id = 'p2' order by task_id")
            .bind(TENANT)
            .fetch_all(&mut *conn)
            .await?;
    let (for_rpc, for_sql) = open.split_at(open.len() / 2);
    let (for_rpc, for_sql) = (Arc::new(for_rpc.to_vec()), Arc::new(for_sql.to_vec()));

    // The database's ceiling: the write path's transaction (lock the task, update it, the
    // audit record, the event with its notification) issued straight through sqlx.
    let app_pool = db::app_pool(options, args.pool());
    let direct = {
        let (app_pool, for_sql) = (app_pool.clone(), for_sql.clone());
        load::run("write via sqlx (ceiling)", clients, duration, move |client, i| {
            let (pool, ids) = (app_pool.clone(), for_sql.clone());
            async move {
                let Some(task) = ids.get((i * 64 + client) % ids.len().max(1)).cloned() else {
                    return Err("none".into());
                };
                direct_write(&pool, &task).await.map_err(|e| format!("{e}"))
            }
        })
        .await
    };
    let write = {
        let (pool, admin, for_rpc) = (pool.clone(), with_key(admin_key)?, for_rpc.clone());
        load::run("ReportTaskDone", clients, duration, move |client, i| {
            let mut tasks_client =
                TaskServiceClient::with_interceptor(pool[client % pool.len()].clone(), admin.clone());
            let task = for_rpc.get((i * 64 + client) % for_rpc.len().max(1)).cloned().unwrap_or_default();
            let request = ReportTaskDoneRequest {
                name: format!("plans/p2/tasks/{task}"),
                evidence: Some(Evidence { description: "Đã thực hiện.".into(), ..Default::default() }),
                ..Default::default()
            };
            async move { tasks_client.report_task_done(request).await.map(|_| ()).map_err(code) }
        })
        .await
    };
    results.push(write);
    results.push(direct);
    app_pool.close().await;

    println!("\nLoad scenarios: {clients} clients over 4 connections, {:.0} s each", args.seconds);
    Ok(results)
}

/// ReportTaskDone's transaction straight through sqlx: the same statements with the same
/// values (the task locked and read with its plan, the task's new state and evidence,
/// the audit record with the row before and after, the event with its notification), so
/// that the RPC's ratio to it is what gRPC and the service add.
async fn direct_write(pool: &sqlx::PgPool, task: &str) -> anyhow::Result<()> {
    use followup::store::{audit, events, tasks};
    let mut tx = followup::store::begin(pool, TENANT).await?;
    let (_plan, before) =
        tasks::lock_with_plan(&mut tx, TENANT, "p2", task).await?.ok_or_else(|| anyhow::anyhow!("no task {task}"))?;
    let now = chrono::Utc::now();
    let mut row = before.clone();
    row.state = "REPORTED_DONE".into();
    row.evidence = Some(sqlx::types::Json(tasks::EvidenceRecord {
        description: "Đã thực hiện.".into(),
        ..Default::default()
    }));
    row.completed_time = Some(now);
    row.completed_date = Some(followup::domain::calendar::local_date(now));
    let search_text = followup::service::tasks::search_text(&row);
    let row = tasks::update(&mut tx, &row, &search_text).await?;
    let resource = format!("plans/p2/tasks/{task}");
    let entry = audit::AuditEntry {
        tenant: TENANT,
        actor: "keys/bench",
        action: "ReportTaskDone",
        resource: &resource,
        request_id: None,
        reason: None,
        before: Some(serde_json::to_value(&before)?),
        after: Some(serde_json::to_value(&row)?),
    };
    audit::record(&mut tx, entry).await?;
    events::append(&mut tx, TENANT, "task.reported_done", &resource, serde_json::json!({ "action": "ReportTaskDone" }))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The resident memory of this process (server and clients), in MiB.
fn rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
