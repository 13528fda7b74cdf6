//! The crate's error type.

use std::path::PathBuf;

/// The link Serverless prints under every configuration (schema) error and warning block.
pub const LEARN_MORE: &str = "Learn more about configuration validation here: http://slss.io/configuration-validation";

/// Everything that can go wrong while loading, validating, evaluating or packaging a config.
///
/// The `Display` text of the Serverless-compatible variants is exactly the message Serverless v3
/// prints under its `Error:` line; [`ConfigError::render_cli`] gives the whole block.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read.
    #[error("Cannot read \"{}\": {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// No `serverless.yml` / `serverless.yaml` in the given folder.
    #[error("No serverless.yml or serverless.yaml found in \"{}\"", .0.display())]
    NotFound(PathBuf),
    /// The YAML (or JSON) text could not be parsed.
    #[error("Cannot parse \"{}\": {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// A Serverless variable (`${...}`) could not be resolved.
    #[error("{0}")]
    Variable(String),
    /// Schema problems that are fatal (`configValidationMode: error`, or a problem Cognate always
    /// treats as fatal). Each entry reads `at '<path>': <message>`.
    #[error("{}", render_problems(.0))]
    Validation(Vec<String>),
    /// `COGNITO_KMS_KEY_NOT_SET`.
    #[error(
        "KMS Key must be set when using a Custom Sender Source Trigger (CustomSMSSender and/or CustomEmailSender). Affected Cognito User Pool: \"{pool}\"."
    )]
    KmsKeyNotSet {
        /// The pool string.
        pool: String,
    },
    /// `COGNITO_KMS_KEY_ID_NOT_SAME_FOR_SINGLE_USER_POOL` (the "for can be" typo is Serverless's).
    #[error("Only one KMS Key for can be configured per Cognito User Pool. Affected Cognito User Pool: \"{pool}\".")]
    KmsKeyNotSame {
        /// The pool string.
        pool: String,
    },
    /// `COGNITO_MULTIPLE_USER_POOLS_PER_FUNCTION`.
    #[error(
        "Only one Cognito User Pool can be configured per function. In \"{function}\" you're attempting to configure \"{first}\" and \"{other}\" at the same time."
    )]
    MultiplePoolsPerFunction {
        /// The deployed function name.
        function: String,
        /// The pool of the function's first existing event.
        first: String,
        /// The other pool.
        other: String,
    },
    /// `resources.extensions` names something the template cannot take.
    #[error("{0}")]
    Extension(String),
    /// A CloudFormation intrinsic function could not be evaluated.
    #[error("{0}")]
    Intrinsic(String),
    /// Any other invalid input (for example a missing `service`).
    #[error("{0}")]
    Invalid(String),
}

impl ConfigError {
    /// The Serverless error code, for the errors Serverless raises itself.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            ConfigError::KmsKeyNotSet { .. } => Some("COGNITO_KMS_KEY_NOT_SET"),
            ConfigError::KmsKeyNotSame { .. } => Some("COGNITO_KMS_KEY_ID_NOT_SAME_FOR_SINGLE_USER_POOL"),
            ConfigError::MultiplePoolsPerFunction { .. } => Some("COGNITO_MULTIPLE_USER_POOLS_PER_FUNCTION"),
            ConfigError::Validation(_) => Some("INVALID_NON_SCHEMA_COMPLIANT_CONFIGURATION"),
            _ => None,
        }
    }

    /// What a CLI prints on stdout for this error, the way Serverless v3 does:
    /// `Error:`, the message, and for schema errors a blank line and the "Learn more" link.
    /// Ends with a newline. The process should then exit with code 1.
    pub fn render_cli(&self) -> String {
        let mut out = format!("Error:\n{self}\n");
        if matches!(self, ConfigError::Validation(_)) {
            out.push('\n');
            out.push_str(LEARN_MORE);
            out.push('\n');
        }
        out
    }
}

fn render_problems(problems: &[String]) -> String {
    match problems {
        [one] => format!("Configuration error {one}"),
        many => {
            let mut s = String::from("Configuration error: ");
            for p in many {
                s.push_str("\n     ");
                s.push_str(p);
            }
            s
        }
    }
}

/// The warning block Serverless v3 prints on stderr for schema problems in the default `warn`
/// mode (one `  at '<path>': <message>` line per problem). Empty when there are none.
pub fn render_warnings(warnings: &[String]) -> String {
    if warnings.is_empty() {
        return String::new();
    }
    let mut out = String::from("Warning: Invalid configuration encountered\n");
    for w in warnings {
        out.push_str("  ");
        out.push_str(w);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(LEARN_MORE);
    out.push('\n');
    out
}
