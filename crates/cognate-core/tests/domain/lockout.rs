//! Guessing protections: the progressive lockout after wrong passwords, and
//! PreventUserExistenceErrors making unknown users look like wrong passwords.
use crate::{WRONG, err_text};
use cognate_core::testkit::{PASSWORD, service};
use serde_json::json;
use std::time::Duration;

const INCORRECT: &str = "NotAuthorizedException: Incorrect username or password.";
const LOCKED: &str = "NotAuthorizedException: Password attempts exceeded";

#[tokio::test]
async fn five_wrong_passwords_lock_even_the_right_one_out() {
    let kit = service();
    let (pool, client) = kit.pool_client_user().await;
    for attempt in 0..5 {
        let r = kit.sign_in(&client, "alice", WRONG).await;
        assert_eq!(err_text(r), INCORRECT, "attempt {attempt}");
    }
    assert_eq!(err_text(kit.sign_in(&client, "alice", PASSWORD).await), LOCKED);
    let admin = kit
        .call(
            "AdminInitiateAuth",
            json!({
                "UserPoolId": pool, "ClientId": client, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD},
            }),
        )
        .await;
    assert_eq!(err_text(admin), LOCKED, "the lockout covers the admin flow too");
}

#[tokio::test]
async fn the_lockout_ends_and_doubles_with_each_further_failure() {
    let kit = service();
    let (_, client) = kit.pool_client_user().await;
    for _ in 0..5 {
        kit.sign_in(&client, "alice", WRONG).await.unwrap_err();
    }
    // First lockout: 1 s. A sixth failure after it locks for 2 s.
    kit.clock.advance(Duration::from_millis(1100));
    assert_eq!(err_text(kit.sign_in(&client, "alice", WRONG).await), INCORRECT);
    kit.clock.advance(Duration::from_millis(1900));
    assert_eq!(err_text(kit.sign_in(&client, "alice", PASSWORD).await), LOCKED);
    kit.clock.advance(Duration::from_millis(200));
    kit.sign_in(&client, "alice", PASSWORD)
        .await
        .expect("the right password works once the lockout is over");
}

#[tokio::test]
async fn a_successful_sign_in_resets_the_failure_count() {
    let kit = service();
    let (_, client) = kit.pool_client_user().await;
    for _ in 0..4 {
        kit.sign_in(&client, "alice", WRONG).await.unwrap_err();
    }
    kit.sign_in(&client, "alice", PASSWORD)
        .await
        .expect("fifth try, right password");
    for _ in 0..4 {
        assert_eq!(err_text(kit.sign_in(&client, "alice", WRONG).await), INCORRECT);
    }
    kit.sign_in(&client, "alice", PASSWORD)
        .await
        .expect("four failures after a reset do not lock");
}

#[tokio::test]
async fn the_lockout_is_capped_at_fifteen_minutes() {
    let kit = service();
    let (_, client) = kit.pool_client_user().await;
    for n in 1..=16u32 {
        assert_eq!(
            err_text(kit.sign_in(&client, "alice", WRONG).await),
            INCORRECT,
            "failure {n}"
        );
        if n >= 5 {
            let secs = (1u64 << (n - 5)).min(900);
            kit.clock.advance(Duration::from_secs(secs) + Duration::from_millis(10));
        }
    }
    kit.sign_in(&client, "alice", PASSWORD)
        .await
        .expect("sign-in after a capped lockout");
}

#[tokio::test]
async fn prevent_user_existence_errors_hides_unknown_users() {
    let kit = service();
    let (pool, legacy) = kit.pool_client_user().await;
    let hiding = kit
        .create_client(&pool, json!({"PreventUserExistenceErrors": "ENABLED"}))
        .await;
    assert_eq!(
        err_text(kit.sign_in(&legacy, "nobody", WRONG).await),
        "UserNotFoundException: User does not exist."
    );
    assert_eq!(err_text(kit.sign_in(&hiding, "nobody", WRONG).await), INCORRECT);
    assert_eq!(err_text(kit.sign_in(&hiding, "alice", WRONG).await), INCORRECT);
}

#[tokio::test]
async fn prevent_user_existence_errors_answers_forgot_password_for_unknown_users() {
    let kit = service();
    let (pool, legacy) = kit.pool_client_user().await;
    let hiding = kit
        .create_client(&pool, json!({"PreventUserExistenceErrors": "ENABLED"}))
        .await;
    let forgot = |client: &str| json!({"ClientId": client, "Username": "nobody"});
    let r = kit.call("ForgotPassword", forgot(&legacy)).await;
    assert!(err_text(r).starts_with("UserNotFoundException"));
    let out = kit.ok("ForgotPassword", forgot(&hiding)).await;
    assert!(
        out["CodeDeliveryDetails"]["Destination"].is_string(),
        "an unknown user gets a plausible delivery: {out}"
    );
    assert!(kit.messages.messages().is_empty(), "but nothing is sent");
}
