//! Sign-in: InitiateAuth, AdminInitiateAuth, RespondToAuthChallenge and
//! AdminRespondToAuthChallenge, as one state machine.
//!
//! The state between requests is the stored challenge ([`challenge`]). A request either
//! starts a flow ([`Cognito::start`]: one `match` from (entry, AuthFlow) to a step) or answers
//! the open challenge ([`Cognito::answer`]: one `match` from ChallengeName to a step). Each
//! step, one file apiece, returns a [`Next`] to [`Cognito::run`] instead of calling the next
//! step itself: a new challenge for the client, "first factor passed" (MFA decides what
//! follows), another CUSTOM_AUTH round, or "signed in" ([`complete`] issues the tokens).
//! New flows and challenges are new arms and files.
pub mod challenge;
pub mod complete;
pub mod custom_auth;
pub mod device;
pub mod lockout;
pub mod mfa;
pub mod migration;
pub mod names;
pub mod new_password;
pub mod otp;
pub mod password;
pub mod refresh;
pub mod srp;
pub mod user_auth;
pub mod web_authn;

use crate::error::{Error, ErrorKind, Result};
use crate::model::{AppClient, User, UserPool};
use crate::ops::Input;
use crate::request::Request;
use crate::service::{CallContext, Cognito};
use crate::tokens::TokenSource;
use challenge::Challenge;
pub use names::{AuthFlow, ChallengeName};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

// ---- inputs ------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub struct InitiateAuthInput {
    pub auth_flow: AuthFlow,
    pub client_id: String,
    pub auth_parameters: BTreeMap<String, String>,
    pub client_metadata: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AdminInitiateAuthInput {
    pub user_pool_id: String,
    pub client_id: String,
    pub auth_flow: AuthFlow,
    pub auth_parameters: BTreeMap<String, String>,
    pub client_metadata: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RespondToAuthChallengeInput {
    pub client_id: String,
    pub challenge_name: String,
    pub session: Option<String>,
    pub challenge_responses: BTreeMap<String, String>,
    pub client_metadata: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminRespondToAuthChallengeInput {
    pub user_pool_id: String,
    pub client_id: String,
    pub challenge_name: String,
    pub session: Option<String>,
    pub challenge_responses: BTreeMap<String, String>,
    pub client_metadata: Option<BTreeMap<String, String>>,
}

impl Input for InitiateAuthInput {
    fn decode(req: &Request) -> Result<Self> {
        req.str("AuthFlow")?;
        let client_id = req.str("ClientId")?;
        let auth_parameters = req.str_map("AuthParameters")?.unwrap_or_default();
        let client_metadata = req.str_map("ClientMetadata")?;
        Ok(Self {
            auth_flow: AuthFlow::decode(req)?,
            client_id,
            auth_parameters,
            client_metadata,
        })
    }
}

impl Input for AdminInitiateAuthInput {
    fn decode(req: &Request) -> Result<Self> {
        let user_pool_id = req.pool_id()?;
        req.str("AuthFlow")?;
        let client_id = req.str("ClientId")?;
        let auth_parameters = req.str_map("AuthParameters")?.unwrap_or_default();
        let client_metadata = req.str_map("ClientMetadata")?;
        Ok(Self {
            user_pool_id,
            client_id,
            auth_flow: AuthFlow::decode(req)?,
            auth_parameters,
            client_metadata,
        })
    }
}

impl Input for RespondToAuthChallengeInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            client_id: req.str("ClientId")?,
            challenge_name: req.str("ChallengeName")?,
            challenge_responses: req.str_map("ChallengeResponses")?.unwrap_or_default(),
            session: req.opt_str("Session")?,
            client_metadata: req.str_map("ClientMetadata")?,
        })
    }
}

impl Input for AdminRespondToAuthChallengeInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            client_id: req.str("ClientId")?,
            challenge_name: req.str("ChallengeName")?,
            challenge_responses: req.str_map("ChallengeResponses")?.unwrap_or_default(),
            session: req.opt_str("Session")?,
            client_metadata: req.str_map("ClientMetadata")?,
        })
    }
}

// ---- outputs -----------------------------------------------------------------------------

/// AuthenticationResultType: the tokens of a successful sign-in or refresh.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AuthenticationResult {
    pub access_token: String,
    pub expires_in: i64,
    pub token_type: String,
    pub id_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_device_metadata: Option<NewDeviceMetadata>,
}

/// NewDeviceMetadataType: the new device of a sign-in in a pool that tracks devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NewDeviceMetadata {
    pub device_key: String,
    pub device_group_key: String,
}

/// What every sign-in request answers: the next challenge, or the tokens (with empty
/// ChallengeParameters).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SignInOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    pub challenge_parameters: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication_result: Option<AuthenticationResult>,
    /// The first factors SELECT_CHALLENGE offers (choice-based sign-in).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available_challenges: Option<Vec<String>>,
}

pub type InitiateAuthOutput = SignInOutput;
pub type AdminInitiateAuthOutput = SignInOutput;
pub type RespondToAuthChallengeOutput = SignInOutput;
pub type AdminRespondToAuthChallengeOutput = SignInOutput;

impl From<Challenge> for SignInOutput {
    fn from(c: Challenge) -> Self {
        Self {
            challenge_name: Some(c.name),
            session: Some(c.session),
            challenge_parameters: c.parameters,
            authentication_result: None,
            available_challenges: (!c.available_challenges.is_empty()).then_some(c.available_challenges),
        }
    }
}

impl From<AuthenticationResult> for SignInOutput {
    fn from(tokens: AuthenticationResult) -> Self {
        Self {
            challenge_name: None,
            session: None,
            challenge_parameters: BTreeMap::new(),
            authentication_result: Some(tokens),
            available_challenges: None,
        }
    }
}

// ---- the machine ---------------------------------------------------------------------------

/// Everything a sign-in step needs to know about its request.
pub(crate) struct SignIn<'a> {
    pub(crate) pool: &'a UserPool,
    pub(crate) client: &'a AppClient,
    pub(crate) ctx: &'a CallContext,
    /// InitiateAuth's ClientMetadata: triggers of the first step see it as validationData.
    pub(crate) validation_data: Option<Map<String, Value>>,
    /// RespondToAuthChallenge's ClientMetadata: triggers after the first step see it as
    /// clientMetadata (none when the sign-in ends within InitiateAuth).
    pub(crate) client_metadata: Option<Map<String, Value>>,
    /// Started by the hosted sign-in pages: the end is "authenticated" (the authorization
    /// code carries it on), not tokens.
    pub(crate) hosted: bool,
    /// The device the sign-in is on (`DEVICE_KEY`), see [`device`].
    pub(crate) device: device::DeviceContext,
}

/// Where a request leaves the machine.
#[derive(Debug)]
pub enum Outcome {
    /// A challenge for the client (its state is stored).
    Challenge(Challenge),
    /// Tokens (API sign-in).
    Tokens(AuthenticationResult),
    /// Every factor is right and PostAuthentication ran (hosted sign-in): the pages record
    /// the browser's session and hand out an authorization code.
    Authenticated(User),
}

impl Outcome {
    fn into_output(self) -> Result<SignInOutput> {
        match self {
            Outcome::Challenge(c) => Ok(c.into()),
            Outcome::Tokens(t) => Ok(t.into()),
            Outcome::Authenticated(_) => Err(Error::internal("a hosted sign-in ended in an API call")),
        }
    }
}

/// What a step hands back to the machine.
pub(crate) enum Next {
    /// A challenge for the client (its state is stored).
    Challenge(Challenge),
    /// The first factor (password, SRP, custom challenge, new password) is right: MFA
    /// decides what follows.
    FirstFactorPassed(User, TokenSource),
    /// SRP inside CUSTOM_AUTH answered: DefineAuthChallenge sees the history again.
    CustomAuthRound(User, Vec<Value>),
    /// Every factor is right: tokens and PostAuthentication.
    SignedIn(User, TokenSource),
}

/// Which operation started the flow: the client one or the admin one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    Client,
    Admin,
    /// The hosted sign-in pages: a password sign-in whatever the client's ExplicitAuthFlows.
    Hosted,
}

pub(crate) fn to_json_map(m: Option<BTreeMap<String, String>>) -> Option<Map<String, Value>> {
    m.map(|m| m.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
}

// ---- operations --------------------------------------------------------------------------

impl Cognito {
    pub async fn initiate_auth(&self, input: InitiateAuthInput, ctx: &CallContext) -> Result<InitiateAuthOutput> {
        let (client, pool) = self.client_and_pool(&input.client_id).await?;
        let s = SignIn {
            pool: &pool,
            client: &client,
            ctx,
            validation_data: to_json_map(input.client_metadata),
            client_metadata: None,
            hosted: false,
            device: device::DeviceContext::from_params(&input.auth_parameters),
        };
        self.start(&s, Entry::Client, input.auth_flow, &input.auth_parameters)
            .await?
            .into_output()
    }

    pub async fn admin_initiate_auth(
        &self,
        input: AdminInitiateAuthInput,
        ctx: &CallContext,
    ) -> Result<AdminInitiateAuthOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        let client = self.client_of(&pool.id, &input.client_id).await?;
        let s = SignIn {
            pool: &pool,
            client: &client,
            ctx,
            validation_data: to_json_map(input.client_metadata),
            client_metadata: None,
            hosted: false,
            device: device::DeviceContext::from_params(&input.auth_parameters),
        };
        self.start(&s, Entry::Admin, input.auth_flow, &input.auth_parameters)
            .await?
            .into_output()
    }

    pub async fn respond_to_auth_challenge(
        &self,
        input: RespondToAuthChallengeInput,
        ctx: &CallContext,
    ) -> Result<RespondToAuthChallengeOutput> {
        let (client, pool) = self.client_and_pool(&input.client_id).await?;
        let s = SignIn {
            pool: &pool,
            client: &client,
            ctx,
            validation_data: None,
            client_metadata: to_json_map(input.client_metadata),
            hosted: false,
            device: device::DeviceContext::from_params(&input.challenge_responses),
        };
        self.answer(&s, &input.challenge_name, input.session, &input.challenge_responses)
            .await?
            .into_output()
    }

    pub async fn admin_respond_to_auth_challenge(
        &self,
        input: AdminRespondToAuthChallengeInput,
        ctx: &CallContext,
    ) -> Result<AdminRespondToAuthChallengeOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        let client = self.client_of(&pool.id, &input.client_id).await?;
        let s = SignIn {
            pool: &pool,
            client: &client,
            ctx,
            validation_data: None,
            client_metadata: to_json_map(input.client_metadata),
            hosted: false,
            device: device::DeviceContext::from_params(&input.challenge_responses),
        };
        self.answer(&s, &input.challenge_name, input.session, &input.challenge_responses)
            .await?
            .into_output()
    }

    /// Starts a flow: the step for (operation, AuthFlow).
    async fn start(
        &self,
        s: &SignIn<'_>,
        entry: Entry,
        flow: AuthFlow,
        params: &BTreeMap<String, String>,
    ) -> Result<Outcome> {
        use AuthFlow::*;
        let next = match (entry, flow) {
            (Entry::Client, UserPasswordAuth) => {
                password::require_flow(
                    s.client,
                    "ALLOW_USER_PASSWORD_AUTH",
                    "USER_PASSWORD_AUTH flow not enabled for this client",
                )?;
                self.start_password(s, params).await
            }
            (Entry::Admin, AdminUserPasswordAuth | AdminNoSrpAuth) => {
                password::require_flow(
                    s.client,
                    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                    "Auth flow not enabled for this client",
                )?;
                self.start_password(s, params).await
            }
            (Entry::Hosted, UserPasswordAuth) => self.start_password(s, params).await,
            (Entry::Hosted, CustomAuth) => self.start_custom_auth(s, params).await,
            (Entry::Hosted, _) => Err(Error::invalid_parameter("Initiate Auth method not supported.")),
            (_, RefreshTokenAuth | RefreshToken) => {
                return self.start_refresh(s, params).await.map(Outcome::Tokens);
            }
            (_, CustomAuth) => self.start_custom_auth(s, params).await,
            (_, UserSrpAuth) => self.start_srp(s, params).await,
            (_, UserAuth) => self.start_user_auth(s, params).await,
            (Entry::Client, AdminNoSrpAuth | AdminUserPasswordAuth) | (Entry::Admin, UserPasswordAuth) => {
                Err(Error::invalid_parameter("Initiate Auth method not supported."))
            }
        };
        self.run(s, next?).await
    }

    /// Answers the open challenge: takes its stored state and runs the step for its name. A
    /// rejected answer (a bad new password, a bad parameter) puts the challenge back, as
    /// Cognito lets the client retry.
    async fn answer(
        &self,
        s: &SignIn<'_>,
        name: &str,
        session_id: Option<String>,
        responses: &BTreeMap<String, String>,
    ) -> Result<Outcome> {
        let session = self.take_challenge(s, name, session_id, responses).await?;
        let challenge = ChallengeName::parse(name);
        if challenge == Some(ChallengeName::CustomChallenge) {
            let next = self.answer_custom_challenge(s, session, responses).await?;
            return self.run(s, next).await;
        }
        let username = responses.get("USERNAME").ok_or_else(|| Error::missing("USERNAME"))?;
        if session.data.get("userNotFound").and_then(Value::as_bool) == Some(true) {
            // The stand-in PASSWORD_VERIFIER for a name that matched nobody (see srp.rs).
            self.check_secret_hash(s.client, username, responses.get("SECRET_HASH").map(String::as_str))?;
            let name = session
                .data
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(&session.username);
            return Err(self.ghost_password_check(s.pool, name, None).await);
        }
        let user = self.require_user(s.pool, username).await?;
        if user.username != session.username {
            return Err(Error::not_authorized("Invalid session for the user."));
        }
        self.check_secret_hash_for_user(
            s.client,
            &[username, &user.username],
            responses.get("SECRET_HASH").map(String::as_str),
        )?;
        use ChallengeName::*;
        let next = match challenge {
            Some(PasswordVerifier) => self.answer_password_verifier(s, &session, user, responses).await,
            Some(NewPasswordRequired) => self.answer_new_password(s, user, responses).await,
            // Wrong codes put the session back themselves (up to a limit).
            Some(SmsOtp) => self.answer_otp(session.clone(), user, responses).await,
            Some(EmailOtp) if session.data.get(otp::FIRST_FACTOR).and_then(Value::as_bool) == Some(true) => {
                self.answer_otp(session.clone(), user, responses).await
            }
            Some(SelectChallenge) => self.answer_select_challenge(s, &session, user, responses).await,
            Some(Password | PasswordSrp) => self.answer_password_factor(s, &session, responses).await,
            Some(WebAuthn) => self.answer_web_authn(s, &session, user, responses).await,
            Some(SoftwareTokenMfa | SmsMfa | EmailOtp | SelectMfaType | MfaSetup) => {
                self.answer_mfa(s, session.clone(), user, responses).await
            }
            Some(DeviceSrpAuth) => self.answer_device_srp_auth(s, &session, user, responses).await,
            Some(DevicePasswordVerifier) => self.answer_device_password_verifier(s, &session, user, responses).await,
            Some(CustomChallenge) | None => Err(Error::invalid_parameter(format!(
                "Challenge {name} is not supported by this version of Cognate."
            ))),
        };
        let outcome = match next {
            Ok(next) => self.run(s, next).await,
            Err(e) => Err(e),
        };
        if let Err(e) = &outcome
            && matches!(
                e.kind,
                ErrorKind::InvalidPasswordException | ErrorKind::InvalidParameterException
            )
        {
            self.put_back_challenge(&session).await?;
        }
        outcome
    }

    /// Runs the machine from a step's outcome to the answer for the client.
    async fn run(&self, s: &SignIn<'_>, mut next: Next) -> Result<Outcome> {
        loop {
            next = match next {
                Next::Challenge(challenge) => {
                    self.keep_device_key(s, &challenge).await?;
                    return Ok(Outcome::Challenge(challenge));
                }
                Next::FirstFactorPassed(user, source) => self.after_first_factor_on_device(s, &user, source).await?,
                Next::CustomAuthRound(user, history) => self.continue_custom_auth(s, user, history).await?,
                Next::SignedIn(user, _) if s.hosted => {
                    self.post_authentication(s, &user).await?;
                    return Ok(Outcome::Authenticated(user));
                }
                Next::SignedIn(user, source) => match self.device_authentication_due(s, &user).await? {
                    Some(next) => next,
                    None => return self.finish_sign_in(s, &user, source).await.map(Outcome::Tokens),
                },
            };
        }
    }

    /// The hosted pages' sign-in for `client`: a username and password (`USER_PASSWORD_AUTH`,
    /// whatever the client's ExplicitAuthFlows: Cognito's hosted UI does not need
    /// ALLOW_USER_PASSWORD_AUTH), or the pool's custom challenges (`CUSTOM_AUTH`, when the
    /// client allows it). The pages add the SECRET_HASH of a client with a secret themselves.
    pub async fn hosted_sign_in(
        &self,
        pool: &UserPool,
        client: &AppClient,
        flow: AuthFlow,
        params: &BTreeMap<String, String>,
        ctx: &CallContext,
    ) -> Result<Outcome> {
        let s = SignIn {
            pool,
            client,
            ctx,
            validation_data: None,
            client_metadata: None,
            hosted: true,
            device: device::DeviceContext::default(),
        };
        self.start(&s, Entry::Hosted, flow, params).await
    }

    /// The hosted pages' answer to a challenge of [`Cognito::hosted_sign_in`].
    pub async fn hosted_answer(
        &self,
        pool: &UserPool,
        client: &AppClient,
        challenge_name: &str,
        session: String,
        responses: &BTreeMap<String, String>,
        ctx: &CallContext,
    ) -> Result<Outcome> {
        let s = SignIn {
            pool,
            client,
            ctx,
            validation_data: None,
            client_metadata: None,
            hosted: true,
            device: device::DeviceContext::default(),
        };
        self.answer(&s, challenge_name, Some(session), responses).await
    }
}
