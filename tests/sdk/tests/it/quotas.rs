//! Cognito's request-rate quotas, per pool, with the injected clock: a category allows its rate
//! each second and answers `TooManyRequestsException: Rate exceeded` beyond it.
use std::time::Duration;

use cognate_sdk_tests::*;

/// A server whose quotas are AWS's defaults but for the given categories, on a manual clock.
async fn start(rates: &[&str]) -> Cognate {
    let mut quotas = cognate::QuotaSettings::default();
    for r in rates {
        quotas.set_from_str(r).unwrap();
    }
    let opts = cognate::ServeOptions {
        quotas: Some(quotas),
        ..base_options()
    };
    let clock = cognate::ManualClock::new(now_millis());
    Cognate::start_with(opts, Some(clock)).await
}

#[tokio::test]
async fn user_reads_beyond_the_rate_are_throttled_until_the_next_second() {
    let c = start(&["UserRead=3", "UserAuthentication=10"]).await;
    let pool = c.create_pool("quota").await;
    c.admin_user(&pool, "ann", "ann@example.com").await;
    let token = c
        .sign_in(&pool, "ann", PASSWORD)
        .await
        .access_token()
        .unwrap()
        .to_owned();
    let get_user = || c.idp.get_user().access_token(&token).send();

    // GetUser and AdminGetUser share UserRead: three in this second, then no more.
    get_user().await.expect("first read");
    get_user().await.expect("second read");
    c.idp
        .admin_get_user()
        .user_pool_id(&pool.pool_id)
        .username("ann")
        .send()
        .await
        .expect("third read");
    expect_err_msg(get_user().await, "TooManyRequestsException", "Rate exceeded");
    expect_err_msg(
        c.idp
            .admin_get_user()
            .user_pool_id(&pool.pool_id)
            .username("ann")
            .send()
            .await,
        "TooManyRequestsException",
        "Rate exceeded",
    );

    // Another pool has its own count, and other categories are not touched.
    let other = c.create_pool("other").await;
    c.admin_user(&other, "bob", "bob@example.com").await;
    c.idp
        .admin_get_user()
        .user_pool_id(&other.pool_id)
        .username("bob")
        .send()
        .await
        .expect("another pool's reads");
    c.sign_in(&pool, "ann", PASSWORD).await;

    // A second later the bucket is full again.
    c.advance(Duration::from_secs(1));
    get_user().await.expect("a read in the next second");
}

#[tokio::test]
async fn requests_naming_a_client_count_against_its_pool() {
    let c = start(&["UserCreation=2"]).await;
    let pool = c.create_pool("creation").await;
    for name in ["u1", "u2"] {
        c.idp
            .sign_up()
            .client_id(&pool.client_id)
            .username(name)
            .password(PASSWORD)
            .user_attributes(attr("email", &format!("{name}@example.com")))
            .send()
            .await
            .expect("SignUp within the rate");
    }
    // SignUp names a client, AdminCreateUser the pool: both are UserCreation of that pool.
    expect_err_msg(
        c.idp
            .admin_create_user()
            .user_pool_id(&pool.pool_id)
            .username("u3")
            .send()
            .await,
        "TooManyRequestsException",
        "Rate exceeded",
    );
    // Nothing was created by the refused call.
    c.advance(Duration::from_secs(1));
    expect_err(
        c.idp
            .admin_get_user()
            .user_pool_id(&pool.pool_id)
            .username("u3")
            .send()
            .await,
        "UserNotFoundException",
    );
}
