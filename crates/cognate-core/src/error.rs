//! The domain's error: one kind per Cognito exception name, plus a message for the caller.
//! Internal failures carry their detail for the log only; callers see a generic message.
use std::fmt;

macro_rules! kinds {
    ($($name:ident),* $(,)?) => {
        /// Cognito exception names, as they appear in `__type`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(clippy::enum_variant_names)]
        pub enum ErrorKind { $($name),* }
        impl ErrorKind {
            pub fn name(self) -> &'static str {
                match self { $(ErrorKind::$name => stringify!($name)),* }
            }
        }
    };
}

kinds!(
    AliasExistsException,
    CodeDeliveryFailureException,
    CodeMismatchException,
    ConcurrentModificationException,
    DuplicateProviderException,
    EnableSoftwareTokenMFAException,
    ExpiredCodeException,
    FeatureUnavailableInTierException,
    ForbiddenException,
    GroupExistsException,
    InternalErrorException,
    InvalidEmailRoleAccessPolicyException,
    InvalidLambdaResponseException,
    InvalidOAuthFlowException,
    InvalidParameterException,
    InvalidPasswordException,
    InvalidSmsRoleAccessPolicyException,
    InvalidSmsRoleTrustRelationshipException,
    InvalidUserPoolConfigurationException,
    LimitExceededException,
    MFAMethodNotFoundException,
    NotAuthorizedException,
    PasswordHistoryPolicyViolationException,
    PasswordResetRequiredException,
    PreconditionNotMetException,
    RefreshTokenReuseException,
    ResourceNotFoundException,
    SerializationException,
    UnknownOperationException,
    UnrecognizedClientException,
    ScopeDoesNotExistException,
    SoftwareTokenMFANotFoundException,
    TooManyFailedAttemptsException,
    TooManyRequestsException,
    UnauthorizedException,
    UnexpectedLambdaException,
    UnsupportedIdentityProviderException,
    UnsupportedOperationException,
    UnsupportedTokenTypeException,
    UnsupportedUserStateException,
    UserImportInProgressException,
    UserLambdaValidationException,
    UserNotConfirmedException,
    UserNotFoundException,
    UserPoolAddOnNotEnabledException,
    UserPoolTaggingException,
    UsernameExistsException,
    WebAuthnChallengeNotFoundException,
    WebAuthnClientMismatchException,
    WebAuthnConfigurationMissingException,
    WebAuthnCredentialNotSupportedException,
    WebAuthnNotEnabledException,
    WebAuthnOriginNotAllowedException,
    WebAuthnRelyingPartyMismatchException,
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    /// What the caller is told.
    pub message: String,
    /// What went wrong inside (internal errors only): for the log written where the error
    /// leaves the service, never for the caller.
    detail: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.message)?;
        match &self.detail {
            Some(detail) => write!(f, " ({detail})"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            detail: None,
        }
    }

    /// An internal failure: the caller gets a generic message; `detail` stays with the error
    /// for the one log line written where it leaves the service (see [`Error::detail`]).
    pub fn internal(detail: impl fmt::Display) -> Self {
        Self {
            detail: Some(detail.to_string()),
            ..Self::new(ErrorKind::InternalErrorException, "An internal error occurred.")
        }
    }

    /// The inside story of an internal error, for logs only.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidParameterException, message)
    }

    pub fn not_authorized(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotAuthorizedException, message)
    }

    pub fn resource_not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ResourceNotFoundException, message)
    }

    pub fn user_not_found() -> Self {
        Self::new(ErrorKind::UserNotFoundException, "User does not exist.")
    }

    pub fn incorrect_credentials() -> Self {
        Self::not_authorized("Incorrect username or password.")
    }

    /// The message AWS's request validation uses for a missing required member.
    pub fn missing(member: &str) -> Self {
        Self::invalid_parameter(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    }

    pub fn constraint(member: &str, value: &str, constraint: &str) -> Self {
        Self::invalid_parameter(format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
        ))
    }

    /// Every constraint `value` fails at `member`, in AWS's form: "1 validation error
    /// detected: …", or "2 validation errors detected: …; …" (entries joined by "; ", as in
    /// AWS answers quoted in amazon-cognito-identity-js issue #388). `constraints` must not be
    /// empty.
    pub fn constraints(member: &str, value: &str, constraints: &[String]) -> Self {
        let n = constraints.len();
        let entries: Vec<String> = constraints
            .iter()
            .map(|c| format!("Value '{value}' at '{member}' failed to satisfy constraint: {c}"))
            .collect();
        Self::invalid_parameter(format!(
            "{n} validation error{} detected: {}",
            if n == 1 { "" } else { "s" },
            entries.join("; ")
        ))
    }

    /// Like [`Error::constraint`] for a member the API model marks sensitive (secrets, tokens):
    /// AWS leaves the value out of the message ("Value at 'clientSecret' failed …").
    pub fn sensitive_constraint(member: &str, constraint: &str) -> Self {
        Self::invalid_parameter(format!(
            "1 validation error detected: Value at '{member}' failed to satisfy constraint: {constraint}"
        ))
    }

    pub fn is(&self, kind: ErrorKind) -> bool {
        self.kind == kind
    }
}

impl From<crate::store::StoreError> for Error {
    fn from(e: crate::store::StoreError) -> Self {
        Error::internal(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_keeps_its_detail_out_of_the_message() {
        let e = Error::internal("disk full");
        assert_eq!(e.kind, ErrorKind::InternalErrorException);
        assert_eq!(e.message, "An internal error occurred.");
        assert_eq!(e.detail(), Some("disk full"));
        assert!(e.to_string().contains("disk full"), "{e}");
        assert_eq!(Error::user_not_found().detail(), None);
    }
}
