//! The `followup` binary itself: operators' commands against a database URL, a cold start
//! on a managed PostgreSQL, logs that never hold a key, and a clean exit on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use followup::api::proto::followup::v1::{self as pb, unit_service_client::UnitServiceClient};
use tonic::Code;
use tonic::transport::Channel;

use crate::assert_error;
use crate::helpers::{bearer, fresh_database_url, terminate, wait_for_address};

const BIN: &str = env!("CARGO_BIN_EXE_followup");

fn followup(database_url: &str, args: &[&str]) -> Output {
    let output = Command::new(BIN).args(args).env("DATABASE_URL", database_url).output().unwrap();
    assert!(output.status.success(), "followup {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Waits for the JSON log line that says where the server listens.
async fn units(
    addr: &str,
    key: &str,
) -> UnitServiceClient<tonic::service::interceptor::InterceptedService<Channel, crate::helpers::Bearer>> {
    let channel = Channel::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap();
    UnitServiceClient::with_interceptor(channel, bearer(Some(key)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_commands_work_against_a_database_url_and_keys_stay_out_of_logs() {
    let url = fresh_database_url().await;
    assert!(
        stdout(&followup(&url, &["tenants", "create", "hau-giang", "--display-name", "Tỉnh Hậu Giang"]))
            .contains("created tenant hau-giang")
    );
    let created = stdout(&followup(
        &url,
        &["keys", "create", "--tenant", "hau-giang", "--role", "admin", "--description", "portal"],
    ));
    let key = created.lines().last().unwrap().trim().to_owned();
    let key_id = key.split('.').nth(2).unwrap().to_owned();
    let secret = key.rsplit('.').next().unwrap().to_owned();
    let loaded = stdout(&followup(&url, &["demo", "load", "--tenant", "hau-giang"]));
    assert!(loaded.contains("loaded plan kh-963-ubnd"), "{loaded}");
    let again = stdout(&followup(&url, &["demo", "load", "--tenant", "hau-giang"]));
    assert!(again.contains("already loaded"), "{again}");
    let listed = stdout(&followup(&url, &["keys", "list", "--tenant", "hau-giang"]));
    assert!(
        listed.contains(&key_id) && listed.contains("ADMIN") && listed.contains("active") && !listed.contains(&secret),
        "{listed}"
    );

    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("followup.log");
    let mut server = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", &url)
        .env("FOLLOWUP_LOG_FORMAT", "json")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let addr = wait_for_address(&log, Duration::from_secs(30));

    let mut client = units(&addr, &key).await;
    let demo_units = client.list_units(pb::ListUnitsRequest::default()).await.expect("the key works").into_inner();
    assert_eq!(demo_units.units.len(), 8, "the demo's units");
    // Another valid last character (it carries 4 bits of the secret): a different secret.
    let last = if key.ends_with('A') { 'E' } else { 'A' };
    let wrong = format!("{}{last}", &key[..key.len() - 1]);
    let status = units(&addr, &wrong).await.list_units(pb::ListUnitsRequest::default()).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "API_KEY_INVALID");

    followup(&url, &["keys", "revoke", "--tenant", "hau-giang", &key_id]);
    // The running server hears of the revocation when it commits.
    let revoked = Instant::now();
    let status = loop {
        match client.list_units(pb::ListUnitsRequest::default()).await {
            Err(status) => break status,
            Ok(_) => assert!(revoked.elapsed() < Duration::from_millis(500), "still accepted 500 ms after revoke"),
        }
    };
    eprintln!("the revoked key was refused {:?} after `keys revoke` exited", revoked.elapsed());
    assert_error(&status, Code::Unauthenticated, "API_KEY_REVOKED");
    assert!(stdout(&followup(&url, &["keys", "list"])).contains("revoked"));

    let status = terminate(&mut server, Duration::from_secs(15));
    assert!(status.success(), "exit 0 on SIGTERM, got {status}");
    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(
        logs.contains("rpc finished") && logs.contains("\"tenant\":\"hau-giang\""),
        "one span per RPC with its tenant:\n{logs}"
    );
    assert!(!logs.contains(&secret), "a key's secret reached the log");
    assert!(logs.contains("server stopped"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_managed_start_serves_and_prints_a_working_key() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let log = dir.path().join("followup.log");
    let started = Instant::now();
    let mut server = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("DATABASE_URL")
        .env("FOLLOWUP_DATA_DIR", &data_dir)
        .env("FOLLOWUP_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let addr = wait_for_address(&log, Duration::from_secs(60));
    let mut banner = String::new();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    while !banner.contains("Lost it?") {
        banner.push_str(&lines.next().expect("the first-run banner").unwrap());
        banner.push('\n');
    }
    let key =
        banner.split_whitespace().find(|w| w.starts_with("fu1.demo.")).expect("a demo key in the banner").to_owned();
    assert!(banner.contains("grpcurl -plaintext -H \"authorization: Bearer $FOLLOWUP_KEY\""), "{banner}");
    units(&addr, &key).await.list_units(pb::ListUnitsRequest::default()).await.expect("the printed key works");
    eprintln!("cold start to a served call: {:?} (initdb included)", started.elapsed());

    let status = terminate(&mut server, Duration::from_secs(30));
    assert!(status.success(), "exit 0 on SIGTERM, got {status}");
    assert!(!data_dir.join("pg/postmaster.pid").exists(), "the managed PostgreSQL stopped with the service");
}
