//! Closed-loop load: N clients over a few connections call as fast as answers come, for
//! a fixed time, and the latencies and error codes are tallied.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use serde::Serialize;

/// What one scenario measured.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Stats {
    /// The scenario.
    pub(crate) name: String,
    /// Concurrent clients.
    pub(crate) clients: usize,
    /// Calls answered OK.
    pub(crate) ok: usize,
    /// Calls per second, OK ones only.
    pub(crate) rps: f64,
    /// Latency percentiles and maximum, in milliseconds.
    pub(crate) p50_ms: f64,
    /// 90th percentile.
    pub(crate) p90_ms: f64,
    /// 95th percentile.
    pub(crate) p95_ms: f64,
    /// 99th percentile.
    pub(crate) p99_ms: f64,
    /// Maximum.
    pub(crate) max_ms: f64,
    /// Errors by gRPC code (or "other").
    pub(crate) errors: BTreeMap<String, usize>,
}

/// The value at fraction `p` of `sorted`.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Summarises latencies and errors.
pub(crate) fn stats(
    name: &str,
    clients: usize,
    elapsed: Duration,
    mut latencies: Vec<Duration>,
    errors: BTreeMap<String, usize>,
) -> Stats {
    latencies.sort();
    Stats {
        name: name.to_owned(),
        clients,
        ok: latencies.len(),
        rps: latencies.len() as f64 / elapsed.as_secs_f64().max(1e-9),
        p50_ms: ms(percentile(&latencies, 0.50)),
        p90_ms: ms(percentile(&latencies, 0.90)),
        p95_ms: ms(percentile(&latencies, 0.95)),
        p99_ms: ms(percentile(&latencies, 0.99)),
        max_ms: ms(latencies.last().copied().unwrap_or_default()),
        errors,
    }
}

/// Runs `clients` loops for `duration`; `call(client_index, iteration)` makes one call and
/// says how it ended (`Err(code)` for an error).
pub(crate) async fn run<F, Fut>(name: &str, clients: usize, duration: Duration, call: F) -> Stats
where
    F: Fn(usize, usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    println!("running {name}: {clients} clients for {duration:.0?}");
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(clients);
    for client in 0..clients {
        let call = call.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors: BTreeMap<String, usize> = BTreeMap::new();
            let mut iteration = 0;
            while Instant::now() < deadline {
                let begin = Instant::now();
                match call(client, iteration).await {
                    Ok(()) => latencies.push(begin.elapsed()),
                    Err(code) => *errors.entry(code).or_default() += 1,
                }
                iteration += 1;
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    for task in tasks {
        if let Ok((l, e)) = task.await {
            latencies.extend(l);
            for (code, n) in e {
                *errors.entry(code).or_default() += n;
            }
        }
    }
    stats(name, clients, started.elapsed(), latencies, errors)
}

/// Prints the table header.
pub(crate) fn header() {
    println!(
        "{:<22} {:>7} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8}  errors",
        "scenario", "clients", "rps", "p50 ms", "p90 ms", "p99 ms", "max ms", "ok"
    );
}

/// Prints one row.
pub(crate) fn row(s: &Stats) {
    let errors = if s.errors.is_empty() {
        "-".to_owned()
    } else {
        s.errors.iter().map(|(c, n)| format!("{c}:{n}")).collect::<Vec<_>>().join(" ")
    };
    println!(
        "{:<22} {:>7} {:>9.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8}  {errors}",
        s.name, s.clients, s.rps, s.p50_ms, s.p90_ms, s.p99_ms, s.max_ms, s.ok
    );
}
