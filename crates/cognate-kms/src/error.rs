//! KMS errors, one variant per KMS exception name.

use crate::store::StoreError;

/// An error of the built-in KMS. [`KmsError::error_type`] is the AWS exception name sent as
/// `__type`; the `Display` text is the message sent to clients, except for
/// [`KmsError::Internal`], whose details are for logs only (see [`KmsError::client_message`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KmsError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    InvalidCiphertext(String),
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    Disabled(String),
    #[error("{0}")]
    IncorrectKey(String),
    #[error("{0}")]
    InvalidKeyUsage(String),
    #[error("{0}")]
    InvalidState(String),
    #[error("{0}")]
    InvalidMarker(String),
    #[error("{0}")]
    UnsupportedOperation(String),
    #[error("{0}")]
    Serialization(String),
    #[error("{0}")]
    UnknownOperation(String),
    /// Storage or crypto failure; the text is for logs.
    #[error("internal error: {0}")]
    Internal(String),
}

impl KmsError {
    /// The AWS exception name (`__type`).
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "NotFoundException",
            Self::InvalidCiphertext(_) => "InvalidCiphertextException",
            Self::Validation(_) => "ValidationException",
            Self::AlreadyExists(_) => "AlreadyExistsException",
            Self::Disabled(_) => "DisabledException",
            Self::IncorrectKey(_) => "IncorrectKeyException",
            Self::InvalidKeyUsage(_) => "InvalidKeyUsageException",
            Self::InvalidState(_) => "KMSInvalidStateException",
            Self::InvalidMarker(_) => "InvalidMarkerException",
            Self::UnsupportedOperation(_) => "UnsupportedOperationException",
            Self::Serialization(_) => "SerializationException",
            Self::UnknownOperation(_) => "UnknownOperationException",
            Self::Internal(_) => "KMSInternalException",
        }
    }

    /// The HTTP status KMS uses for this error.
    pub fn status(&self) -> u16 {
        match self {
            Self::Internal(_) => 500,
            _ => 400,
        }
    }

    /// The message safe to send to a client.
    pub fn client_message(&self) -> String {
        match self {
            Self::Internal(_) => "The request could not be completed due to an internal error.".to_owned(),
            other => other.to_string(),
        }
    }
}

impl From<StoreError> for KmsError {
    fn from(e: StoreError) -> Self {
        Self::Internal(e.to_string())
    }
}
