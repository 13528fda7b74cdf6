//! Guessing in parallel: bursts of simultaneous requests for one user must be counted exactly
//! as if they came one after the other. Each test fires its burst at once (tokio tasks on the
//! AWS SDK) and counts the answers; the server runs on a manual clock, so no lockout or window
//! ends during a burst and the counts are exact.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::future::Future;

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ChallengeNameType};
use cognate_sdk_tests::*;

use crate::protections::{CountingCompute, WRONG, client_with};

/// What a request was answered: `"ok"` or the error's `code: message`.
fn answer<T, E: ProvideErrorMetadata + Debug>(r: Result<T, E>) -> String {
    match r {
        Ok(_) => "ok".to_string(),
        Err(e) => match e.code() {
            Some(code) => format!("{code}: {}", e.message().unwrap_or_default()),
            None => format!("no service error: {e:?}"),
        },
    }
}

/// A request's answer, as a future for [`burst`].
async fn said<T, E, F>(f: F) -> String
where
    E: ProvideErrorMetadata + Debug,
    F: Future<Output = Result<T, E>>,
{
    answer(f.await)
}

/// Runs every request at once (one task each) and returns the answers in order.
async fn burst<F: Future<Output = String> + Send + 'static>(futures: Vec<F>) -> Vec<String> {
    let tasks: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

fn tally(answers: &[String]) -> BTreeMap<&str, usize> {
    let mut t = BTreeMap::new();
    for a in answers {
        *t.entry(a.as_str()).or_insert(0) += 1;
    }
    t
}

const INCORRECT: &str = "NotAuthorizedException: Incorrect username or password.";
const LOCKED: &str = "NotAuthorizedException: Password attempts exceeded";
const MISMATCH: &str = "CodeMismatchException: Invalid verification code provided, please try again.";
const LIMIT: &str = "LimitExceededException: Attempt limit exceeded, please try after some time.";

/// A server on a manual clock whose password checks are counted.
async fn counted_server() -> (Cognate, std::sync::Arc<CountingCompute>) {
    let compute = CountingCompute::new();
    let opts = cognate::ServeOptions {
        compute: Some(compute.clone()),
        ..base_options()
    };
    let clock = cognate::ManualClock::new(now_millis());
    (Cognate::start_with(opts, Some(clock)).await, compute)
}

fn password_attempt(
    c: &Cognate,
    pool: &TestPool,
    admin: bool,
    password: &str,
) -> std::pin::Pin<Box<dyn Future<Output = String> + Send + 'static>> {
    if admin {
        Box::pin(said(
            c.idp
                .admin_initiate_auth()
                .user_pool_id(&pool.pool_id)
                .client_id(&pool.client_id)
                .auth_flow(AuthFlowType::AdminUserPasswordAuth)
                .auth_parameters("USERNAME", "victim")
                .auth_parameters("PASSWORD", password)
                .send(),
        ))
    } else {
        Box::pin(said(
            c.idp
                .initiate_auth()
                .client_id(&pool.client_id)
                .auth_flow(AuthFlowType::UserPasswordAuth)
                .auth_parameters("USERNAME", "victim")
                .auth_parameters("PASSWORD", password)
                .send(),
        ))
    }
}

#[tokio::test]
async fn concurrent_wrong_passwords_are_counted_and_then_not_checked() {
    let (c, compute) = counted_server().await;
    let pool = c.create_pool("burst").await;
    c.admin_user(&pool, "victim", "victim@example.com").await;

    // 100 wrong guesses at once, through both password flows.
    let before = compute.checks();
    let answers = burst(
        (0..100)
            .map(|i| password_attempt(&c, &pool, i % 2 == 1, WRONG))
            .collect(),
    )
    .await;
    let t = tally(&answers);
    assert_eq!(t.get(INCORRECT), Some(&5), "exactly five guesses are checked: {t:?}");
    assert_eq!(t.get(LOCKED), Some(&95), "the rest are refused unchecked: {t:?}");
    assert_eq!(compute.checks() - before, 5, "one password check per counted failure");

    // The right password, in a burst of wrong ones, is refused like them and never checked.
    let before = compute.checks();
    let mut attempts: Vec<_> = (0..40)
        .map(|i| password_attempt(&c, &pool, i % 2 == 1, WRONG))
        .collect();
    attempts.insert(20, password_attempt(&c, &pool, false, PASSWORD));
    attempts.push(password_attempt(&c, &pool, true, PASSWORD));
    let answers = burst(attempts).await;
    assert!(answers.iter().all(|a| a == LOCKED), "{:?}", tally(&answers));
    assert_eq!(compute.checks(), before, "no password is checked while locked out");
}

#[tokio::test]
async fn concurrent_srp_answers_are_counted() {
    let c = Cognate::start_with_clock().await;
    let pool = c.create_pool("burst-srp").await;
    let client_id = client_with(&c, &pool.pool_id, false).await;
    c.admin_user(&pool, "victim", "victim@example.com").await;

    // 40 PASSWORD_VERIFIER challenges with a wrong password, answered all at once.
    let mut answers = Vec::new();
    for _ in 0..40 {
        let srp = aws_cognito_srp::SrpClient::new(
            aws_cognito_srp::User::new(&pool.pool_id, "victim", WRONG),
            &client_id,
            None,
        );
        let out = c
            .idp
            .initiate_auth()
            .client_id(&client_id)
            .auth_flow(AuthFlowType::UserSrpAuth)
            .auth_parameters("USERNAME", "victim")
            .auth_parameters("SRP_A", srp.get_auth_parameters().a)
            .send()
            .await
            .expect("USER_SRP_AUTH");
        let p = out.challenge_parameters().unwrap();
        let v = srp
            .verify(&p["SECRET_BLOCK"], &p["USER_ID_FOR_SRP"], &p["SALT"], &p["SRP_B"])
            .expect("client-side SRP");
        let request = c
            .idp
            .respond_to_auth_challenge()
            .client_id(&client_id)
            .challenge_name(ChallengeNameType::PasswordVerifier)
            .set_session(out.session().map(str::to_string))
            .challenge_responses("USERNAME", &p["USER_ID_FOR_SRP"])
            .challenge_responses("PASSWORD_CLAIM_SECRET_BLOCK", v.password_claim_secret_block)
            .challenge_responses("PASSWORD_CLAIM_SIGNATURE", v.password_claim_signature)
            .challenge_responses("TIMESTAMP", v.timestamp);
        answers.push(said(request.send()));
    }
    let t = tally(&burst(answers).await)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect::<Vec<_>>();
    assert_eq!(
        t,
        vec![(INCORRECT.to_string(), 5), (LOCKED.to_string(), 35)],
        "five SRP answers are checked, the rest refused"
    );
    // The same lockout holds for the password flow.
    let r = crate::protections::password_auth(&c, &pool, "victim", PASSWORD).await;
    assert!(crate::protections::is_locked(&r), "{r:?}");
}

#[tokio::test]
async fn concurrent_change_password_guesses_are_counted() {
    let (c, compute) = counted_server().await;
    let pool = c.create_pool("burst-change").await;
    c.admin_user(&pool, "victim", "victim@example.com").await;
    let token = c
        .sign_in(&pool, "victim", PASSWORD)
        .await
        .access_token()
        .unwrap()
        .to_string();
    let change = |previous: &str| {
        c.idp
            .change_password()
            .access_token(&token)
            .previous_password(previous)
            .proposed_password(NEW_PASSWORD)
            .send()
    };
    let before = compute.checks();
    let answers = burst((0..30).map(|_| said(change(WRONG))).collect()).await;
    let t = tally(&answers);
    assert_eq!(t.get(INCORRECT), Some(&5), "{t:?}");
    assert_eq!(t.get(LIMIT), Some(&25), "{t:?}");
    assert_eq!(compute.checks() - before, 5);
    // Locked out: the right previous password is refused unchecked, and so is sign-in.
    expect_err_msg(
        change(PASSWORD).await,
        "LimitExceededException",
        "Attempt limit exceeded, please try after some time.",
    );
    let r = crate::protections::password_auth(&c, &pool, "victim", PASSWORD).await;
    assert!(crate::protections::is_locked(&r), "{r:?}");
    assert_eq!(compute.checks() - before, 5);
}

#[tokio::test]
async fn concurrent_code_guesses_are_counted() {
    let c = Cognate::start_with_clock().await;
    let pool = c.create_pool("burst-codes").await;
    c.idp
        .sign_up()
        .client_id(&pool.client_id)
        .username("victim")
        .password(PASSWORD)
        .user_attributes(attr("email", "victim@example.com"))
        .send()
        .await
        .expect("SignUp");
    let code = c.last_code("victim@example.com").await;
    // 100 different wrong codes (none of them the right one).
    let wrong = |code: &str, i: usize| format!("{:06}", (code.parse::<usize>().unwrap() + 1 + i) % 1_000_000);
    let confirm = |given: String| {
        c.idp
            .confirm_sign_up()
            .client_id(&pool.client_id)
            .username("victim")
            .confirmation_code(given)
            .send()
    };
    let answers = burst((0..100).map(|i| said(confirm(wrong(&code, i)))).collect()).await;
    let t = tally(&answers);
    assert_eq!(t.get(MISMATCH), Some(&5), "five guesses are compared: {t:?}");
    assert_eq!(t.get(LIMIT), Some(&95), "{t:?}");
    // The code is dead, the right one too.
    expect_err(confirm(code).await, "LimitExceededException");

    // ConfirmForgotPassword: the same.
    c.admin_user(&pool, "other", "other@example.com").await;
    c.idp
        .forgot_password()
        .client_id(&pool.client_id)
        .username("other")
        .send()
        .await
        .expect("ForgotPassword");
    let code = c.last_code("other@example.com").await;
    let reset = |given: String| {
        c.idp
            .confirm_forgot_password()
            .client_id(&pool.client_id)
            .username("other")
            .confirmation_code(given)
            .password(NEW_PASSWORD)
            .send()
    };
    let answers = burst((0..50).map(|i| said(reset(wrong(&code, i)))).collect()).await;
    let t = tally(&answers);
    assert_eq!(t.get(MISMATCH), Some(&5), "{t:?}");
    assert_eq!(t.get(LIMIT), Some(&45), "{t:?}");
    expect_err(reset(code).await, "LimitExceededException");
}

#[tokio::test]
async fn concurrent_code_requests_are_counted() {
    let c = Cognate::start_with_clock().await;
    let pool = c.create_pool("burst-requests").await;
    c.admin_user(&pool, "victim", "victim@example.com").await;
    let answers = burst(
        (0..30)
            .map(|_| {
                said(
                    c.idp
                        .forgot_password()
                        .client_id(&pool.client_id)
                        .username("victim")
                        .send(),
                )
            })
            .collect(),
    )
    .await;
    let t = tally(&answers);
    assert_eq!(t.get("ok"), Some(&5), "five codes an hour: {t:?}");
    assert_eq!(t.get(LIMIT), Some(&25), "{t:?}");
    assert_eq!(
        c.messages(Some("victim@example.com")).await.len(),
        5,
        "five messages sent"
    );
}

/// A pool where the email is the username; case-insensitive when asked.
async fn email_pool(c: &Cognate, name: &str, case_sensitive: bool) -> TestPool {
    use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{UsernameAttributeType, UsernameConfigurationType};
    let config = UsernameConfigurationType::builder()
        .case_sensitive(case_sensitive)
        .build()
        .expect("UsernameConfiguration");
    c.finish_pool(
        c.pool_builder(name)
            .username_attributes(UsernameAttributeType::Email)
            .username_configuration(config),
    )
    .await
}

fn sign_up(c: &Cognate, pool: &TestPool, email: &str) -> impl Future<Output = String> + Send + 'static {
    said(
        c.idp
            .sign_up()
            .client_id(&pool.client_id)
            .username(email)
            .password(PASSWORD)
            .send(),
    )
}

#[tokio::test]
async fn simultaneous_sign_ups_with_one_email_make_one_account() {
    let c = Cognate::start().await;
    let pool = email_pool(&c, "one-email", true).await;
    let answers = burst((0..20).map(|_| sign_up(&c, &pool, "twin@example.org")).collect()).await;
    let t = tally(&answers);
    assert_eq!(t.get("ok"), Some(&1), "{t:?}");
    assert_eq!(
        t.get("UsernameExistsException: An account with the given email already exists."),
        Some(&19),
        "{t:?}"
    );
    // The same through AdminCreateUser.
    let create = |email: &str| {
        said(
            c.idp
                .admin_create_user()
                .user_pool_id(&pool.pool_id)
                .username(email)
                .message_action(cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::MessageActionType::Suppress)
                .send(),
        )
    };
    let answers = burst((0..20).map(|_| create("triplet@example.org")).collect()).await;
    let t = tally(&answers);
    assert_eq!(t.get("ok"), Some(&1), "{t:?}");
    assert_eq!(
        t.get("UsernameExistsException: User account already exists"),
        Some(&19),
        "{t:?}"
    );
}

#[tokio::test]
async fn simultaneous_attribute_updates_to_one_email_leave_it_with_one_account() {
    use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::MessageActionType;
    let c = Cognate::start().await;
    let pool = email_pool(&c, "update-email", true).await;
    for i in 0..20 {
        c.idp
            .admin_create_user()
            .user_pool_id(&pool.pool_id)
            .username(format!("owner{i}@example.org"))
            .message_action(MessageActionType::Suppress)
            .send()
            .await
            .expect("AdminCreateUser");
    }
    let update = |i: usize| {
        said(
            c.idp
                .admin_update_user_attributes()
                .user_pool_id(&pool.pool_id)
                .username(format!("owner{i}@example.org"))
                .user_attributes(attr("email", "wanted@example.org"))
                .send(),
        )
    };
    let answers = burst((0..20).map(update).collect()).await;
    let t = tally(&answers);
    assert_eq!(t.get("ok"), Some(&1), "{t:?}");
    assert_eq!(
        t.get("AliasExistsException: An account with the given email already exists."),
        Some(&19),
        "{t:?}"
    );
}

#[tokio::test]
async fn a_case_insensitive_pool_compares_emails_without_case() {
    let c = Cognate::start().await;
    let pool = email_pool(&c, "no-case", false).await;
    assert_eq!(sign_up(&c, &pool, "x@example.org").await, "ok");
    assert_eq!(
        sign_up(&c, &pool, "X@EXAMPLE.ORG").await,
        "UsernameExistsException: An account with the given email already exists."
    );
    // Mixed case first, then another spelling.
    assert_eq!(sign_up(&c, &pool, "Mixed@Example.org").await, "ok");
    assert_eq!(
        sign_up(&c, &pool, "mIXED@example.ORG").await,
        "UsernameExistsException: An account with the given email already exists."
    );
    // Once the account is gone, the address is free again.
    c.idp
        .admin_delete_user()
        .user_pool_id(&pool.pool_id)
        .username("x@example.org")
        .send()
        .await
        .expect("AdminDeleteUser");
    assert_eq!(sign_up(&c, &pool, "X@EXAMPLE.ORG").await, "ok");
    // A case-sensitive pool keeps them apart.
    let sensitive = email_pool(&c, "with-case", true).await;
    assert_eq!(sign_up(&c, &sensitive, "y@example.org").await, "ok");
    assert_eq!(sign_up(&c, &sensitive, "Y@example.org").await, "ok");
}

#[tokio::test]
async fn one_verified_email_alias_at_a_time() {
    use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{AliasAttributeType, MessageActionType};
    let c = Cognate::start().await;
    let pool = c
        .finish_pool(c.pool_builder("alias").alias_attributes(AliasAttributeType::Email))
        .await;
    let create = |i: usize| {
        said(
            c.idp
                .admin_create_user()
                .user_pool_id(&pool.pool_id)
                .username(format!("holder{i}"))
                .message_action(MessageActionType::Suppress)
                .user_attributes(attr("email", "shared@example.org"))
                .user_attributes(attr("email_verified", "true"))
                .send(),
        )
    };
    let answers = burst((0..20).map(create).collect()).await;
    let t = tally(&answers);
    assert_eq!(t.get("ok"), Some(&1), "{t:?}");
    assert_eq!(
        t.get("AliasExistsException: An account with the email already exists."),
        Some(&19),
        "{t:?}"
    );
}
