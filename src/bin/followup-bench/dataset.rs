//! The province around the measured plan: what a real deployment holds besides it, so the
//! measured queries run on tables of a realistic size; and, with `--scale large`, many
//! provinces loaded with COPY.

use std::fmt::Write as _;

use chrono::{Duration as Days, NaiveDate};
use sqlx::{Executor, PgConnection};

/// What a province holds by default (the dataset): counts in the whole province,
/// the measured plan included.
pub(crate) const UNITS: u32 = 1_000;
pub(crate) const PLANS: u32 = 200;
pub(crate) const TASKS: u32 = 50_000;
pub(crate) const REPORTS: u32 = 200_000;

/// `--scale large`: tasks over all provinces, and how many provinces.
pub(crate) const LARGE_TASKS: u64 = 10_000_000;
pub(crate) const LARGE_TENANTS: u32 = 34;

/// Fills `tenant` up to the default province: units up to [`UNITS`], plans `p3`… up to
/// [`PLANS`] (`p1` is measured, `p2` takes the writes), the tasks beyond the measured
/// plan's `plan_tasks` spread over them, and [`REPORTS`] accepted reports of past periods.
pub(crate) async fn fill_province(conn: &mut PgConnection, tenant: &str, plan_tasks: u32) -> anyhow::Result<()> {
    units(conn, tenant, UNITS).await?;
    plans(conn, tenant, 3, PLANS).await?;
    let background = TASKS.saturating_sub(plan_tasks);
    sqlx::query(
        "insert into tasks (tenant_id, plan_id, task_id, title, lead_unit_id, due_date, state, search_text)
         select $1, 'p' || (3 + g % ($3 - 2)), 'b' || g, 'Nhiệm vụ ' || g, 'u' || (1 + g % $4),
             current_date - 400 + (g % 800),
             (array['NOT_STARTED', 'IN_PROGRESS', 'SUSPENDED', 'CLOSED_NOT_DONE'])[1 + g % 4], 'nhiem vu ' || g
         from generate_series(1, $2) g",
    )
    .bind(tenant)
    .bind(background as i32)
    .bind(PLANS as i32)
    .bind(UNITS as i32)
    .execute(&mut *conn)
    .await?;
    // Accepted reports of five years of quarters, a period per (plan, unit) pair.
    sqlx::query(
        "insert into reports (tenant_id, plan_id, report_id, unit_id, period_key, deadline, state, version,
             submit_time, summary)
         select $1, 'p' || (3 + g % ($3 - 2)), 'h' || g, 'u' || (1 + (g / ($3 - 2)) % $4),
             (2016 + (g / 4) % 5) || '-Q' || (1 + g % 4), date '2016-01-20' + (g % 1800),
             'ACCEPTED', 1, now() - interval '1 year', 'Báo cáo định kỳ.'
         from generate_series(1, $2) g",
    )
    .bind(tenant)
    .bind(REPORTS as i32)
    .bind(PLANS as i32)
    .bind(UNITS as i32)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Units `u1`..`u{count}` not yet there.
pub(crate) async fn units(conn: &mut PgConnection, tenant: &str, count: u32) -> anyhow::Result<()> {
    sqlx::query(
        "insert into units (tenant_id, unit_id, display_name, code, kind, valid_from, search_text)
         select $1, 'u' || g, 'Đơn vị ' || g, 'U' || g, 'AGENCY', date '2004-01-01', 'don vi ' || g
         from generate_series(1, $2) g
         on conflict do nothing",
    )
    .bind(tenant)
    .bind(count as i32)
    .execute(conn)
    .await?;
    Ok(())
}

/// Issued plans `p{first}`..`p{last}`.
async fn plans(conn: &mut PgConnection, tenant: &str, first: u32, last: u32) -> anyhow::Result<()> {
    sqlx::query(
        "insert into plans (tenant_id, plan_id, document_ref, document_year, issuing_unit_id, issue_date, title,
             monitoring_unit_id, state, search_text)
         select $1, 'p' || g, g || '/KH-UBND', 2024, 'u1', date '2024-01-05', 'Kế hoạch ' || g, 'u1', 'ISSUED',
             'ke hoach ' || g
         from generate_series($2, $3) g",
    )
    .bind(tenant)
    .bind(first as i32)
    .bind(last as i32)
    .execute(conn)
    .await?;
    Ok(())
}

/// `--scale large`: [`LARGE_TENANTS`] provinces holding [`LARGE_TASKS`] tasks in all,
/// loaded with COPY. The secondary indexes of `tasks` are dropped for the load and built
/// again after it, as a bulk load is done; their definitions are read from the catalog,
/// so they come back exactly as the migrations made them.
pub(crate) async fn load_large(
    conn: &mut PgConnection,
    measured_tenant: &str,
    today: NaiveDate,
) -> anyhow::Result<u64> {
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "select i.indexname, i.indexdef from pg_indexes i
         where i.tablename = 'tasks' and i.schemaname = 'public'
           and not exists (select 1 from pg_constraint c where c.conindid = (quote_ident(i.indexname))::regclass)",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (name, _) in &indexes {
        conn.execute(format!("drop index {name}").as_str()).await?;
    }
    let existing: i64 = sqlx::query_scalar("select count(*) from tasks").fetch_one(&mut *conn).await?;
    let per_tenant = (LARGE_TASKS - existing as u64) / u64::from(LARGE_TENANTS);
    let mut loaded = 0;
    for n in 1..=LARGE_TENANTS {
        let tenant = if n == 1 { measured_tenant.to_owned() } else { format!("{measured_tenant}-{n:02}") };
        if n > 1 {
            followup::admin::create_tenant(conn, &tenant, &format!("Tỉnh {n}")).await?;
            units(conn, &tenant, UNITS).await?;
            plans(conn, &tenant, 1, PLANS).await?;
        }
        // The measured province's plans p3.. hold its share; the others' p1.. theirs.
        let first_plan = if n == 1 { 3 } else { 1 };
        copy_tasks(conn, &tenant, first_plan, per_tenant, today).await?;
        loaded += per_tenant;
        println!("  loaded {per_tenant} tasks into {tenant}");
    }
    conn.execute("set maintenance_work_mem = '1GB'").await?;
    for (name, definition) in &indexes {
        let started = std::time::Instant::now();
        conn.execute(definition.as_str()).await?;
        println!("  rebuilt index {name} in {:.1?}", started.elapsed());
    }
    conn.execute("vacuum analyze tasks").await?;
    Ok(loaded)
}

/// COPYs `count` tasks into `tenant`'s plans `p{first_plan}`..`p{PLANS}`.
async fn copy_tasks(
    conn: &mut PgConnection,
    tenant: &str,
    first_plan: u32,
    count: u64,
    today: NaiveDate,
) -> anyhow::Result<()> {
    const STATES: [&str; 6] = ["NOT_STARTED", "IN_PROGRESS", "REPORTED_DONE", "DONE", "SUSPENDED", "CLOSED_NOT_DONE"];
    let plans = u64::from(PLANS - first_plan + 1);
    let mut copy = conn
        .copy_in_raw(
            "copy tasks (tenant_id, plan_id, task_id, title, lead_unit_id, due_date, standing, state,
                 completed_time, completed_date, search_text) from stdin",
        )
        .await?;
    let mut buffer = String::with_capacity(1 << 21);
    for g in 0..count {
        let standing = g % 17 == 0;
        let state = STATES[(g % 6) as usize];
        let due = today - Days::days(400) + Days::days((g % 800) as i64);
        let plan = u64::from(first_plan) + g % plans;
        let unit = 1 + g % u64::from(UNITS);
        let _ = write!(buffer, "{tenant}\tp{plan}\tl{g}\tNhiệm vụ {g}\tu{unit}\t");
        if standing {
            buffer.push_str("\\N\tt\t");
        } else {
            let _ = write!(buffer, "{due}\tf\t");
        }
        buffer.push_str(state);
        if matches!(state, "REPORTED_DONE" | "DONE") {
            let done = today - Days::days((g % 700) as i64);
            let _ = write!(buffer, "\t{done} 03:00:00+00\t{done}");
        } else {
            buffer.push_str("\t\\N\t\\N");
        }
        let _ = writeln!(buffer, "\tnhiem vu {g}");
        if buffer.len() > 1 << 20 {
            copy.send(buffer.as_bytes()).await?;
            buffer.clear();
        }
    }
    copy.send(buffer.as_bytes()).await?;
    copy.finish().await?;
    Ok(())
}
