//! TLS for `mqtts://` brokers: the rustls client configuration built from PEM files.
//!
//! The server is checked against the CA certificates of [`TlsFiles::ca`] (a PEM file of one
//! or more certificates) or, without one, against the system's trusted CAs; its certificate
//! must name the host of the URL (a DNS name, or an IP address SAN for `mqtts://127.0.0.1`).
//! With [`TlsFiles::client_cert`] and [`TlsFiles::client_key`] the client proves itself too
//! (mutual TLS). The crypto provider is `ring`; TLS 1.2 and 1.3 are offered.
//!
//! The files are read once, when the configuration is built, so a missing or unreadable
//! file is an error at start-up rather than on every reconnection.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// The PEM files of a TLS connection; all empty: the system's CAs, no client certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// CA certificates to trust instead of the system's (PEM).
    pub ca: Option<PathBuf>,
    /// The client's certificate chain, for mutual TLS (PEM).
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub client_key: Option<PathBuf>,
}

impl TlsFiles {
    /// Whether no file is given.
    pub fn is_empty(&self) -> bool {
        self.ca.is_none() && self.client_cert.is_none() && self.client_key.is_none()
    }
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|error| format!("cannot read {what} {}: {error}", path.display()))
}

/// The certificates of the PEM file at `path` (at least one).
fn certificates(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = read(path, what)?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("{what} {}: {error}", path.display()))?;
    if certificates.is_empty() {
        return Err(format!(
            "{what} {}: no PEM certificate (BEGIN CERTIFICATE) in it",
            path.display()
        ));
    }
    Ok(certificates)
}

/// The trusted CAs: those of `ca`, or the system's.
fn root_store(ca: Option<&Path>) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    match ca {
        Some(path) => {
            for certificate in certificates(path, "CA file")? {
                roots.add(certificate).map_err(|error| {
                    format!("CA file {}: not a CA certificate: {error}", path.display())
                })?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _ignored) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(String::from(
                    "no trusted CA certificates found on this system: give --ca FILE",
                ));
            }
        }
    }
    Ok(roots)
}

/// The rustls client configuration of `files` (module docs).
///
/// rustls 0.23.48 marks its `ring` provider deprecated because it lacks the post-quantum
/// key exchange of its default provider, aws-lc-rs. That one builds here (without cmake)
/// but adds over a minute of C compilation to every clean build on two cores, against a
/// few seconds for `ring`; brokers such as mosquitto offer classical ECDHE anyway.
#[allow(deprecated)]
pub fn client_config(files: &TlsFiles) -> Result<Arc<ClientConfig>, String> {
    let roots = root_store(files.ca.as_deref())?;
    let builder = ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|error| format!("TLS: {error}"))?
    .with_root_certificates(roots);
    let config = match (&files.client_cert, &files.client_key) {
        (None, None) => builder.with_no_client_auth(),
        (Some(cert), Some(key)) => {
            let chain = certificates(cert, "client certificate")?;
            let key_pem = read(key, "client key")?;
            let key_der = PrivateKeyDer::from_pem_slice(&key_pem)
                .map_err(|error| format!("client key {}: {error}", key.display()))?;
            builder
                .with_client_auth_cert(chain, key_der)
                .map_err(|error| {
                    format!(
                        "client certificate {} with key {}: {error}",
                        cert.display(),
                        key.display()
                    )
                })?
        }
        (Some(_), None) => return Err(String::from("a client certificate needs its key")),
        (None, Some(_)) => return Err(String::from("a client key needs its certificate")),
    };
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name)
    }

    fn temp_file(name: &str, text: &str) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("meterwire-tls-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_ca_file_is_read() {
        let files = TlsFiles {
            ca: Some(fixture("test-ca.pem")),
            ..TlsFiles::default()
        };
        let config = client_config(&files).unwrap();
        assert!(!config.client_auth_cert_resolver.has_certs());
    }

    #[test]
    fn bad_files_are_errors_naming_the_file() {
        let missing = TlsFiles {
            ca: Some(PathBuf::from("/nonexistent/ca.pem")),
            ..TlsFiles::default()
        };
        let error = client_config(&missing).unwrap_err();
        assert!(
            error.contains("cannot read CA file /nonexistent/ca.pem"),
            "{error}"
        );

        let not_pem = temp_file("not-pem.pem", "this is no certificate\n");
        let files = TlsFiles {
            ca: Some(not_pem.clone()),
            ..TlsFiles::default()
        };
        let error = client_config(&files).unwrap_err();
        std::fs::remove_file(&not_pem).unwrap();
        assert!(error.contains("no PEM certificate"), "{error}");

        let half = TlsFiles {
            ca: Some(fixture("test-ca.pem")),
            client_cert: Some(fixture("test-ca.pem")),
            client_key: None,
        };
        assert_eq!(
            client_config(&half).unwrap_err(),
            "a client certificate needs its key"
        );
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_refused() {
        // The key file holds no private key at all: a certificate is not a key.
        let files = TlsFiles {
            ca: Some(fixture("test-ca.pem")),
            client_cert: Some(fixture("test-ca.pem")),
            client_key: Some(fixture("test-ca.pem")),
        };
        let error = client_config(&files).unwrap_err();
        assert!(error.starts_with("client key "), "{error}");
    }
}
