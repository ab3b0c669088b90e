//! What operators rely on outside the API: the README's configuration table is the
//! binary's real set of flags, and the container's environment (docker-compose.yml) is
//! enough to serve and to pass its own health check.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::helpers::{fresh_database_url, terminate, wait_for_address};

const BIN: &str = env!("CARGO_BIN_EXE_followup");

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// `--flag` → (environment variable, default) as `followup --help` prints them.
fn flags_in_help() -> BTreeMap<String, (String, Option<String>)> {
    let help = String::from_utf8(Command::new(BIN).arg("--help").output().unwrap().stdout).unwrap();
    let mut flags = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in help.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("--").or_else(|| line.split_once(", --").map(|(_, r)| r)) {
            let name = format!("--{}", rest.split_whitespace().next().unwrap());
            if name != "--help" && name != "--version" {
                flags.insert(name.clone(), (String::new(), None));
                current = Some(name);
            } else {
                current = None;
            }
        } else if let Some(flag) = &current {
            let entry = flags.get_mut(flag).unwrap();
            if let Some(env) = line.strip_prefix("[env: ") {
                entry.0 = env.trim_end_matches(']').trim_end_matches('=').to_owned();
            } else if let Some(default) = line.strip_prefix("[default: ") {
                entry.1 = Some(default.trim_end_matches(']').to_owned());
            }
        }
    }
    flags
}

/// `--flag` → (environment variable, default cell) from the README's configuration table.
fn flags_in_readme() -> BTreeMap<String, (String, String)> {
    repo_file("README.md")
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let flag = cells.get(1)?.strip_prefix("`--")?.strip_suffix('`')?;
            let env = cells.get(2)?.trim_matches('`');
            Some((format!("--{flag}"), (env.to_owned(), cells.get(3)?.to_string())))
        })
        .collect()
}

#[test]
fn the_readme_configuration_table_is_the_binarys_help() {
    let help = flags_in_help();
    let readme = flags_in_readme();
    assert_eq!(
        help.keys().collect::<Vec<_>>(),
        readme.keys().collect::<Vec<_>>(),
        "the README's table lists exactly the flags of `followup --help`"
    );
    for (flag, (env, default)) in &help {
        let (readme_env, readme_default) = &readme[flag];
        assert_eq!(env, readme_env, "{flag}'s environment variable");
        if let Some(default) = default {
            assert!(
                readme_default.contains(&format!("`{default}`")),
                "{flag}: README says {readme_default}, --help {default}"
            );
        }
    }
}

/// The `environment:` of the `followup` service in docker-compose.yml.
fn compose_environment() -> Vec<(String, String)> {
    let compose = repo_file("docker-compose.yml");
    let service = compose.split("\n  followup:\n").nth(1).expect("a followup service");
    let block = service.split("    environment:\n").nth(1).expect("its environment");
    block
        .lines()
        .take_while(|l| l.starts_with("      "))
        .filter_map(|l| l.trim().split_once(": "))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_with_only_the_compose_environment() {
    let url = fresh_database_url().await;
    let mut env = compose_environment();
    let names: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
    assert!(names.contains(&"DATABASE_URL") && names.contains(&"FOLLOWUP_LISTEN"), "{names:?}");
    // The same settings, but this machine's database and free ports.
    for (name, value) in &mut env {
        match name.as_str() {
            "DATABASE_URL" => *value = url.clone(),
            "FOLLOWUP_LISTEN" | "FOLLOWUP_METRICS_LISTEN" => *value = "127.0.0.1:0".into(),
            _ => {}
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("followup.log");
    let mut server = Command::new(BIN)
        .env_clear()
        .envs(env.iter().cloned())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let addr = wait_for_address(&log, Duration::from_secs(30));
    // The container's health check, with the container's environment.
    let mut healthy = false;
    for _ in 0..50 {
        let status = Command::new(BIN)
            .env_clear()
            .envs(env.iter().cloned())
            .env("FOLLOWUP_LISTEN", &addr)
            .arg("healthcheck")
            .output()
            .unwrap()
            .status;
        if status.success() {
            healthy = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(healthy, "`followup healthcheck` passes against the compose-configured server");
    // The first admin key, as the compose file's comment says to make it.
    let output =
        Command::new(BIN).env_clear().envs(env.iter().cloned()).args(["tenants", "create", "demo"]).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let output = Command::new(BIN)
        .env_clear()
        .envs(env.iter().cloned())
        .args(["keys", "create", "--tenant", "demo", "--role", "ADMIN"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).contains("fu1.demo."), "{output:?}");
    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(logs.contains("serving Prometheus metrics"), "the compose file turns metrics on:\n{logs}");
    assert!(terminate(&mut server, Duration::from_secs(15)).success());
}
