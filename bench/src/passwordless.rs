//! The passwordless workloads (Cognate only): choice-based sign-in (USER_AUTH) with an email
//! code, and with a passkey.
//!
//! Setup makes a second pool, `bench-passwordless`: first factors PASSWORD, EMAIL_OTP and
//! WEB_AUTHN, email through Amazon SES (EmailSendingAccount DEVELOPER: Cognate keeps the
//! messages in its development outbox), relying party `localhost`; an app client with
//! ALLOW_USER_AUTH; users with a verified email. Each client (worker) signs in its own users,
//! so that no two clients wait for one user's code or one authenticator's counter.
use crate::client::Client;
use crate::load::{Ctx, PASSWORD};
use anyhow::{Context, bail};
use cognate_crypto::webauthn::authenticator::{Attestation, SoftwareAuthenticator};
use serde_json::{Value, json};
use std::sync::Arc;

/// Users a client cycles through for email codes (the outbox lookup reads every message sent
/// to one address, so each address gets few).
const OTP_USERS_PER_CLIENT: usize = 16;
/// The page origin the software authenticators claim (relying party `localhost`).
const ORIGIN: &str = "http://localhost:3000";

/// What the passwordless workloads share.
pub struct Passwordless {
    pub client_id: String,
    /// Usernames; each is also the user's (verified) email address.
    pub users: Vec<String>,
    pub clients: usize,
    /// One passkey a client: its user and authenticator (its counter moves one at a time).
    pub devices: Vec<tokio::sync::Mutex<(String, SoftwareAuthenticator)>>,
}

impl Passwordless {
    /// The pool, the client, `OTP_USERS_PER_CLIENT` users a client and a passkey for the first
    /// user of each.
    pub async fn setup(ctx: &Ctx, clients: usize) -> anyhow::Result<Self> {
        let mut c = ctx.client();
        let pool = c
            .call(
                "CreateUserPool",
                &json!({
                    "PoolName": "bench-passwordless",
                    "Policies": {
                        "PasswordPolicy": {"MinimumLength": 8},
                        "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP", "WEB_AUTHN"]},
                    },
                    "EmailConfiguration": {
                        "EmailSendingAccount": "DEVELOPER",
                        "SourceArn": "arn:aws:ses:us-east-1:123456789012:identity/bench.example",
                    },
                }),
                true,
            )
            .await
            .context("CreateUserPool")?;
        let pool_id = pool["UserPool"]["Id"].as_str().context("no pool Id")?.to_owned();
        c.call(
            "SetUserPoolMfaConfig",
            &json!({
                "UserPoolId": pool_id,
                "WebAuthnConfiguration": {"RelyingPartyId": "localhost", "UserVerification": "preferred"},
            }),
            true,
        )
        .await
        .context("SetUserPoolMfaConfig")?;
        let client = c
            .call(
                "CreateUserPoolClient",
                &json!({
                    "UserPoolId": pool_id,
                    "ClientName": "bench-passwordless",
                    "ExplicitAuthFlows": ["ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                }),
                true,
            )
            .await
            .context("CreateUserPoolClient")?;
        let client_id = client["UserPoolClient"]["ClientId"]
            .as_str()
            .context("no ClientId")?
            .to_owned();
        let clients = clients.max(1);
        let users: Vec<String> = (0..clients * OTP_USERS_PER_CLIENT)
            .map(|i| format!("pl-{}-{i}@bench.example", ctx.run_id))
            .collect();
        // Users are made `clients` at a time (two password hashes each).
        let mut tasks = Vec::new();
        for chunk in users.chunks(OTP_USERS_PER_CLIENT) {
            let (chunk, pool_id, mut c) = (chunk.to_vec(), pool_id.clone(), ctx.client());
            tasks.push(tokio::spawn(async move {
                for name in chunk {
                    create_user(&mut c, &pool_id, &name).await?;
                }
                anyhow::Ok(())
            }));
        }
        for t in tasks {
            t.await??;
        }
        let mut devices = Vec::new();
        for name in users.iter().take(clients) {
            let device = register_passkey(&mut c, &client_id, name).await?;
            devices.push(tokio::sync::Mutex::new((name.clone(), device)));
        }
        Ok(Self {
            client_id,
            users,
            clients,
            devices,
        })
    }
}

/// A confirmed user with a verified email and `PASSWORD`.
async fn create_user(c: &mut Client, pool_id: &str, name: &str) -> anyhow::Result<()> {
    c.call(
        "AdminCreateUser",
        &json!({
            "UserPoolId": pool_id,
            "Username": name,
            "MessageAction": "SUPPRESS",
            "TemporaryPassword": PASSWORD,
            "UserAttributes": [
                {"Name": "email", "Value": name},
                {"Name": "email_verified", "Value": "true"},
            ],
        }),
        true,
    )
    .await
    .context("AdminCreateUser")?;
    c.call(
        "AdminSetUserPassword",
        &json!({"UserPoolId": pool_id, "Username": name, "Password": PASSWORD, "Permanent": true}),
        true,
    )
    .await
    .context("AdminSetUserPassword")?;
    Ok(())
}

/// Signs `name` in with the password and registers a passkey for it.
async fn register_passkey(c: &mut Client, client_id: &str, name: &str) -> anyhow::Result<SoftwareAuthenticator> {
    let out = c
        .call(
            "InitiateAuth",
            &json!({
                "AuthFlow": "USER_AUTH",
                "ClientId": client_id,
                "AuthParameters": {"USERNAME": name, "PREFERRED_CHALLENGE": "PASSWORD", "PASSWORD": PASSWORD},
            }),
            false,
        )
        .await
        .context("password sign-in")?;
    let access = out["AuthenticationResult"]["AccessToken"]
        .as_str()
        .context("password sign-in: no tokens")?
        .to_owned();
    let options = c
        .call("StartWebAuthnRegistration", &json!({"AccessToken": access}), false)
        .await
        .context("StartWebAuthnRegistration")?;
    let mut device = SoftwareAuthenticator::new().map_err(anyhow::Error::msg)?;
    let credential = device
        .register(&options["CredentialCreationOptions"], ORIGIN, Attestation::None)
        .map_err(anyhow::Error::msg)?;
    c.call(
        "CompleteWebAuthnRegistration",
        &json!({"AccessToken": access, "Credential": credential}),
        false,
    )
    .await
    .context("CompleteWebAuthnRegistration")?;
    Ok(device)
}

fn passwordless(ctx: &Ctx) -> anyhow::Result<&Passwordless> {
    ctx.passwordless
        .get()
        .map(|p| &**p)
        .context("the passwordless pool was not set up")
}

fn tokens_of(out: &Value, what: &str) -> anyhow::Result<()> {
    if out["AuthenticationResult"]["AccessToken"].as_str().is_none() {
        bail!(
            "{what}: no tokens in {}",
            out.to_string().chars().take(200).collect::<String>()
        );
    }
    Ok(())
}

/// InitiateAuth USER_AUTH with PREFERRED_CHALLENGE=EMAIL_OTP, the code from the outbox
/// (`GET /_cognate/code`), RespondToAuthChallenge EMAIL_OTP: 3 requests.
pub async fn email_otp_sign_in(ctx: &Ctx, c: &mut Client, worker: usize, iter: u64) -> anyhow::Result<()> {
    let p = passwordless(ctx)?;
    let user = &p.users[(worker % p.clients) + (iter as usize % OTP_USERS_PER_CLIENT) * p.clients];
    let out = c
        .call(
            "InitiateAuth",
            &json!({
                "AuthFlow": "USER_AUTH",
                "ClientId": p.client_id,
                "AuthParameters": {"USERNAME": user, "PREFERRED_CHALLENGE": "EMAIL_OTP"},
            }),
            false,
        )
        .await?;
    if out["ChallengeName"] != "EMAIL_OTP" {
        bail!("USER_AUTH: no EMAIL_OTP challenge in {out}");
    }
    let session = out["Session"].as_str().context("no Session")?;
    let resp = c
        .http(hyper::Method::GET, &format!("/_cognate/code?to={user}"), &[], b"")
        .await?;
    if resp.status != 200 {
        bail!("GET /_cognate/code: {} {}", resp.status, resp.text());
    }
    let code = resp.text().trim().to_owned();
    let out = c
        .call(
            "RespondToAuthChallenge",
            &json!({
                "ChallengeName": "EMAIL_OTP",
                "ClientId": p.client_id,
                "Session": session,
                "ChallengeResponses": {"USERNAME": user, "EMAIL_OTP_CODE": code},
            }),
            false,
        )
        .await?;
    tokens_of(&out, "EMAIL_OTP")
}

/// InitiateAuth USER_AUTH with PREFERRED_CHALLENGE=WEB_AUTHN, an assertion of the client's
/// software authenticator (ES256), RespondToAuthChallenge WEB_AUTHN: 2 requests.
pub async fn passkey_sign_in(ctx: &Ctx, c: &mut Client, worker: usize) -> anyhow::Result<()> {
    let p = passwordless(ctx)?;
    let mut device = p.devices[worker % p.devices.len()].lock().await;
    let user = device.0.clone();
    let out = c
        .call(
            "InitiateAuth",
            &json!({
                "AuthFlow": "USER_AUTH",
                "ClientId": p.client_id,
                "AuthParameters": {"USERNAME": user, "PREFERRED_CHALLENGE": "WEB_AUTHN"},
            }),
            false,
        )
        .await?;
    if out["ChallengeName"] != "WEB_AUTHN" {
        bail!("USER_AUTH: no WEB_AUTHN challenge in {out}");
    }
    let session = out["Session"].as_str().context("no Session")?;
    let options: Value = serde_json::from_str(
        out["ChallengeParameters"]["CREDENTIAL_REQUEST_OPTIONS"]
            .as_str()
            .context("no CREDENTIAL_REQUEST_OPTIONS")?,
    )?;
    let credential = device.1.sign_in(&options, ORIGIN).map_err(anyhow::Error::msg)?;
    let out = c
        .call(
            "RespondToAuthChallenge",
            &json!({
                "ChallengeName": "WEB_AUTHN",
                "ClientId": p.client_id,
                "Session": session,
                "ChallengeResponses": {"USERNAME": user, "CREDENTIAL": credential.to_string()},
            }),
            false,
        )
        .await?;
    tokens_of(&out, "WEB_AUTHN")
}

/// Sets the passwordless pool up once for `ctx`.
pub async fn ensure(ctx: &Arc<Ctx>, clients: usize) -> anyhow::Result<()> {
    if ctx.passwordless.get().is_none() {
        let p = Passwordless::setup(ctx, clients).await?;
        let _ = ctx.passwordless.set(Arc::new(p));
    }
    Ok(())
}
