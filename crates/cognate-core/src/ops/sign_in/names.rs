//! The names a sign-in is driven by: AuthFlow (which flow InitiateAuth starts) and
//! ChallengeName (which challenge RespondToAuthChallenge answers).
use crate::error::{Error, Result};
use crate::request::Request;

const AUTH_FLOWS: &str = "Member must satisfy enum value set: [USER_SRP_AUTH, REFRESH_TOKEN_AUTH, REFRESH_TOKEN, CUSTOM_AUTH, ADMIN_NO_SRP_AUTH, USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, USER_AUTH]";

/// AuthFlowType.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFlow {
    UserSrpAuth,
    RefreshTokenAuth,
    /// The older name of REFRESH_TOKEN_AUTH.
    RefreshToken,
    CustomAuth,
    AdminNoSrpAuth,
    UserPasswordAuth,
    AdminUserPasswordAuth,
    UserAuth,
}

impl AuthFlow {
    const ALL: [AuthFlow; 8] = [
        AuthFlow::UserSrpAuth,
        AuthFlow::RefreshTokenAuth,
        AuthFlow::RefreshToken,
        AuthFlow::CustomAuth,
        AuthFlow::AdminNoSrpAuth,
        AuthFlow::UserPasswordAuth,
        AuthFlow::AdminUserPasswordAuth,
        AuthFlow::UserAuth,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AuthFlow::UserSrpAuth => "USER_SRP_AUTH",
            AuthFlow::RefreshTokenAuth => "REFRESH_TOKEN_AUTH",
            AuthFlow::RefreshToken => "REFRESH_TOKEN",
            AuthFlow::CustomAuth => "CUSTOM_AUTH",
            AuthFlow::AdminNoSrpAuth => "ADMIN_NO_SRP_AUTH",
            AuthFlow::UserPasswordAuth => "USER_PASSWORD_AUTH",
            AuthFlow::AdminUserPasswordAuth => "ADMIN_USER_PASSWORD_AUTH",
            AuthFlow::UserAuth => "USER_AUTH",
        }
    }

    /// Reads the AuthFlow member, with AWS's enum constraint message for other values.
    pub(crate) fn decode(req: &Request) -> Result<Self> {
        let flow = req.str("AuthFlow")?;
        Self::ALL
            .into_iter()
            .find(|f| f.name() == flow)
            .ok_or_else(|| Error::constraint("authFlow", &flow, AUTH_FLOWS))
    }
}

/// The challenges Cognate answers. ChallengeName is read as a string: a name Cognate does not
/// know is answered after the session is checked, as before (see [`Cognito::answer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeName {
    PasswordVerifier,
    NewPasswordRequired,
    CustomChallenge,
    SoftwareTokenMfa,
    SmsMfa,
    EmailOtp,
    SelectMfaType,
    MfaSetup,
    SelectChallenge,
    Password,
    PasswordSrp,
    SmsOtp,
    WebAuthn,
    DeviceSrpAuth,
    DevicePasswordVerifier,
}

impl ChallengeName {
    const ALL: [ChallengeName; 15] = [
        ChallengeName::PasswordVerifier,
        ChallengeName::NewPasswordRequired,
        ChallengeName::CustomChallenge,
        ChallengeName::SoftwareTokenMfa,
        ChallengeName::SmsMfa,
        ChallengeName::EmailOtp,
        ChallengeName::SelectMfaType,
        ChallengeName::MfaSetup,
        ChallengeName::SelectChallenge,
        ChallengeName::Password,
        ChallengeName::PasswordSrp,
        ChallengeName::SmsOtp,
        ChallengeName::WebAuthn,
        ChallengeName::DeviceSrpAuth,
        ChallengeName::DevicePasswordVerifier,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ChallengeName::PasswordVerifier => "PASSWORD_VERIFIER",
            ChallengeName::NewPasswordRequired => "NEW_PASSWORD_REQUIRED",
            ChallengeName::CustomChallenge => "CUSTOM_CHALLENGE",
            ChallengeName::SoftwareTokenMfa => "SOFTWARE_TOKEN_MFA",
            ChallengeName::SmsMfa => "SMS_MFA",
            ChallengeName::EmailOtp => "EMAIL_OTP",
            ChallengeName::SelectMfaType => "SELECT_MFA_TYPE",
            ChallengeName::MfaSetup => "MFA_SETUP",
            ChallengeName::SelectChallenge => "SELECT_CHALLENGE",
            ChallengeName::Password => "PASSWORD",
            ChallengeName::PasswordSrp => "PASSWORD_SRP",
            ChallengeName::SmsOtp => "SMS_OTP",
            ChallengeName::WebAuthn => "WEB_AUTHN",
            ChallengeName::DeviceSrpAuth => "DEVICE_SRP_AUTH",
            ChallengeName::DevicePasswordVerifier => "DEVICE_PASSWORD_VERIFIER",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }
}
