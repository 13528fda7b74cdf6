//! A sign-in's state between requests is in the database: an SRP sign-in started on one node
//! is answered on a second, and the email MFA challenge that follows on a third. The built-in
//! KMS's keys are shared the same way.
use super::cluster::Cluster;
use super::*;
use idp::types::{ChallengeNameType, EmailMfaConfigType, EmailMfaSettingsType, UserPoolMfaType};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_started_on_one_node_ends_on_others() {
    let Some(cluster) = Cluster::start("challenges", 3, &[]).await else {
        return;
    };
    let [a, b, c] = [&cluster.nodes[0], &cluster.nodes[1], &cluster.nodes[2]];
    let pool = create_pool(a, "challenges").await;
    b.idp
        .set_user_pool_mfa_config()
        .user_pool_id(&pool.pool_id)
        .mfa_configuration(UserPoolMfaType::Optional)
        .email_mfa_configuration(
            EmailMfaConfigType::builder()
                .message("Your email code is {####}")
                .subject("Sign-in code")
                .build(),
        )
        .send()
        .await
        .expect("SetUserPoolMfaConfig on B");
    admin_user(c, &pool, "sara").await;
    a.idp
        .admin_set_user_mfa_preference()
        .user_pool_id(&pool.pool_id)
        .username("sara")
        .email_mfa_settings(EmailMfaSettingsType::builder().enabled(true).build())
        .send()
        .await
        .expect("AdminSetUserMFAPreference on A");

    // USER_SRP_AUTH on A.
    let srp = aws_cognito_srp::SrpClient::new(
        aws_cognito_srp::User::new(&pool.pool_id, "sara", PASSWORD),
        &pool.client_id,
        None,
    );
    let params = srp.get_auth_parameters();
    let started = a
        .idp
        .initiate_auth()
        .client_id(&pool.client_id)
        .auth_flow(AuthFlowType::UserSrpAuth)
        .auth_parameters("USERNAME", &params.username)
        .auth_parameters("SRP_A", &params.a)
        .send()
        .await
        .expect("InitiateAuth on A");
    assert_eq!(started.challenge_name(), Some(&ChallengeNameType::PasswordVerifier));
    let p = started.challenge_parameters().expect("ChallengeParameters");
    let user_id = &p["USER_ID_FOR_SRP"];
    let proof = srp
        .verify(&p["SECRET_BLOCK"], user_id, &p["SALT"], &p["SRP_B"])
        .expect("client-side SRP");

    // PASSWORD_VERIFIER on B.
    let verified = b
        .idp
        .respond_to_auth_challenge()
        .client_id(&pool.client_id)
        .challenge_name(ChallengeNameType::PasswordVerifier)
        .set_session(started.session().map(str::to_owned))
        .challenge_responses("USERNAME", user_id)
        .challenge_responses("PASSWORD_CLAIM_SECRET_BLOCK", proof.password_claim_secret_block)
        .challenge_responses("PASSWORD_CLAIM_SIGNATURE", proof.password_claim_signature)
        .challenge_responses("TIMESTAMP", proof.timestamp)
        .send()
        .await
        .expect("PASSWORD_VERIFIER on B");
    assert_eq!(verified.challenge_name(), Some(&ChallengeNameType::EmailOtp));
    let session = verified.session().expect("a session").to_owned();

    // EMAIL_OTP on C: first a wrong code (counted, the session stays), then the code sent.
    let code = c.latest_code("sara@example.com").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let answer = |node: &super::cluster::Node, code: &str| {
        node.idp
            .respond_to_auth_challenge()
            .client_id(&pool.client_id)
            .challenge_name(ChallengeNameType::EmailOtp)
            .session(&session)
            .challenge_responses("USERNAME", "sara")
            .challenge_responses("EMAIL_OTP_CODE", code)
            .send()
    };
    let (error, _) = aws_error(answer(a, wrong).await);
    assert_eq!(error, "CodeMismatchException");
    let done = answer(c, &code).await.expect("EMAIL_OTP on C");
    let access = done
        .authentication_result()
        .and_then(|r| r.access_token())
        .expect("tokens");
    let user = b
        .idp
        .get_user()
        .access_token(access)
        .send()
        .await
        .expect("GetUser on B");
    assert_eq!(user.username(), "sara");
    // A challenge is answered once, on whichever node: the session is gone everywhere.
    for node in &cluster.nodes {
        let (error, _) = aws_error(answer(node, &code).await);
        assert_eq!(error, "NotAuthorizedException");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kms_key_made_on_one_node_works_on_another() {
    use aws_sdk_kms::primitives::Blob;
    let Some(cluster) = Cluster::start("kms", 3, &[]).await else {
        return;
    };
    let [a, b, c] = [cluster.nodes[0].kms(), cluster.nodes[1].kms(), cluster.nodes[2].kms()];
    let key = a
        .create_key()
        .description("shared")
        .send()
        .await
        .expect("CreateKey on A");
    let key_id = key.key_metadata().expect("metadata").key_id().to_owned();
    let sealed = a
        .encrypt()
        .key_id(&key_id)
        .plaintext(Blob::new(b"across nodes".to_vec()))
        .send()
        .await
        .expect("Encrypt on A");
    let opened = b
        .decrypt()
        .ciphertext_blob(sealed.ciphertext_blob().expect("ciphertext").clone())
        .send()
        .await
        .expect("Decrypt on B");
    assert_eq!(opened.plaintext().expect("plaintext").as_ref(), b"across nodes");
    assert_eq!(opened.key_id(), key.key_metadata().and_then(|m| m.arn()));

    // An alias made on C names the key on A; a data key made on B opens on C.
    c.create_alias()
        .alias_name("alias/shared")
        .target_key_id(&key_id)
        .send()
        .await
        .expect("CreateAlias on C");
    let described = a
        .describe_key()
        .key_id("alias/shared")
        .send()
        .await
        .expect("DescribeKey on A");
    assert_eq!(described.key_metadata().map(|m| m.key_id()), Some(key_id.as_str()));
    let data_key = b
        .generate_data_key()
        .key_id("alias/shared")
        .number_of_bytes(32)
        .send()
        .await
        .expect("GenerateDataKey on B");
    let opened = c
        .decrypt()
        .ciphertext_blob(data_key.ciphertext_blob().expect("ciphertext").clone())
        .send()
        .await
        .expect("Decrypt on C");
    assert_eq!(opened.plaintext(), data_key.plaintext());
}
