//! The signature file: a Sigstore bundle v0.3 (JSON) whose content is a DSSE envelope
//! of the OMS statement, signed with ECDSA P-256 / SHA-256 over the DSSE
//! pre-authentication encoding (PAE). For key-based signatures the verification
//! material names the public key by its id (`publicKey.hint`) and holds no
//! transparency-log entries, as `model_signing`'s key signer writes it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use p256::ecdsa::DerSignature;
use p256::ecdsa::signature::{Signer, Verifier};
use serde::{Deserialize, Serialize};

use crate::SigningError;
use crate::keys::{PrivateKey, PublicKey};
use crate::statement::{self, SignedManifest};

/// The signature file's name in a skill folder (what `model_signing` defaults to).
pub const SIGNATURE_FILE: &str = "model.sig";
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// Signature files larger than this are refused unread.
pub const MAX_SIGNATURE_BYTES: u64 = 16 << 20;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    pub media_type: String,
    pub verification_material: VerificationMaterial,
    pub dsse_envelope: Envelope,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMaterial {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyIdentifier>,
    #[serde(default)]
    pub tlog_entries: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublicKeyIdentifier {
    #[serde(default)]
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub payload: String,
    pub payload_type: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    pub sig: String,
    #[serde(default)]
    pub keyid: String,
}

/// DSSE v1 pre-authentication encoding of a payload of type [`PAYLOAD_TYPE`].
pub fn pae(payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {PAYLOAD_TYPE} {} ",
        PAYLOAD_TYPE.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// Signs a statement into a bundle.
pub fn sign(statement: &[u8], key: &PrivateKey) -> Result<Bundle, SigningError> {
    let signature: DerSignature = key.signing().sign(&pae(statement));
    Ok(Bundle {
        media_type: BUNDLE_MEDIA_TYPE.into(),
        verification_material: VerificationMaterial {
            public_key: Some(PublicKeyIdentifier {
                hint: Some(key.public().id().to_string()),
            }),
            tlog_entries: Vec::new(),
        },
        dsse_envelope: Envelope {
            payload: B64.encode(statement),
            payload_type: PAYLOAD_TYPE.into(),
            signatures: vec![EnvelopeSignature {
                sig: B64.encode(signature.as_bytes()),
                keyid: String::new(),
            }],
        },
    })
}

impl Bundle {
    /// Parses a signature file (bounded by the caller: see [`MAX_SIGNATURE_BYTES`]).
    pub fn parse(bytes: &[u8]) -> Result<Bundle, SigningError> {
        if bytes.len() as u64 > MAX_SIGNATURE_BYTES {
            return Err(SigningError::Malformed(format!(
                "{} bytes, more than the {MAX_SIGNATURE_BYTES} a signature may have",
                bytes.len()
            )));
        }
        serde_json::from_slice(bytes).map_err(|e| SigningError::Malformed(e.to_string()))
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a bundle always serializes")
    }

    /// The key id the bundle claims (unverified).
    pub fn key_hint(&self) -> Option<&str> {
        self.verification_material
            .public_key
            .as_ref()
            .and_then(|k| k.hint.as_deref())
            .filter(|h| !h.is_empty())
    }

    /// Verifies the envelope with one of `keys` (the one the bundle names, or, for a
    /// bundle that names none, each in turn) and returns the signed files.
    pub fn verify(&self, keys: &[PublicKey]) -> Result<SignedManifest, SigningError> {
        let (payload, key_id) = self.verify_payload(keys)?;
        statement::parse(&payload, &key_id)
    }

    /// The payload, not verified: for readers that only check consistency (an import
    /// without keys) and say so.
    pub fn payload_unverified(&self) -> Result<Vec<u8>, SigningError> {
        self.check_types()?;
        B64.decode(&self.dsse_envelope.payload)
            .map_err(|e| SigningError::Malformed(format!("payload is not base64: {e}")))
    }

    fn check_types(&self) -> Result<(), SigningError> {
        if self.media_type != BUNDLE_MEDIA_TYPE {
            return Err(SigningError::Malformed(format!(
                "mediaType is {:?}, expected {BUNDLE_MEDIA_TYPE}",
                self.media_type
            )));
        }
        let env = &self.dsse_envelope;
        if env.payload_type != PAYLOAD_TYPE {
            return Err(SigningError::Malformed(format!(
                "payloadType is {:?}, expected {PAYLOAD_TYPE}",
                env.payload_type
            )));
        }
        Ok(())
    }

    /// Verifies the envelope's one signature over its PAE with one of `keys`; returns
    /// the payload and the id of the key that verified it.
    pub fn verify_payload(&self, keys: &[PublicKey]) -> Result<(Vec<u8>, String), SigningError> {
        self.check_types()?;
        let env = &self.dsse_envelope;
        let [sig] = env.signatures.as_slice() else {
            return Err(SigningError::Malformed(format!(
                "expected one DSSE signature, got {}",
                env.signatures.len()
            )));
        };
        let payload = B64
            .decode(&env.payload)
            .map_err(|e| SigningError::Malformed(format!("payload is not base64: {e}")))?;
        let candidates: Vec<&PublicKey> = match self.key_hint() {
            Some(hint) => keys.iter().filter(|k| k.id() == hint).collect(),
            None => keys.iter().collect(),
        };
        if candidates.is_empty() {
            return Err(SigningError::UntrustedKey {
                key_id: self.key_hint().unwrap_or("(none named)").to_string(),
                trusted: keys.iter().map(|k| k.id().to_string()).collect(),
            });
        }
        let raw = B64.decode(&sig.sig).ok();
        let der = raw
            .as_deref()
            .and_then(|r| DerSignature::from_bytes(r).ok());
        let message = pae(&payload);
        let key = candidates
            .iter()
            .find(|k| {
                der.as_ref()
                    .is_some_and(|d| k.verifying().verify(&message, d).is_ok())
            })
            .ok_or_else(|| SigningError::BadSignature {
                key: candidates
                    .iter()
                    .map(|k| k.id().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        Ok((payload, key.id().to_string()))
    }
}
