//! TLS for the Hub client: the platform's root certificates, loaded on the first TLS
//! handshake instead of when the client is built.
//!
//! reqwest's default verifier reads and parses every file of the system trust store
//! (about 150 certificates, several milliseconds of a 50 ms warm search) as soon as a
//! client is built. A command that talks to an `http://` Hub (an air-gapped
//! `rskill-hub`) or that makes no request at all should not pay that. Verification is
//! unchanged: the first handshake builds the same platform verifier reqwest would
//! (`rustls-platform-verifier`) and every certificate goes through it.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

/// The platform verifier, built on first use.
#[derive(Debug)]
pub struct LazyPlatformVerifier {
    provider: Arc<CryptoProvider>,
    inner: OnceLock<Result<rustls_platform_verifier::Verifier, rustls::Error>>,
}

impl LazyPlatformVerifier {
    pub fn new(provider: Arc<CryptoProvider>) -> LazyPlatformVerifier {
        LazyPlatformVerifier {
            provider,
            inner: OnceLock::new(),
        }
    }

    /// Whether the trust store has been read yet.
    pub fn loaded(&self) -> bool {
        self.inner.get().is_some()
    }

    fn verifier(&self) -> Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        self.inner
            .get_or_init(|| rustls_platform_verifier::Verifier::new(self.provider.clone()))
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl ServerCertVerifier for LazyPlatformVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.verifier()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifier()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifier()?.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        // What the platform verifier answers, without reading the trust store.
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The TLS configuration of the Hub client: reqwest's defaults (aws-lc-rs, the
/// platform's roots, HTTP/2 and HTTP/1.1 offered by ALPN) with the roots read lazily.
pub fn client_config() -> Result<(ClientConfig, Arc<LazyPlatformVerifier>), rustls::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(LazyPlatformVerifier::new(provider.clone()));
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((config, verifier))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn building_the_config_reads_no_certificate() {
        let (_, verifier) = client_config().unwrap();
        assert!(!verifier.loaded());
        assert!(!verifier.supported_verify_schemes().is_empty());
        assert!(!verifier.loaded());
    }

    #[test]
    fn certificates_are_still_verified() {
        let (_, verifier) = client_config().unwrap();
        let junk = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x01]);
        let name = ServerName::try_from("huggingface.co").unwrap();
        let verdict = verifier.verify_server_cert(&junk, &[], &name, &[], UnixTime::now());
        assert!(verdict.is_err(), "a junk certificate was accepted");
        assert!(verifier.loaded());
    }
}
