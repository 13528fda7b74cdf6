//! Protections against guessing: the progressive lockout after repeated wrong passwords
//! (password flows and SRP), attempt limits on codes, and PreventUserExistenceErrors making
//! unknown users look like wrong passwords, in the answer and in time.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ChallengeNameType, ExplicitAuthFlowsType, PreventUserExistenceErrorTypes,
};
use cognate_sdk_tests::*;

pub(crate) const WRONG: &str = "Wr0ng-Passw0rd!";

pub(crate) async fn password_auth(
    c: &Cognate,
    pool: &TestPool,
    username: &str,
    password: &str,
) -> Result<(), AwsError> {
    c.idp
        .initiate_auth()
        .client_id(&pool.client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", password)
        .send()
        .await
        .map(|out| assert!(out.authentication_result().is_some()))
        .map_err(|e| aws_err::<(), _>(Err(e)))
}

pub(crate) fn is_incorrect(r: &Result<(), AwsError>) -> bool {
    matches!(r, Err(e) if e.code == "NotAuthorizedException" && e.message.as_deref() == Some("Incorrect username or password."))
}

pub(crate) fn is_locked(r: &Result<(), AwsError>) -> bool {
    matches!(r, Err(e) if e.code == "NotAuthorizedException" && e.message.as_deref() == Some("Password attempts exceeded"))
}

/// A client with every password flow, SRP and PreventUserExistenceErrors as given.
pub(crate) async fn client_with(c: &Cognate, pool_id: &str, pue: bool) -> String {
    c.idp
        .create_user_pool_client()
        .user_pool_id(pool_id)
        .client_name("srp-and-password")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserSrpAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .prevent_user_existence_errors(if pue {
            PreventUserExistenceErrorTypes::Enabled
        } else {
            PreventUserExistenceErrorTypes::Legacy
        })
        .send()
        .await
        .expect("CreateUserPoolClient")
        .user_pool_client()
        .and_then(|c| c.client_id())
        .expect("client id")
        .to_string()
}

#[tokio::test]
async fn repeated_failures_lock_out_progressively() {
    let c = Cognate::start_with_clock().await;
    let pool = c.create_pool("lockout").await;
    c.admin_user(&pool, "lock", "lock@example.com").await;
    for i in 0..5 {
        let r = password_auth(&c, &pool, "lock", WRONG).await;
        assert!(is_incorrect(&r), "attempt {i}: {r:?}");
    }
    // Locked for 1 s: even the right password is refused, and does not count.
    let r = password_auth(&c, &pool, "lock", PASSWORD).await;
    assert!(is_locked(&r), "{r:?}");
    // Also through AdminInitiateAuth.
    let admin = c
        .idp
        .admin_initiate_auth()
        .user_pool_id(&pool.pool_id)
        .client_id(&pool.client_id)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", "lock")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await;
    expect_err_msg(admin, "NotAuthorizedException", "Password attempts exceeded");

    // After the second, a sixth failure locks for 2 s.
    c.advance(Duration::from_millis(1100));
    assert!(is_incorrect(&password_auth(&c, &pool, "lock", WRONG).await));
    assert!(is_locked(&password_auth(&c, &pool, "lock", PASSWORD).await));
    c.advance(Duration::from_millis(1100));
    assert!(is_locked(&password_auth(&c, &pool, "lock", PASSWORD).await));
    c.advance(Duration::from_millis(1000));
    // A seventh failure: 4 s.
    assert!(is_incorrect(&password_auth(&c, &pool, "lock", WRONG).await));
    c.advance(Duration::from_millis(3900));
    assert!(is_locked(&password_auth(&c, &pool, "lock", PASSWORD).await));
    c.advance(Duration::from_millis(200));
    // The lockout is over: the right password works and resets the count.
    password_auth(&c, &pool, "lock", PASSWORD)
        .await
        .expect("sign-in after the lockout");
    for _ in 0..4 {
        assert!(is_incorrect(&password_auth(&c, &pool, "lock", WRONG).await));
    }
    password_auth(&c, &pool, "lock", PASSWORD)
        .await
        .expect("four failures after a reset do not lock");
}

#[tokio::test]
async fn lockout_is_capped_and_forgotten_after_quiet_time() {
    let c = Cognate::start_with_clock().await;
    let pool = c.create_pool("lockout-cap").await;
    c.admin_user(&pool, "cap", "cap@example.com").await;
    // 16 failures, each after the previous lockout: 2^11 s would be more than 15 minutes.
    for n in 1..=16u32 {
        let r = password_auth(&c, &pool, "cap", WRONG).await;
        assert!(is_incorrect(&r), "failure {n}: {r:?}");
        if n >= 5 {
            let secs = (1u64 << (n - 5)).min(900);
            c.advance(Duration::from_secs(secs) + Duration::from_millis(10));
        }
    }
    // The last lockout was capped at 15 minutes: it is over now, and so is the count.
    password_auth(&c, &pool, "cap", PASSWORD)
        .await
        .expect("sign-in after a capped lockout");
}

/// The server's hashing, counting the password checks it does.
pub(crate) struct CountingCompute {
    pub(crate) inner: cognate::BlockingCompute,
    pub(crate) verifications: AtomicUsize,
}

impl CountingCompute {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(CountingCompute {
            inner: cognate::BlockingCompute::new(Default::default()),
            verifications: AtomicUsize::new(0),
        })
    }

    pub(crate) fn checks(&self) -> usize {
        self.verifications.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl cognate::Compute for CountingCompute {
    async fn hash_password(&self, password: String, salt: [u8; 16]) -> cognate_core::Result<String> {
        self.inner.hash_password(password, salt).await
    }
    async fn verify_password(&self, password: String, phc: String) -> cognate_core::Result<bool> {
        self.verifications.fetch_add(1, Ordering::SeqCst);
        self.inner.verify_password(password, phc).await
    }
    async fn generate_rsa_key(&self) -> cognate_core::Result<Vec<u8>> {
        self.inner.generate_rsa_key().await
    }
}

#[tokio::test]
async fn unknown_users_look_like_wrong_passwords() {
    let compute = Arc::new(CountingCompute {
        inner: cognate::BlockingCompute::new(Default::default()),
        verifications: AtomicUsize::new(0),
    });
    let opts = cognate::ServeOptions {
        compute: Some(compute.clone()),
        ..base_options()
    };
    let c = Cognate::start_with(opts, None).await;
    let pool = c.create_pool("pue").await;
    c.admin_user(&pool, "known", "known@example.com").await;
    let pue = TestPool {
        pool_id: pool.pool_id.clone(),
        client_id: client_with(&c, &pool.pool_id, true).await,
    };
    let legacy = TestPool {
        pool_id: pool.pool_id.clone(),
        client_id: client_with(&c, &pool.pool_id, false).await,
    };
    let r = password_auth(&c, &legacy, "nobody", WRONG).await;
    assert_eq!(r.unwrap_err().code, "UserNotFoundException");

    // In answer and in work: an unknown name costs one password hash check, as a known one does,
    // so its answer takes as long (the time itself is a figure for the bench, not a test).
    let checks = |c: &CountingCompute| c.verifications.load(Ordering::SeqCst);
    let before = checks(&compute);
    let wrong = password_auth(&c, &pue, "known", WRONG).await;
    let for_known = checks(&compute) - before;
    let before = checks(&compute);
    let unknown = password_auth(&c, &pue, "nobody", WRONG).await;
    let for_unknown = checks(&compute) - before;
    assert!(is_incorrect(&unknown), "{unknown:?}");
    assert!(is_incorrect(&wrong), "{wrong:?}");
    assert_eq!(for_known, 1, "a wrong password is checked once");
    assert_eq!(for_unknown, for_known, "an unknown user costs the same hash check");
}

#[tokio::test]
async fn unknown_users_get_a_well_formed_srp_challenge() {
    let c = Cognate::start().await;
    let pool = c.create_pool("pue-srp").await;
    let client_id = client_with(&c, &pool.pool_id, true).await;
    let start = |name: &'static str| {
        let client = aws_cognito_srp::SrpClient::new(
            aws_cognito_srp::User::new(&pool.pool_id, name, PASSWORD),
            &client_id,
            None,
        );
        let a = client.get_auth_parameters().a;
        let req = c
            .idp
            .initiate_auth()
            .client_id(&client_id)
            .auth_flow(AuthFlowType::UserSrpAuth)
            .auth_parameters("USERNAME", name)
            .auth_parameters("SRP_A", a);
        (client, req)
    };
    let (client, req) = start("ghost");
    let out = req.send().await.expect("USER_SRP_AUTH for an unknown user");
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::PasswordVerifier));
    let p = out.challenge_parameters().unwrap();
    for k in ["SALT", "SRP_B", "SECRET_BLOCK", "USER_ID_FOR_SRP", "USERNAME"] {
        assert!(p.get(k).is_some_and(|v| !v.is_empty()), "{k} missing: {p:?}");
    }
    assert_eq!(p["USER_ID_FOR_SRP"], "ghost");
    // The same salt every time, as for a real user.
    let (_, again) = start("ghost");
    let again = again.send().await.expect("USER_SRP_AUTH again");
    assert_eq!(again.challenge_parameters().unwrap()["SALT"], p["SALT"]);

    let v = client
        .verify(&p["SECRET_BLOCK"], &p["USER_ID_FOR_SRP"], &p["SALT"], &p["SRP_B"])
        .expect("client-side SRP");
    let answer = c
        .idp
        .respond_to_auth_challenge()
        .client_id(&client_id)
        .challenge_name(ChallengeNameType::PasswordVerifier)
        .session(out.session().unwrap_or_default())
        .challenge_responses("USERNAME", &p["USER_ID_FOR_SRP"])
        .challenge_responses("PASSWORD_CLAIM_SECRET_BLOCK", v.password_claim_secret_block)
        .challenge_responses("PASSWORD_CLAIM_SIGNATURE", v.password_claim_signature)
        .challenge_responses("TIMESTAMP", v.timestamp)
        .send()
        .await;
    expect_err_msg(answer, "NotAuthorizedException", "Incorrect username or password.");
}

#[tokio::test]
async fn confirmation_codes_have_an_attempt_limit() {
    let c = Cognate::start().await;
    let pool = c.create_pool("code-limit").await;
    c.idp
        .sign_up()
        .client_id(&pool.client_id)
        .username("carl")
        .password(PASSWORD)
        .user_attributes(attr("email", "carl@example.com"))
        .send()
        .await
        .expect("SignUp");
    let code = c.last_code("carl@example.com").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        expect_err(
            c.idp
                .confirm_sign_up()
                .client_id(&pool.client_id)
                .username("carl")
                .confirmation_code(wrong)
                .send()
                .await,
            "CodeMismatchException",
        );
    }
    expect_err(
        c.idp
            .confirm_sign_up()
            .client_id(&pool.client_id)
            .username("carl")
            .confirmation_code(&code)
            .send()
            .await,
        "LimitExceededException",
    );
}

fn forgot(c: &Cognate, client_id: &str, name: &str) -> impl Future<Output = Result<String, AwsError>> {
    let req = c.idp.forgot_password().client_id(client_id).username(name).send();
    async move {
        req.await
            .map(|o| {
                o.code_delivery_details()
                    .and_then(|d| d.destination())
                    .unwrap_or_default()
                    .to_string()
            })
            .map_err(|e| aws_err::<(), _>(Err(e)))
    }
}

fn resend(c: &Cognate, client_id: &str, name: &str) -> impl Future<Output = Result<String, AwsError>> {
    let req = c
        .idp
        .resend_confirmation_code()
        .client_id(client_id)
        .username(name)
        .send();
    async move {
        req.await
            .map(|o| {
                o.code_delivery_details()
                    .and_then(|d| d.destination())
                    .unwrap_or_default()
                    .to_string()
            })
            .map_err(|e| aws_err::<(), _>(Err(e)))
    }
}

fn is_attempt_limit<T: std::fmt::Debug>(r: &Result<T, AwsError>) -> bool {
    matches!(r, Err(e) if e.code == "LimitExceededException" && e.message.as_deref() == Some("Attempt limit exceeded, please try after some time."))
}

#[tokio::test]
async fn code_requests_are_limited_per_hour() {
    let c = Cognate::start_with_clock().await;
    let pool = c.create_pool("code-requests").await;
    c.admin_user(&pool, "reset", "reset@example.com").await;
    for i in 0..5 {
        forgot(&c, &pool.client_id, "reset")
            .await
            .unwrap_or_else(|e| panic!("request {i}: {e:?}"));
    }
    let r = forgot(&c, &pool.client_id, "reset").await;
    assert!(is_attempt_limit(&r), "{r:?}");
    assert_eq!(c.messages(Some("reset@example.com")).await.len(), 5);

    // Another purpose has its own budget: resending a sign-up code.
    c.idp
        .sign_up()
        .client_id(&pool.client_id)
        .username("pending")
        .password(PASSWORD)
        .user_attributes(attr("email", "pending@example.com"))
        .send()
        .await
        .expect("SignUp");
    for i in 0..5 {
        resend(&c, &pool.client_id, "pending")
            .await
            .unwrap_or_else(|e| panic!("resend {i}: {e:?}"));
    }
    assert!(is_attempt_limit(&resend(&c, &pool.client_id, "pending").await));

    // An hour later the window has moved on.
    c.advance(Duration::from_secs(3601));
    forgot(&c, &pool.client_id, "reset")
        .await
        .expect("a request an hour later");
    resend(&c, &pool.client_id, "pending")
        .await
        .expect("a resend an hour later");
}

#[tokio::test]
async fn a_new_code_brings_no_new_guesses_within_the_hour() {
    let c = Cognate::start_with_clock().await;
    let pool = c.create_pool("code-budget").await;
    c.idp
        .sign_up()
        .client_id(&pool.client_id)
        .username("guess")
        .password(PASSWORD)
        .user_attributes(attr("email", "guess@example.com"))
        .send()
        .await
        .expect("SignUp");
    let confirm = |code: &str| {
        c.idp
            .confirm_sign_up()
            .client_id(&pool.client_id)
            .username("guess")
            .confirmation_code(code)
            .send()
    };
    let code = c.last_code("guess@example.com").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        expect_err(confirm(wrong).await, "CodeMismatchException");
    }
    // A fresh code keeps the spent budget: even the right new code is refused.
    resend(&c, &pool.client_id, "guess").await.expect("resend");
    let code = c.last_code("guess@example.com").await;
    expect_err(confirm(&code).await, "LimitExceededException");
    // A code asked for after the hour starts a new budget.
    c.advance(Duration::from_secs(3601));
    resend(&c, &pool.client_id, "guess")
        .await
        .expect("resend an hour later");
    let code = c.last_code("guess@example.com").await;
    confirm(&code).await.expect("the new code confirms");
}

#[tokio::test]
async fn unknown_names_are_limited_like_users() {
    let c = Cognate::start_with_clock().await;
    let pool = c.create_pool("pue-limits").await;
    let client_id = client_with(&c, &pool.pool_id, true).await;
    let pue = TestPool {
        pool_id: pool.pool_id.clone(),
        client_id: client_id.clone(),
    };

    // ResendConfirmationCode answers for an unknown name as for a real one.
    let first = resend(&c, &client_id, "ghost-0")
        .await
        .expect("resend for an unknown name");
    assert!(first.contains("***@"), "a masked email: {first}");
    assert_eq!(
        resend(&c, &client_id, "ghost-0").await.unwrap(),
        first,
        "stable per name"
    );
    // ForgotPassword's stand-in destination is stable per name but not the same for all.
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..8 {
        let name = format!("ghost-{i}");
        let d = forgot(&c, &client_id, &name)
            .await
            .expect("ForgotPassword for an unknown name");
        assert_eq!(forgot(&c, &client_id, &name).await.unwrap(), d, "stable for {name}");
        seen.insert(d);
    }
    assert!(seen.len() > 1, "every unknown name got the same destination: {seen:?}");
    // An email given as the name is masked as itself, as a user's would be.
    assert_eq!(forgot(&c, &client_id, "zed@nowhere.org").await.unwrap(), "z***@n***");

    // The request limit: ghost-0 has had 3 resends (5 allowed) and 2 ForgotPasswords.
    resend(&c, &client_id, "ghost-0").await.expect("third resend");
    resend(&c, &client_id, "ghost-0").await.expect("fourth resend");
    resend(&c, &client_id, "ghost-0").await.expect("fifth resend");
    assert!(is_attempt_limit(&resend(&c, &client_id, "ghost-0").await));
    for _ in 0..3 {
        forgot(&c, &client_id, "ghost-0")
            .await
            .expect("ForgotPassword within the limit");
    }
    assert!(is_attempt_limit(&forgot(&c, &client_id, "ghost-0").await));

    // Codes: five mismatches, then the attempt limit.
    for _ in 0..5 {
        expect_err_msg(
            c.idp
                .confirm_sign_up()
                .client_id(&client_id)
                .username("ghost-0")
                .confirmation_code("123456")
                .send()
                .await,
            "CodeMismatchException",
            "Invalid verification code provided, please try again.",
        );
    }
    let r = c
        .idp
        .confirm_sign_up()
        .client_id(&client_id)
        .username("ghost-0")
        .confirmation_code("123456")
        .send()
        .await
        .map_err(|e| aws_err::<(), _>(Err(e)));
    assert!(is_attempt_limit(&r), "{r:?}");

    // Passwords: locked out after five failures, like a user.
    for i in 0..5 {
        let r = password_auth(&c, &pue, "ghost-0", WRONG).await;
        assert!(is_incorrect(&r), "failure {i}: {r:?}");
    }
    let r = password_auth(&c, &pue, "ghost-0", WRONG).await;
    assert!(is_locked(&r), "{r:?}");
    c.advance(Duration::from_millis(1100));
    assert!(is_incorrect(&password_auth(&c, &pue, "ghost-0", WRONG).await));
}

#[tokio::test]
async fn a_disabled_user_is_told_so_only_after_the_right_password() {
    let c = Cognate::start().await;
    let pool = c.create_pool("disabled").await;
    let client_id = client_with(&c, &pool.pool_id, true).await;
    c.admin_user(&pool, "off", "off@example.com").await;
    c.idp
        .admin_disable_user()
        .user_pool_id(&pool.pool_id)
        .username("off")
        .send()
        .await
        .expect("AdminDisableUser");
    let pue = TestPool {
        pool_id: pool.pool_id.clone(),
        client_id: client_id.clone(),
    };
    let r = password_auth(&c, &pue, "off", WRONG).await;
    assert!(is_incorrect(&r), "{r:?}");
    let r = password_auth(&c, &pue, "off", PASSWORD).await;
    assert!(
        matches!(&r, Err(e) if e.code == "NotAuthorizedException" && e.message.as_deref() == Some("User is disabled.")),
        "{r:?}"
    );
    // SRP: the same, at the PASSWORD_VERIFIER answer.
    let r = crate::srp::srp_sign_in(&c, &pool.pool_id, &client_id, "off", WRONG).await;
    let e = r.expect_err("a wrong password");
    assert_eq!(
        (e.code.as_str(), e.message.as_deref()),
        ("NotAuthorizedException", Some("Incorrect username or password."))
    );
    let r = crate::srp::srp_sign_in(&c, &pool.pool_id, &client_id, "off", PASSWORD).await;
    let e = r.expect_err("a disabled user");
    assert_eq!(
        (e.code.as_str(), e.message.as_deref()),
        ("NotAuthorizedException", Some("User is disabled."))
    );
}
