//! What can be wrong with a bundle, naming the member and the value, for the export and
//! import commands to show as they are.

/// A bundle that cannot be written or read, and why.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the bundle is truncated: {what}")]
    Truncated { what: String },
    #[error("not an rskill bundle: {reason}")]
    NotABundle { reason: String },
    #[error("the bundle has format version {found}, this build reads up to version {supported}")]
    NewerFormat { found: u64, supported: u32 },
    #[error("member `{member}` is {size} bytes, more than the {max} allowed")]
    Oversize { member: String, size: u64, max: u64 },
    #[error("member `{name}`: {reason}")]
    BadMember { name: String, reason: String },
    #[error("member `{member}` does not match its digest: expected {expected}, got {actual}")]
    Digest {
        member: String,
        expected: String,
        actual: String,
    },
    #[error("member `{member}`: expected {expected} bytes, got {actual}")]
    Size {
        member: String,
        expected: u64,
        actual: u64,
    },
    #[error("the bundle's manifest does not match its content: {reason}")]
    Manifest { reason: String },
    #[error("the bundle's metadata ({}) is invalid: {reason}", crate::META_NAME)]
    Meta { reason: String },
    #[error("storing blob {blob}: {source}")]
    Sink {
        blob: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl BundleError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> BundleError {
        let context = context.into();
        move |source| BundleError::Io { context, source }
    }

    /// Whether the bundle itself is at fault (as opposed to the disk or the sink).
    pub fn is_corrupt(&self) -> bool {
        !matches!(self, BundleError::Io { .. } | BundleError::Sink { .. })
    }
}
