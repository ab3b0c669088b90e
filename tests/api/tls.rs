//! TLS and mutual TLS on the gRPC port, with certificates generated for the test.

use std::net::SocketAddr;
use std::sync::Arc;

use followup::domain::calendar::ManualClock;
use followup::server::tls::TlsSettings;
use followup::server::{Application, ServerSettings};
use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};
use tokio::sync::oneshot;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

use crate::helpers::{default_now, fresh_database, settings};

/// A certificate authority and what it signs, as PEM.
struct Pki {
    ca_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A certificate and its key, as PEM.
struct Signed {
    certificate: String,
    key: String,
}

impl Pki {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let ca_pem = params.self_signed(&key).unwrap().pem();
        Self { ca_pem, issuer: Issuer::new(params, key) }
    }

    fn sign(&self, names: &[&str], purpose: ExtendedKeyUsagePurpose) -> Signed {
        let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        params.extended_key_usages.push(purpose);
        let key = KeyPair::generate().unwrap();
        let certificate = params.signed_by(&key, &self.issuer).unwrap().pem();
        Signed { certificate, key: key.serialize_pem() }
    }
}

async fn serve(tls: TlsSettings) -> (SocketAddr, oneshot::Sender<()>) {
    let clock = Arc::new(ManualClock::new(default_now()));
    let settings = ServerSettings { tls: Some(tls), ..settings(fresh_database().await, clock) };
    let app = Application::build(settings).await.unwrap();
    let addr = app.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// Health/Check over TLS trusting `ca`, presenting `client` if given.
async fn check(addr: SocketAddr, ca: &str, client: Option<&Signed>) -> Result<ServingStatus, String> {
    let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca)).domain_name("localhost");
    if let Some(client) = client {
        tls = tls.identity(Identity::from_pem(&client.certificate, &client.key));
    }
    let channel = Channel::from_shared(format!("https://{addr}"))
        .unwrap()
        .tls_config(tls)
        .map_err(|e| e.to_string())?
        .connect()
        .await
        .map_err(|e| format!("connect: {e:?}"))?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest { service: String::new() })
        .await
        .map_err(|s| format!("call: {s:?}"))?;
    Ok(response.into_inner().status())
}

/// SERVING once the health watcher has seen the database.
async fn eventually_serving(addr: SocketAddr, ca: &str, client: Option<&Signed>) {
    for _ in 0..50 {
        if check(addr, ca, client).await == Ok(ServingStatus::Serving) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("never SERVING over TLS: {:?}", check(addr, ca, client).await);
}

async fn plaintext_fails(addr: SocketAddr) {
    let result = async {
        let channel = Channel::from_shared(format!("http://{addr}")).unwrap().connect().await?;
        HealthClient::new(channel).check(HealthCheckRequest::default()).await.map_err(|s| s.into())
    }
    .await
    .map_err(|e: Box<dyn std::error::Error>| e.to_string());
    assert!(result.is_err(), "a plaintext call to a TLS port must fail");
}

#[tokio::test]
async fn with_a_certificate_the_port_speaks_tls_only() {
    let pki = Pki::new("followup test CA");
    let server = pki.sign(&["localhost"], ExtendedKeyUsagePurpose::ServerAuth);
    let tls = TlsSettings::from_pem(server.certificate.into_bytes(), server.key.into_bytes(), None);
    let (addr, _stop) = serve(tls).await;

    eventually_serving(addr, &pki.ca_pem, None).await;
    plaintext_fails(addr).await;
    let stranger = Pki::new("some other CA");
    assert!(check(addr, &stranger.ca_pem, None).await.is_err(), "a client that does not trust the CA refuses");
}

#[tokio::test]
async fn with_a_client_ca_only_callers_with_its_certificates_get_in() {
    let pki = Pki::new("followup test CA");
    let portals = Pki::new("provincial portals CA");
    let server = pki.sign(&["localhost"], ExtendedKeyUsagePurpose::ServerAuth);
    let tls = TlsSettings::from_pem(
        server.certificate.into_bytes(),
        server.key.into_bytes(),
        Some(portals.ca_pem.clone().into_bytes()),
    );
    let (addr, _stop) = serve(tls).await;

    let portal = portals.sign(&["portal.haugiang.gov.vn"], ExtendedKeyUsagePurpose::ClientAuth);
    eventually_serving(addr, &pki.ca_pem, Some(&portal)).await;

    assert!(check(addr, &pki.ca_pem, None).await.is_err(), "no client certificate: refused");
    let impostor = Pki::new("impostor CA").sign(&["portal.haugiang.gov.vn"], ExtendedKeyUsagePurpose::ClientAuth);
    assert!(check(addr, &pki.ca_pem, Some(&impostor)).await.is_err(), "a certificate from another CA: refused");
    plaintext_fails(addr).await;
}

#[test]
fn a_certificate_without_its_key_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, "x").unwrap();
    let error = TlsSettings::from_files(Some(&cert), None, None).unwrap_err();
    assert!(error.to_string().contains("--tls-cert and --tls-key go together"), "{error}");
    let missing = dir.path().join("missing.pem");
    let error = TlsSettings::from_files(Some(&cert), Some(&missing), None).unwrap_err();
    assert!(error.to_string().contains("missing.pem"), "names the missing file: {error}");
    let error = TlsSettings::from_files(None, None, Some(&cert)).unwrap_err();
    assert!(error.to_string().contains("mutual TLS"), "{error}");
    assert!(TlsSettings::from_files(None, None, None).unwrap().is_none(), "no files: plaintext");
}
