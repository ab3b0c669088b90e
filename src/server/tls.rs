//! TLS for the gRPC port: server TLS when a certificate and key are given, and mutual TLS
//! (callers must present a certificate signed by the client CA) when a client CA is given.

use std::path::{Path, PathBuf};

use tonic::transport::{Certificate, Identity, ServerTlsConfig};

/// PEM files for TLS, read at start so a missing file fails the start, not a handshake.
#[derive(Clone)]
pub struct TlsSettings {
    certificate: Vec<u8>,
    key: Vec<u8>,
    client_ca: Option<Vec<u8>>,
}

impl std::fmt::Debug for TlsSettings {
    // The private key never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSettings").field("mutual", &self.client_ca.is_some()).finish_non_exhaustive()
    }
}

fn read(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("reading the {what} {}: {e}", path.display()))
}

impl TlsSettings {
    /// From PEM contents: the server's certificate chain and key, and optionally the CA
    /// that signs client certificates.
    pub fn from_pem(certificate: Vec<u8>, key: Vec<u8>, client_ca: Option<Vec<u8>>) -> Self {
        Self { certificate, key, client_ca }
    }

    /// From the configured files; `None` when no certificate is configured. A certificate
    /// without a key (or the reverse) is a configuration error, not plaintext.
    pub fn from_files(
        certificate: Option<&PathBuf>,
        key: Option<&PathBuf>,
        client_ca: Option<&PathBuf>,
    ) -> anyhow::Result<Option<Self>> {
        match (certificate, key) {
            (None, None) if client_ca.is_some() => {
                anyhow::bail!("--tls-client-ca needs --tls-cert and --tls-key: mutual TLS is TLS first")
            }
            (None, None) => Ok(None),
            (Some(certificate), Some(key)) => Ok(Some(Self {
                certificate: read(certificate, "TLS certificate")?,
                key: read(key, "TLS key")?,
                client_ca: client_ca.map(|ca| read(ca, "client CA certificate")).transpose()?,
            })),
            _ => anyhow::bail!("--tls-cert and --tls-key go together"),
        }
    }

    /// tonic's configuration for these files.
    pub fn server_config(&self) -> ServerTlsConfig {
        let config = ServerTlsConfig::new().identity(Identity::from_pem(&self.certificate, &self.key));
        match &self.client_ca {
            Some(ca) => config.client_ca_root(Certificate::from_pem(ca)),
            None => config,
        }
    }
}
