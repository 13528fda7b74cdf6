//! CreateUserPool, DescribeUserPool, UpdateUserPool, DeleteUserPool, ListUserPools,
//! AddCustomAttributes.

use std::collections::HashSet;

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{
    AccountRecoverySettingType, AdminCreateUserConfigType, AliasAttributeType, AttributeDataType,
    DefaultEmailOptionType, DeletionProtectionType, LambdaConfigType, MessageActionType, MessageTemplateType,
    NumberAttributeConstraintsType, PasswordPolicyType, RecoveryOptionNameType, RecoveryOptionType,
    SchemaAttributeType, SoftwareTokenMfaConfigType, StringAttributeConstraintsType, UserAttributeUpdateSettingsType,
    UserPoolMfaType, UserPoolPolicyType, UsernameAttributeType, VerificationMessageTemplateType, VerifiedAttributeType,
};
use cognate_sdk_tests::*;
use serde_json::{Value, json};

const PRE_SIGN_UP_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:pre-sign-up";
const CUSTOM_MESSAGE_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:custom-message";

fn strict_policy(min: i32) -> UserPoolPolicyType {
    UserPoolPolicyType::builder()
        .password_policy(
            PasswordPolicyType::builder()
                .minimum_length(min)
                .require_uppercase(true)
                .require_lowercase(true)
                .require_numbers(true)
                .require_symbols(false)
                .temporary_password_validity_days(3)
                .build(),
        )
        .build()
}

#[tokio::test]
async fn create_user_pool_echoes_configuration() {
    let c = Cognate::start().await;
    let out = c
        .idp
        .create_user_pool()
        .pool_name("everything")
        .policies(strict_policy(10))
        .schema(
            SchemaAttributeType::builder()
                .name("email")
                .attribute_data_type(AttributeDataType::String)
                .required(true)
                .mutable(true)
                .build(),
        )
        .schema(
            SchemaAttributeType::builder()
                .name("given_name")
                .attribute_data_type(AttributeDataType::String)
                .required(false)
                .mutable(true)
                .build(),
        )
        .schema(custom_string_attribute("tenant"))
        .schema(
            SchemaAttributeType::builder()
                .name("age")
                .attribute_data_type(AttributeDataType::Number)
                .mutable(true)
                .number_attribute_constraints(
                    NumberAttributeConstraintsType::builder()
                        .min_value("0")
                        .max_value("150")
                        .build(),
                )
                .build(),
        )
        .alias_attributes(AliasAttributeType::Email)
        .alias_attributes(AliasAttributeType::PreferredUsername)
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .verification_message_template(
            VerificationMessageTemplateType::builder()
                .default_email_option(DefaultEmailOptionType::ConfirmWithCode)
                .email_subject("Your code")
                .email_message("Code: {####}")
                .sms_message("SMS code {####}")
                .build(),
        )
        .admin_create_user_config(
            AdminCreateUserConfigType::builder()
                .allow_admin_create_user_only(false)
                .invite_message_template(
                    MessageTemplateType::builder()
                        .email_subject("Welcome")
                        .email_message("Hi {username}, your password is {####}")
                        .sms_message("Hi {username} {####}")
                        .build(),
                )
                .build(),
        )
        .account_recovery_setting(
            AccountRecoverySettingType::builder()
                .recovery_mechanisms(
                    RecoveryOptionType::builder()
                        .name(RecoveryOptionNameType::VerifiedEmail)
                        .priority(1)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .lambda_config(
            LambdaConfigType::builder()
                .pre_sign_up(PRE_SIGN_UP_ARN)
                .custom_message(CUSTOM_MESSAGE_ARN)
                .build(),
        )
        .user_attribute_update_settings(
            UserAttributeUpdateSettingsType::builder()
                .attributes_require_verification_before_update(VerifiedAttributeType::Email)
                .build(),
        )
        // OFF: MFA ON/OPTIONAL would need SMS or TOTP configuration, out of scope here.
        .mfa_configuration(UserPoolMfaType::Off)
        .deletion_protection(DeletionProtectionType::Active)
        .user_pool_tags("team", "identity")
        .user_pool_tags("env", "test")
        .send()
        .await
        .expect("CreateUserPool");

    let created = out.user_pool().expect("UserPool in CreateUserPool response");
    let id = created.id().expect("Id").to_string();
    assert!(is_pool_id(&id), "pool id {id} is not us-east-1_ + 9 alphanumerics");
    assert_eq!(created.name(), Some("everything"));

    let described = c
        .idp
        .describe_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .expect("DescribeUserPool");
    for pool in [created, described.user_pool().expect("UserPool")] {
        assert_eq!(pool.id(), Some(id.as_str()));
        assert_eq!(
            pool.arn(),
            Some(format!("arn:aws:cognito-idp:us-east-1:123456789012:userpool/{id}").as_str())
        );
        let pp = pool
            .policies()
            .and_then(|p| p.password_policy())
            .expect("PasswordPolicy");
        assert_eq!(pp.minimum_length(), Some(10));
        assert!(pp.require_uppercase());
        assert!(pp.require_lowercase());
        assert!(pp.require_numbers());
        assert!(!pp.require_symbols());
        assert_eq!(pp.temporary_password_validity_days(), 3);

        let names: HashSet<&str> = pool.schema_attributes().iter().filter_map(|a| a.name()).collect();
        for standard in ["sub", "email", "email_verified", "given_name", "phone_number", "name"] {
            assert!(
                names.contains(standard),
                "standard attribute {standard} missing: {names:?}"
            );
        }
        assert!(names.contains("custom:tenant"), "custom:tenant missing: {names:?}");
        assert!(names.contains("custom:age"), "custom:age missing: {names:?}");
        assert!(!names.contains("tenant"), "custom attribute without prefix: {names:?}");
        let email = pool
            .schema_attributes()
            .iter()
            .find(|a| a.name() == Some("email"))
            .unwrap();
        assert_eq!(email.required(), Some(true));
        let age = pool
            .schema_attributes()
            .iter()
            .find(|a| a.name() == Some("custom:age"))
            .unwrap();
        assert_eq!(age.attribute_data_type(), Some(&AttributeDataType::Number));

        let aliases: HashSet<_> = pool.alias_attributes().iter().cloned().collect();
        assert_eq!(
            aliases,
            HashSet::from([AliasAttributeType::Email, AliasAttributeType::PreferredUsername])
        );
        assert_eq!(pool.auto_verified_attributes(), &[VerifiedAttributeType::Email]);
        let vmt = pool
            .verification_message_template()
            .expect("VerificationMessageTemplate");
        assert_eq!(vmt.email_subject(), Some("Your code"));
        assert_eq!(vmt.email_message(), Some("Code: {####}"));
        assert_eq!(
            vmt.default_email_option(),
            Some(&DefaultEmailOptionType::ConfirmWithCode)
        );
        let acu = pool.admin_create_user_config().expect("AdminCreateUserConfig");
        assert!(!acu.allow_admin_create_user_only());
        assert_eq!(
            acu.invite_message_template().and_then(|t| t.email_subject()),
            Some("Welcome")
        );
        let rec = pool.account_recovery_setting().expect("AccountRecoverySetting");
        assert_eq!(rec.recovery_mechanisms().len(), 1);
        assert_eq!(
            rec.recovery_mechanisms()[0].name(),
            &RecoveryOptionNameType::VerifiedEmail
        );
        let lambda = pool.lambda_config().expect("LambdaConfig");
        assert_eq!(lambda.pre_sign_up(), Some(PRE_SIGN_UP_ARN));
        assert_eq!(lambda.custom_message(), Some(CUSTOM_MESSAGE_ARN));
        assert_eq!(
            pool.user_attribute_update_settings()
                .map(|s| s.attributes_require_verification_before_update().to_vec()),
            Some(vec![VerifiedAttributeType::Email])
        );
        assert_eq!(pool.mfa_configuration(), Some(&UserPoolMfaType::Off));
        assert_eq!(pool.deletion_protection(), Some(&DeletionProtectionType::Active));
        let tags = pool.user_pool_tags().expect("UserPoolTags");
        assert_eq!(tags.get("team").map(String::as_str), Some("identity"));
        assert_eq!(tags.get("env").map(String::as_str), Some("test"));
        assert!(pool.creation_date().is_some());
        assert!(pool.last_modified_date().is_some());
    }
}

#[tokio::test]
async fn username_attributes_are_echoed() {
    let c = Cognate::start().await;
    let out = c
        .idp
        .create_user_pool()
        .pool_name("by-email")
        .username_attributes(UsernameAttributeType::Email)
        .send()
        .await
        .expect("CreateUserPool");
    let id = out.user_pool().unwrap().id().unwrap().to_string();
    let described = c.idp.describe_user_pool().user_pool_id(&id).send().await.unwrap();
    let pool = described.user_pool().unwrap();
    assert_eq!(pool.username_attributes(), &[UsernameAttributeType::Email]);
    assert!(pool.alias_attributes().is_empty());
    // Defaults: AWS's default password policy is 8 characters with all four classes.
    let pp = pool
        .policies()
        .and_then(|p| p.password_policy())
        .expect("default PasswordPolicy");
    assert_eq!(pp.minimum_length(), Some(8));
    assert!(pp.require_uppercase());
    assert!(pp.require_lowercase());
    assert!(pp.require_numbers());
    assert!(pp.require_symbols());
    assert_eq!(pool.estimated_number_of_users(), 0);
}

#[tokio::test]
async fn pool_ids_are_unique_and_well_formed() {
    let c = Cognate::start().await;
    let mut ids = HashSet::new();
    for i in 0..5 {
        let p = c.create_pool(&format!("pool-{i}")).await;
        assert!(is_pool_id(&p.pool_id), "bad pool id {}", p.pool_id);
        assert!(ids.insert(p.pool_id));
    }
}

#[tokio::test]
async fn describe_unknown_pool_is_resource_not_found() {
    let c = Cognate::start().await;
    expect_err(
        c.idp
            .describe_user_pool()
            .user_pool_id("us-east-1_AAAAAAAAA")
            .send()
            .await,
        "ResourceNotFoundException",
    );
    expect_err(
        c.idp
            .update_user_pool()
            .user_pool_id("us-east-1_AAAAAAAAA")
            .send()
            .await,
        "ResourceNotFoundException",
    );
    expect_err(
        c.idp
            .delete_user_pool()
            .user_pool_id("us-east-1_AAAAAAAAA")
            .send()
            .await,
        "ResourceNotFoundException",
    );
    expect_err(
        c.idp
            .admin_get_user()
            .user_pool_id("us-east-1_AAAAAAAAA")
            .username("x")
            .send()
            .await,
        "ResourceNotFoundException",
    );
}

#[tokio::test]
async fn update_user_pool_changes_settings() {
    let c = Cognate::start().await;
    let pool = c
        .finish_pool(
            c.pool_builder("upd")
                .lambda_config(LambdaConfigType::builder().pre_sign_up(PRE_SIGN_UP_ARN).build()),
        )
        .await;
    c.idp
        .update_user_pool()
        .user_pool_id(&pool.pool_id)
        .policies(strict_policy(12))
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .user_pool_tags("stage", "two")
        .send()
        .await
        .expect("UpdateUserPool");
    let out = c
        .idp
        .describe_user_pool()
        .user_pool_id(&pool.pool_id)
        .send()
        .await
        .unwrap();
    let p = out.user_pool().unwrap();
    assert_eq!(p.name(), Some("upd"), "the name is not updatable and must survive");
    let pp = p.policies().and_then(|p| p.password_policy()).unwrap();
    assert_eq!(pp.minimum_length(), Some(12));
    assert!(!pp.require_symbols());
    assert_eq!(
        p.user_pool_tags().and_then(|t| t.get("stage")).map(String::as_str),
        Some("two")
    );
    // AWS documents that UpdateUserPool resets every setting that the request leaves out to its
    // default; LambdaConfig is the classic victim.
    assert!(
        p.lambda_config().and_then(|l| l.pre_sign_up()).is_none(),
        "LambdaConfig omitted from UpdateUserPool must be cleared: {:?}",
        p.lambda_config()
    );

    // The new policy is enforced: 11 characters is too short now.
    let err = expect_err(
        c.idp
            .sign_up()
            .client_id(&pool.client_id)
            .username("shorty")
            .password("Abcdefgh1!x")
            .user_attributes(attr("email", "shorty@example.com"))
            .send()
            .await,
        "InvalidPasswordException",
    );
    assert!(err.contains("Password not long enough"), "message: {err}");
}

#[tokio::test]
async fn delete_user_pool_and_deletion_protection() {
    let c = Cognate::start().await;
    let plain = c.create_pool("plain").await;
    c.idp
        .delete_user_pool()
        .user_pool_id(&plain.pool_id)
        .send()
        .await
        .expect("DeleteUserPool");
    expect_err(
        c.idp.describe_user_pool().user_pool_id(&plain.pool_id).send().await,
        "ResourceNotFoundException",
    );

    let protected = c
        .finish_pool(
            c.pool_builder("protected")
                .deletion_protection(DeletionProtectionType::Active),
        )
        .await;
    expect_err(
        c.idp.delete_user_pool().user_pool_id(&protected.pool_id).send().await,
        "InvalidParameterException",
    );
    c.idp
        .describe_user_pool()
        .user_pool_id(&protected.pool_id)
        .send()
        .await
        .expect("protected pool still exists");
    c.idp
        .update_user_pool()
        .user_pool_id(&protected.pool_id)
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .deletion_protection(DeletionProtectionType::Inactive)
        .send()
        .await
        .expect("UpdateUserPool deletion protection off");
    c.idp
        .delete_user_pool()
        .user_pool_id(&protected.pool_id)
        .send()
        .await
        .expect("DeleteUserPool after protection is off");
}

#[tokio::test]
async fn deleted_pool_takes_its_users_and_clients() {
    let c = Cognate::start().await;
    let pool = c.create_pool("gone").await;
    c.admin_user(&pool, "alice", "alice@example.com").await;
    c.idp
        .delete_user_pool()
        .user_pool_id(&pool.pool_id)
        .send()
        .await
        .unwrap();
    expect_err(
        c.idp
            .admin_get_user()
            .user_pool_id(&pool.pool_id)
            .username("alice")
            .send()
            .await,
        "ResourceNotFoundException",
    );
    // The app client went with the pool.
    let err = aws_err(
        c.idp
            .initiate_auth()
            .client_id(&pool.client_id)
            .auth_flow(cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "alice")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await,
    );
    assert_eq!(err.code, "ResourceNotFoundException", "{err:?}");
}

#[tokio::test]
async fn list_user_pools_paginates() {
    let c = Cognate::start().await;
    let mut created = HashSet::new();
    for i in 0..7 {
        let out = c
            .idp
            .create_user_pool()
            .pool_name(format!("p{i}"))
            .send()
            .await
            .unwrap();
        created.insert(out.user_pool().unwrap().id().unwrap().to_string());
    }

    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = c
            .idp
            .list_user_pools()
            .max_results(3)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("ListUserPools");
        pages += 1;
        assert!(out.user_pools().len() <= 3, "page larger than MaxResults");
        for p in out.user_pools() {
            assert!(p.name().is_some());
            assert!(p.creation_date().is_some());
            seen.push(p.id().unwrap().to_string());
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
        assert!(pages < 10, "pagination does not terminate");
    }
    assert!(pages >= 3, "7 pools with MaxResults 3 need at least 3 pages");
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "a pool was listed twice: {seen:?}");
    assert_eq!(unique, created);
}

#[tokio::test]
async fn add_custom_attributes() {
    let c = Cognate::start().await;
    let pool = c.create_pool("custom").await;
    c.idp
        .add_custom_attributes()
        .user_pool_id(&pool.pool_id)
        .custom_attributes(custom_string_attribute("plan"))
        .custom_attributes(
            SchemaAttributeType::builder()
                .name("seats")
                .attribute_data_type(AttributeDataType::Number)
                .mutable(true)
                .build(),
        )
        .send()
        .await
        .expect("AddCustomAttributes");
    let out = c
        .idp
        .describe_user_pool()
        .user_pool_id(&pool.pool_id)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = out
        .user_pool()
        .unwrap()
        .schema_attributes()
        .iter()
        .filter_map(|a| a.name())
        .collect();
    assert!(names.contains(&"custom:plan"), "{names:?}");
    assert!(names.contains(&"custom:seats"), "{names:?}");
    assert!(names.contains(&"custom:tier"), "{names:?}");

    // The new attribute is usable on users.
    c.idp
        .admin_create_user()
        .user_pool_id(&pool.pool_id)
        .username("carol")
        .message_action(cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::MessageActionType::Suppress)
        .user_attributes(attr("custom:plan", "gold"))
        .send()
        .await
        .expect("AdminCreateUser with the new custom attribute");
    assert_eq!(
        lookup(&c.admin_attrs(&pool, "carol").await, "custom:plan").as_deref(),
        Some("gold")
    );

    // Adding an attribute that already exists is refused.
    expect_err(
        c.idp
            .add_custom_attributes()
            .user_pool_id(&pool.pool_id)
            .custom_attributes(custom_string_attribute("plan"))
            .send()
            .await,
        "InvalidParameterException",
    );
    // An attribute the schema does not define cannot be written.
    expect_err(
        c.idp
            .admin_update_user_attributes()
            .user_pool_id(&pool.pool_id)
            .username("carol")
            .user_attributes(attr("custom:undefined", "x"))
            .send()
            .await,
        "InvalidParameterException",
    );
    expect_err(
        c.idp
            .add_custom_attributes()
            .user_pool_id("us-east-1_AAAAAAAAA")
            .custom_attributes(custom_string_attribute("x"))
            .send()
            .await,
        "ResourceNotFoundException",
    );
}

#[tokio::test]
async fn string_constraints_are_enforced_on_custom_attributes() {
    let c = Cognate::start().await;
    let pool = c
        .finish_pool(
            c.pool_builder("constraints").schema(
                SchemaAttributeType::builder()
                    .name("code")
                    .attribute_data_type(AttributeDataType::String)
                    .mutable(true)
                    .string_attribute_constraints(
                        StringAttributeConstraintsType::builder()
                            .min_length("2")
                            .max_length("4")
                            .build(),
                    )
                    .build(),
            ),
        )
        .await;
    c.admin_user(&pool, "dave", "dave@example.com").await;
    expect_err(
        c.idp
            .admin_update_user_attributes()
            .user_pool_id(&pool.pool_id)
            .username("dave")
            .user_attributes(attr("custom:code", "toolong"))
            .send()
            .await,
        "InvalidParameterException",
    );
    c.idp
        .admin_update_user_attributes()
        .user_pool_id(&pool.pool_id)
        .username("dave")
        .user_attributes(attr("custom:code", "ok"))
        .send()
        .await
        .expect("value within constraints");
}

// ----------------------------------------------------------------------------------------------
// What Terraform's AWS provider sends (through the AWS SDK for Go v2, which leaves false and zero
// members out of the JSON) and compares: DescribeUserPool must return exactly what was set.
// ----------------------------------------------------------------------------------------------

/// The CreateUserPool body the hashicorp/aws provider (5.100) sends for a pool with
/// `password_policy { minimum_length = 8, require_lowercase/numbers/uppercase = true,
/// require_symbols = false }`, `admin_create_user_config { allow_admin_create_user_only = false }`
/// and `device_configuration { challenge_required_on_new_device = true,
/// device_only_remembered_on_user_prompt = false }`: every false is left out.
fn terraform_create_pool_body() -> Value {
    json!({
        "AccountRecoverySetting": {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]},
        "AdminCreateUserConfig": {},
        "AutoVerifiedAttributes": ["email"],
        "DeletionProtection": "INACTIVE",
        "DeviceConfiguration": {"ChallengeRequiredOnNewDevice": true},
        "Policies": {"PasswordPolicy": {
            "MinimumLength": 8, "PasswordHistorySize": 0,
            "RequireLowercase": true, "RequireNumbers": true, "RequireUppercase": true
        }},
        "PoolName": "terraform",
        "Schema": [{
            "AttributeDataType": "String", "DeveloperOnlyAttribute": false, "Mutable": true,
            "Name": "tenant", "Required": false,
            "StringAttributeConstraints": {"MaxLength": "64", "MinLength": "1"}
        }],
        "UsernameAttributes": ["email"],
        "UsernameConfiguration": {"CaseSensitive": false},
        "UserPoolTags": {},
        "VerificationMessageTemplate": {
            "DefaultEmailOption": "CONFIRM_WITH_CODE", "EmailMessage": "Code {####}", "EmailSubject": "Your code"
        }
    })
}

/// What DescribeUserPool must report for the Terraform pool (the members the provider reads
/// back), with the given minimum length.
fn terraform_pool_described(min: i64) -> Value {
    json!({
        "AccountRecoverySetting": {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]},
        "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": false, "UnusedAccountValidityDays": 7},
        "AutoVerifiedAttributes": ["email"],
        "DeletionProtection": "INACTIVE",
        "DeviceConfiguration": {"ChallengeRequiredOnNewDevice": true, "DeviceOnlyRememberedOnUserPrompt": false},
        "EmailConfiguration": {"EmailSendingAccount": "COGNITO_DEFAULT"},
        "EmailVerificationMessage": "Code {####}",
        "EmailVerificationSubject": "Your code",
        "MfaConfiguration": "OFF",
        "Policies": {
            "PasswordPolicy": {
                "MinimumLength": min, "PasswordHistorySize": 0,
                "RequireLowercase": true, "RequireNumbers": true, "RequireUppercase": true,
                "RequireSymbols": false, "TemporaryPasswordValidityDays": 7
            },
            "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD"]}
        },
        "UsernameAttributes": ["email"],
        "UsernameConfiguration": {"CaseSensitive": false},
        "UserPoolTags": {},
        "VerificationMessageTemplate": {
            "DefaultEmailOption": "CONFIRM_WITH_CODE", "EmailMessage": "Code {####}", "EmailSubject": "Your code"
        }
    })
}

/// The members of a described pool that `expected` names, for an exact comparison.
fn members_of(described: &Value, expected: &Value) -> Value {
    let picked: serde_json::Map<String, Value> = expected
        .as_object()
        .expect("object")
        .keys()
        .map(|k| (k.clone(), described.get(k).cloned().unwrap_or(Value::Null)))
        .collect();
    Value::Object(picked)
}

async fn describe_raw(c: &Cognate, pool_id: &str) -> Value {
    c.call("DescribeUserPool", json!({"UserPoolId": pool_id})).await["UserPool"].take()
}

#[tokio::test]
async fn terraform_pool_round_trip_keeps_false_members_false() {
    let c = Cognate::start().await;
    let created = c.call("CreateUserPool", terraform_create_pool_body()).await;
    let pool_id = created["UserPool"]["Id"].as_str().expect("Id").to_string();
    let expected = terraform_pool_described(8);
    assert_eq!(
        members_of(&created["UserPool"], &expected),
        expected,
        "CreateUserPool answer"
    );
    assert_eq!(members_of(&describe_raw(&c, &pool_id).await, &expected), expected);

    // The policy is enforced as described: no symbol needed.
    let client_id = c.create_client(&pool_id, "app", false).await.0;
    let pool = TestPool {
        pool_id: pool_id.clone(),
        client_id,
    };
    c.idp
        .admin_create_user()
        .user_pool_id(&pool_id)
        .username("alice@example.com")
        .temporary_password("Temporary1pass")
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .expect("AdminCreateUser with a temporary password without symbols");
    c.idp
        .admin_set_user_password()
        .user_pool_id(&pool_id)
        .username("alice@example.com")
        .password("Nosymbols1234")
        .permanent(true)
        .send()
        .await
        .expect("AdminSetUserPassword without symbols");
    c.sign_in(&pool, "alice@example.com", "Nosymbols1234").await;
    c.idp
        .sign_up()
        .client_id(&pool.client_id)
        .username("bob@example.com")
        .password("Nosymbols1234")
        .send()
        .await
        .expect("SignUp with a password without symbols");

    // terraform apply with minimum_length = 10: UpdateUserPool carries every block again
    // (with what the provider read back), still without the false members.
    let mut update = json!({
        "UserPoolId": pool_id,
        "EmailConfiguration": {"EmailSendingAccount": "COGNITO_DEFAULT"},
        "EmailVerificationMessage": "Code {####}",
        "EmailVerificationSubject": "Your code",
        "MfaConfiguration": "OFF",
        "UserPoolTier": "ESSENTIALS",
        "Policies": {
            "PasswordPolicy": {
                "MinimumLength": 10, "PasswordHistorySize": 0,
                "RequireLowercase": true, "RequireNumbers": true, "RequireUppercase": true,
                "TemporaryPasswordValidityDays": 7
            },
            "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD"]}
        }
    });
    let body = terraform_create_pool_body();
    for k in [
        "AccountRecoverySetting",
        "AdminCreateUserConfig",
        "AutoVerifiedAttributes",
        "DeletionProtection",
        "DeviceConfiguration",
        "VerificationMessageTemplate",
    ] {
        update[k] = body[k].clone();
    }
    assert_eq!(c.call("UpdateUserPool", update).await, json!({}));
    let expected = terraform_pool_described(10);
    assert_eq!(members_of(&describe_raw(&c, &pool_id).await, &expected), expected);
    let err = expect_err(
        c.idp
            .sign_up()
            .client_id(&pool.client_id)
            .username("carol@example.com")
            .password("Nosym1234")
            .send()
            .await,
        "InvalidPasswordException",
    );
    assert!(err.contains("Password not long enough"), "message: {err}");
    c.idp
        .sign_up()
        .client_id(&pool.client_id)
        .username("carol@example.com")
        .password("Nosymbols12345")
        .send()
        .await
        .expect("SignUp: still no symbol needed after the update");
}

#[tokio::test]
async fn given_password_policy_takes_no_defaults_but_temporary_validity() {
    let c = Cognate::start().await;
    // The AWS SDK for Rust sends every flag (false too) and TemporaryPasswordValidityDays 0,
    // which Cognito reads as "not given": 7 days.
    let out = c
        .idp
        .create_user_pool()
        .pool_name("numbers-only")
        .policies(
            UserPoolPolicyType::builder()
                .password_policy(
                    PasswordPolicyType::builder()
                        .minimum_length(6)
                        .require_numbers(true)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("CreateUserPool");
    let pool_id = out.user_pool().and_then(|p| p.id()).expect("Id").to_string();
    let described = c.idp.describe_user_pool().user_pool_id(&pool_id).send().await.unwrap();
    let pp = described
        .user_pool()
        .and_then(|p| p.policies())
        .and_then(|p| p.password_policy())
        .expect("PasswordPolicy");
    assert_eq!(pp.minimum_length(), Some(6));
    assert!(pp.require_numbers());
    assert!(!pp.require_uppercase() && !pp.require_lowercase() && !pp.require_symbols());
    assert_eq!(pp.temporary_password_validity_days(), 7);

    // Straight to the wire: a policy with one member only.
    let created = c
        .call(
            "CreateUserPool",
            json!({"PoolName": "raw", "Policies": {"PasswordPolicy": {"MinimumLength": 9}}}),
        )
        .await;
    assert_eq!(
        created["UserPool"]["Policies"]["PasswordPolicy"],
        json!({
            "MinimumLength": 9, "RequireUppercase": false, "RequireLowercase": false,
            "RequireNumbers": false, "RequireSymbols": false, "TemporaryPasswordValidityDays": 7
        })
    );
    let pool_id = created["UserPool"]["Id"].as_str().unwrap().to_string();
    let client_id = c.create_client(&pool_id, "app", false).await.0;
    c.idp
        .sign_up()
        .client_id(&client_id)
        .username("plain")
        .password("lowercaseonly")
        .send()
        .await
        .expect("nothing but the length is required");

    // Without Policies at all, Cognito's defaults: 8 characters, all four classes, 7 days.
    let created = c.call("CreateUserPool", json!({"PoolName": "defaults"})).await;
    assert_eq!(
        created["UserPool"]["Policies"]["PasswordPolicy"],
        json!({
            "MinimumLength": 8, "RequireUppercase": true, "RequireLowercase": true,
            "RequireNumbers": true, "RequireSymbols": true, "TemporaryPasswordValidityDays": 7
        })
    );
}

/// UpdateUserPool returns what it is not sent to its default (LambdaConfig, DeviceConfiguration,
/// AutoVerifiedAttributes, ...), except what AWS was measured to keep:
/// MfaConfiguration, each policy of Policies that the request leaves out, and
/// UserAttributeUpdateSettings.
#[tokio::test]
async fn update_user_pool_keeps_what_aws_keeps() {
    let c = Cognate::start().await;
    let created = c
        .call(
            "CreateUserPool",
            json!({
                "PoolName": "keep",
                "Policies": {
                    "PasswordPolicy": {"MinimumLength": 12, "RequireLowercase": true, "TemporaryPasswordValidityDays": 3},
                    "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}
                },
                "AutoVerifiedAttributes": ["email"],
                "UserAttributeUpdateSettings": {"AttributesRequireVerificationBeforeUpdate": ["email"]},
                "LambdaConfig": {"PreSignUp": PRE_SIGN_UP_ARN},
                "DeviceConfiguration": {"ChallengeRequiredOnNewDevice": true}
            }),
        )
        .await;
    let pool_id = created["UserPool"]["Id"].as_str().unwrap().to_string();
    let password_policy = json!({
        "MinimumLength": 12, "RequireLowercase": true, "RequireUppercase": false,
        "RequireNumbers": false, "RequireSymbols": false, "TemporaryPasswordValidityDays": 3
    });
    assert_eq!(created["UserPool"]["Policies"]["PasswordPolicy"], password_policy);
    c.idp
        .set_user_pool_mfa_config()
        .user_pool_id(&pool_id)
        .software_token_mfa_configuration(SoftwareTokenMfaConfigType::builder().enabled(true).build())
        .mfa_configuration(UserPoolMfaType::Optional)
        .send()
        .await
        .expect("SetUserPoolMfaConfig");

    // An update with tags and AutoVerifiedAttributes only (the tags show it was applied).
    c.call(
        "UpdateUserPool",
        json!({"UserPoolId": pool_id, "AutoVerifiedAttributes": ["email"], "UserPoolTags": {"stage": "two"}}),
    )
    .await;
    let pool = describe_raw(&c, &pool_id).await;
    assert_eq!(pool["UserPoolTags"], json!({"stage": "two"}));
    assert_eq!(
        pool["Policies"],
        json!({
            "PasswordPolicy": password_policy,
            "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}
        })
    );
    assert_eq!(pool["MfaConfiguration"], "OPTIONAL");
    assert_eq!(
        pool["UserAttributeUpdateSettings"],
        json!({"AttributesRequireVerificationBeforeUpdate": ["email"]})
    );
    let described = c.idp.describe_user_pool().user_pool_id(&pool_id).send().await.unwrap();
    let p = described.user_pool().unwrap();
    assert!(
        p.lambda_config().and_then(|l| l.pre_sign_up()).is_none(),
        "LambdaConfig is reset"
    );
    assert!(p.device_configuration().is_none(), "DeviceConfiguration is reset");

    // Policies with a SignInPolicy only: the PasswordPolicy stays; and the other way round.
    c.call(
        "UpdateUserPool",
        json!({"UserPoolId": pool_id, "Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD"]}}}),
    )
    .await;
    let pool = describe_raw(&c, &pool_id).await;
    assert_eq!(pool["Policies"]["PasswordPolicy"], password_policy);
    assert_eq!(
        pool["Policies"]["SignInPolicy"],
        json!({"AllowedFirstAuthFactors": ["PASSWORD"]})
    );
    c.call(
        "UpdateUserPool",
        json!({
            "UserPoolId": pool_id,
            "MfaConfiguration": "OFF",
            "UserAttributeUpdateSettings": {"AttributesRequireVerificationBeforeUpdate": []},
            "Policies": {"PasswordPolicy": {"MinimumLength": 8}}
        }),
    )
    .await;
    let pool = describe_raw(&c, &pool_id).await;
    assert_eq!(
        pool["Policies"],
        json!({
            "PasswordPolicy": {
                "MinimumLength": 8, "RequireLowercase": false, "RequireUppercase": false,
                "RequireNumbers": false, "RequireSymbols": false, "TemporaryPasswordValidityDays": 7
            },
            "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD"]}
        })
    );
    assert_eq!(pool["MfaConfiguration"], "OFF");
    assert_eq!(
        pool["UserAttributeUpdateSettings"],
        json!({"AttributesRequireVerificationBeforeUpdate": []})
    );
}

#[tokio::test]
async fn username_configuration_needs_case_sensitive() {
    let c = Cognate::start().await;
    let resp = c
        .raw(
            "AWSCognitoIdentityProviderService.CreateUserPool",
            json!({"PoolName": "nocase", "UsernameConfiguration": {}}).to_string(),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["__type"], "InvalidParameterException", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("usernameConfiguration.caseSensitive"),
        "{body}"
    );
}

#[tokio::test]
async fn kms_key_id_must_be_an_arn() {
    let c = Cognate::start().await;
    let pattern =
        "arn:[\\w+=/,.@-]+:[\\w+=/,.@-]+:([\\w+=/,.@-]*)?:[0-9]+:[\\w+=/,.@-]+(:[\\w+=/,.@-]+)?(:[\\w+=/,.@-]+)?";
    let lambda_config = |key: &str| LambdaConfigType::builder().kms_key_id(key).build();
    // Too short and not an ARN: both constraints are reported.
    expect_err_msg(
        c.idp
            .create_user_pool()
            .pool_name("kms")
            .lambda_config(lambda_config("a b"))
            .send()
            .await,
        "InvalidParameterException",
        &format!(
            "2 validation errors detected: Value 'a b' at 'lambdaConfig.kMSKeyID' failed to satisfy constraint: \
             Member must have length greater than or equal to 20; Value 'a b' at 'lambdaConfig.kMSKeyID' failed to \
             satisfy constraint: Member must satisfy regular expression pattern: {pattern}"
        ),
    );
    let long_enough = "not an arn at all, but long";
    expect_err_msg(
        c.idp
            .create_user_pool()
            .pool_name("kms")
            .lambda_config(lambda_config(long_enough))
            .send()
            .await,
        "InvalidParameterException",
        &format!(
            "1 validation error detected: Value '{long_enough}' at 'lambdaConfig.kMSKeyID' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: {pattern}"
        ),
    );
    let pool = c.create_pool("kms").await;
    expect_err(
        c.idp
            .update_user_pool()
            .user_pool_id(&pool.pool_id)
            .lambda_config(lambda_config("a b"))
            .send()
            .await,
        "InvalidParameterException",
    );
    let arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    c.idp
        .update_user_pool()
        .user_pool_id(&pool.pool_id)
        .lambda_config(lambda_config(arn))
        .send()
        .await
        .expect("a key ARN is accepted");
}

/// A pool saved before KMSKeyID was validated may hold a key that cannot be used: sending a
/// code through its custom sender is refused as a configuration error, not a 500.
#[tokio::test]
async fn unusable_kms_key_is_a_configuration_error() {
    let c = Cognate::start().await;
    let created = c
        .call(
            "CreateUserPool",
            serde_json::json!({
                "PoolName": "bad-key",
                "AutoVerifiedAttributes": ["email"],
                "LambdaConfig": {
                    "CustomEmailSender": {
                        "LambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:sender",
                        "LambdaVersion": "V1_0"
                    },
                    "KMSKeyID": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                }
            }),
        )
        .await;
    let pool_id = created["UserPool"]["Id"].as_str().unwrap().to_owned();
    let store = c.server().service().store().clone();
    let mut pool = store.get_pool(&pool_id).await.unwrap().unwrap();
    pool.settings
        .get_mut("LambdaConfig")
        .and_then(|l| l.as_object_mut())
        .unwrap()
        .insert("KMSKeyID".into(), serde_json::json!("a b"));
    store.update_pool(&pool).await.unwrap();
    let (client_id, _) = c.create_client(&pool_id, "app", false).await;
    expect_err(
        c.idp
            .sign_up()
            .client_id(&client_id)
            .username("kim")
            .password(PASSWORD)
            .user_attributes(attr("email", "kim@example.com"))
            .send()
            .await,
        "InvalidUserPoolConfigurationException",
    );
}
