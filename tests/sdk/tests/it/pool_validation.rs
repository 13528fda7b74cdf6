//! What CreateUserPool, AddCustomAttributes, SetUserPoolMfaConfig, attribute updates and password
//! resets refuse, with Cognito's
//! messages: schema attributes (types, developer-only standard attributes, constraints) and the
//! MFA configuration rules (OFF with a factor, ON without one, SMS without its configuration).

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{
    AttributeDataType, NumberAttributeConstraintsType, SchemaAttributeType, SmsConfigurationType, SmsMfaConfigType,
    SoftwareTokenMfaConfigType, StringAttributeConstraintsType, UserPoolMfaType,
};
use cognate_sdk_tests::*;

fn string_constraints(min: Option<&str>, max: Option<&str>) -> StringAttributeConstraintsType {
    let mut b = StringAttributeConstraintsType::builder();
    if let Some(m) = min {
        b = b.min_length(m);
    }
    if let Some(m) = max {
        b = b.max_length(m);
    }
    b.build()
}

fn number_constraints(min: Option<&str>, max: Option<&str>) -> NumberAttributeConstraintsType {
    let mut b = NumberAttributeConstraintsType::builder();
    if let Some(m) = min {
        b = b.min_value(m);
    }
    if let Some(m) = max {
        b = b.max_value(m);
    }
    b.build()
}

async fn create_with(c: &Cognate, attribute: SchemaAttributeType) -> String {
    expect_err(
        c.idp
            .create_user_pool()
            .pool_name("schema")
            .schema(attribute)
            .send()
            .await,
        "InvalidParameterException",
    )
}

#[tokio::test]
async fn schema_attributes_are_checked_as_cognito_checks_them() {
    let c = Cognate::start().await;
    let cases: Vec<(SchemaAttributeType, &str)> = vec![
        (
            SchemaAttributeType::builder().name("tier").build(),
            "Invalid AttributeDataType input, consider using the provided AttributeDataType enum.",
        ),
        (
            SchemaAttributeType::builder()
                .name("email")
                .attribute_data_type(AttributeDataType::Number)
                .build(),
            "You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute email",
        ),
        (
            SchemaAttributeType::builder()
                .name("email")
                .developer_only_attribute(true)
                .build(),
            "You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute email",
        ),
        (
            SchemaAttributeType::builder()
                .name("email")
                .attribute_data_type(AttributeDataType::String)
                .string_attribute_constraints(string_constraints(Some("many"), None))
                .build(),
            "Invalid StringAttributeConstraints for schema attribute email",
        ),
        (
            SchemaAttributeType::builder()
                .name("updated_at")
                .attribute_data_type(AttributeDataType::Number)
                .number_attribute_constraints(number_constraints(None, Some("lots")))
                .build(),
            "Invalid NumberAttributeConstraints for schema attribute updated_at",
        ),
        (
            SchemaAttributeType::builder()
                .name("email")
                .attribute_data_type(AttributeDataType::String)
                .string_attribute_constraints(string_constraints(None, Some("2049")))
                .build(),
            "user.email: String attributes cannot have a length of more than 2048",
        ),
        (
            SchemaAttributeType::builder()
                .name("email")
                .attribute_data_type(AttributeDataType::String)
                .string_attribute_constraints(string_constraints(Some("2"), Some("1")))
                .build(),
            "user.email: Max length cannot be less than min length.",
        ),
        (
            SchemaAttributeType::builder()
                .name("updated_at")
                .attribute_data_type(AttributeDataType::Number)
                .number_attribute_constraints(number_constraints(Some("2"), Some("1")))
                .build(),
            "user.updated_at: Max value cannot be less than min value.",
        ),
        (
            SchemaAttributeType::builder()
                .name("code")
                .attribute_data_type(AttributeDataType::String)
                .string_attribute_constraints(string_constraints(Some("-1"), None))
                .build(),
            "Invalid StringAttributeConstraints for schema attribute custom:code",
        ),
        (
            SchemaAttributeType::builder()
                .name("banana")
                .attribute_data_type(AttributeDataType::String)
                .required(true)
                .build(),
            "Required custom attributes are not supported currently.",
        ),
    ];
    for (attribute, message) in cases {
        let got = create_with(&c, attribute.clone()).await;
        assert_eq!(got, message, "for {attribute:?}");
    }
    let listed = c.idp.list_user_pools().max_results(60).send().await.unwrap();
    assert!(listed.user_pools().is_empty(), "a refused CreateUserPool made a pool");

    // A standard attribute named without a type is fine (CDK writes them so), and given
    // constraints are kept.
    let out = c
        .idp
        .create_user_pool()
        .pool_name("schema")
        .schema(SchemaAttributeType::builder().name("email").required(true).build())
        .schema(
            SchemaAttributeType::builder()
                .name("nickname")
                .attribute_data_type(AttributeDataType::String)
                .string_attribute_constraints(string_constraints(Some("3"), Some("30")))
                .build(),
        )
        .schema(
            SchemaAttributeType::builder()
                .name("score")
                .attribute_data_type(AttributeDataType::Number)
                .number_attribute_constraints(number_constraints(Some("-5"), Some("5")))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let schema = out.user_pool().unwrap().schema_attributes();
    let find = |n: &str| schema.iter().find(|a| a.name() == Some(n)).unwrap().clone();
    assert_eq!(find("email").required(), Some(true));
    let nickname = find("nickname");
    let nick = nickname.string_attribute_constraints().unwrap();
    assert_eq!((nick.min_length(), nick.max_length()), (Some("3"), Some("30")));
    let score = find("custom:score");
    let score = score.number_attribute_constraints().unwrap();
    assert_eq!((score.min_value(), score.max_value()), (Some("-5"), Some("5")));
    c.shutdown().await;
}

#[tokio::test]
async fn add_custom_attributes_refuses_names_taken_and_missing_types() {
    let c = Cognate::start().await;
    let pool = c
        .finish_pool(
            c.pool_builder("custom").schema(
                SchemaAttributeType::builder()
                    .name("banana")
                    .attribute_data_type(AttributeDataType::String)
                    .developer_only_attribute(true)
                    .build(),
            ),
        )
        .await;
    let add = |a: SchemaAttributeType| {
        c.idp
            .add_custom_attributes()
            .user_pool_id(&pool.pool_id)
            .custom_attributes(a)
            .send()
    };
    // The same name, developer-only or not, is one attribute.
    expect_err_msg(
        add(SchemaAttributeType::builder()
            .name("banana")
            .attribute_data_type(AttributeDataType::String)
            .build())
        .await,
        "InvalidParameterException",
        "custom:banana: Existing attribute already has name dev:custom:banana.",
    );
    expect_err_msg(
        add(SchemaAttributeType::builder().name("plum").build()).await,
        "InvalidParameterException",
        "Invalid AttributeDataType input, consider using the provided AttributeDataType enum.",
    );
    add(SchemaAttributeType::builder()
        .name("plum")
        .attribute_data_type(AttributeDataType::Boolean)
        .build())
    .await
    .unwrap();
    let described = c
        .idp
        .describe_user_pool()
        .user_pool_id(&pool.pool_id)
        .send()
        .await
        .unwrap();
    let names: Vec<_> = described
        .user_pool()
        .unwrap()
        .schema_attributes()
        .iter()
        .filter_map(|a| a.name())
        .filter(|n| n.contains("custom:"))
        .collect();
    // (The suite's pools also have custom:tier.)
    assert!(names.ends_with(&["dev:custom:banana", "custom:plum"]), "{names:?}");
    assert_eq!(names.iter().filter(|n| n.ends_with("banana")).count(), 1);
    c.shutdown().await;
}

fn sms_config() -> SmsConfigurationType {
    SmsConfigurationType::builder()
        .sns_caller_arn("arn:aws:iam::123456789012:role/sms")
        .external_id("cognate")
        .build()
}

#[tokio::test]
async fn mfa_configuration_rules() {
    let c = Cognate::start().await;
    // A new pool can require MFA only with an SMS configuration.
    for mode in [UserPoolMfaType::On, UserPoolMfaType::Optional] {
        expect_err_msg(
            c.idp
                .create_user_pool()
                .pool_name("mfa")
                .mfa_configuration(mode)
                .send()
                .await,
            "InvalidParameterException",
            "SMS configuration and Auto verification for phone_number are required when MFA is required/optional",
        );
    }
    let with_sms = c
        .idp
        .create_user_pool()
        .pool_name("mfa-sms")
        .mfa_configuration(UserPoolMfaType::Optional)
        .sms_configuration(sms_config())
        .send()
        .await
        .unwrap();
    assert_eq!(
        with_sms.user_pool().unwrap().mfa_configuration(),
        Some(&UserPoolMfaType::Optional)
    );

    let pool = c.create_pool("mfa").await;
    let set = || c.idp.set_user_pool_mfa_config().user_pool_id(&pool.pool_id);
    let totp = |on: bool| SoftwareTokenMfaConfigType::builder().enabled(on).build();
    expect_err_msg(
        set().mfa_configuration(UserPoolMfaType::On).send().await,
        "InvalidParameterException",
        "Invalid MFA Configuration given. SMS MFA, Email MFA, or Software Token MFA must be enabled.",
    );
    // A factor member counts by being there, even disabled.
    expect_err_msg(
        set()
            .mfa_configuration(UserPoolMfaType::Off)
            .software_token_mfa_configuration(totp(false))
            .send()
            .await,
        "InvalidParameterException",
        "Invalid MFA configuration given, can't turn off MFA and configure an MFA together.",
    );
    expect_err_msg(
        set()
            .mfa_configuration(UserPoolMfaType::On)
            .sms_mfa_configuration(SmsMfaConfigType::builder().build())
            .send()
            .await,
        "InvalidParameterException",
        "[SmsConfiguration] is a required member of [SoftwareTokenMfaConfiguration].",
    );
    expect_err_msg(
        set()
            .mfa_configuration(UserPoolMfaType::from("SOMETIMES"))
            .software_token_mfa_configuration(totp(true))
            .send()
            .await,
        "InvalidParameterException",
        "1 validation error detected: Value 'SOMETIMES' at 'mfaConfiguration' failed to satisfy constraint: \
         Member must satisfy enum value set: [OPTIONAL, OFF, ON]",
    );
    let on = set()
        .mfa_configuration(UserPoolMfaType::On)
        .software_token_mfa_configuration(totp(true))
        .send()
        .await
        .unwrap();
    assert_eq!(on.mfa_configuration(), Some(&UserPoolMfaType::On));
    assert!(on.sms_mfa_configuration().is_none(), "no SMS configuration was given");
    assert!(on.software_token_mfa_configuration().unwrap().enabled());

    // Without MfaConfiguration the pool goes OFF, and OFF drops the factor configurations.
    let off = set().send().await.unwrap();
    assert_eq!(off.mfa_configuration(), Some(&UserPoolMfaType::Off));
    assert!(off.software_token_mfa_configuration().is_none());
    let got = c
        .idp
        .get_user_pool_mfa_config()
        .user_pool_id(&pool.pool_id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.mfa_configuration(), Some(&UserPoolMfaType::Off));
    assert!(got.software_token_mfa_configuration().is_none());
    c.shutdown().await;
}

#[tokio::test]
async fn attribute_violations_are_listed_together_in_each_operations_wording() {
    let c = Cognate::start().await;
    let pool = c
        .finish_pool(
            c.pool_builder("attrs")
                .schema(
                    SchemaAttributeType::builder()
                        .name("flag")
                        .attribute_data_type(AttributeDataType::Boolean)
                        .build(),
                )
                .schema(
                    SchemaAttributeType::builder()
                        .name("level")
                        .attribute_data_type(AttributeDataType::Number)
                        .number_attribute_constraints(number_constraints(Some("1"), Some("9")))
                        .build(),
                ),
        )
        .await;
    c.admin_user(&pool, "ann", "ann@example.com").await;
    // Updates name each attribute `user.NAME`, one line each.
    expect_err_msg(
        c.idp
            .admin_update_user_attributes()
            .user_pool_id(&pool.pool_id)
            .username("ann")
            .user_attributes(attr("custom:colour", "red"))
            .user_attributes(attr("custom:size", "9"))
            .send()
            .await,
        "InvalidParameterException",
        "user.custom:colour: Attribute does not exist in the schema.\nuser.custom:size: Attribute does not exist in the schema.\n",
    );
    expect_err_msg(
        c.idp
            .admin_update_user_attributes()
            .user_pool_id(&pool.pool_id)
            .username("ann")
            .user_attributes(attr("custom:level", "12"))
            .send()
            .await,
        "InvalidParameterException",
        "user.custom:level: Number must be no greater than 9\n",
    );
    // Creation puts them after "Attributes did not conform to the schema: ".
    expect_err_msg(
        c.idp
            .sign_up()
            .client_id(&pool.client_id)
            .username("bob")
            .password(PASSWORD)
            .user_attributes(attr("email", "bob@example.com"))
            .user_attributes(attr("custom:flag", "yes"))
            .user_attributes(attr("shoe_size", "44"))
            .send()
            .await,
        "InvalidParameterException",
        "Attributes did not conform to the schema: custom:flag: Attribute value for Boolean attribute must be \
         'true' or 'false'.\nshoe_size: Attribute does not exist in the schema.\n",
    );
    // Booleans in any case, kept in lower case.
    c.idp
        .admin_update_user_attributes()
        .user_pool_id(&pool.pool_id)
        .username("ann")
        .user_attributes(attr("custom:flag", "True"))
        .send()
        .await
        .unwrap();
    let attrs = c.admin_attrs(&pool, "ann").await;
    assert_eq!(lookup(&attrs, "custom:flag").as_deref(), Some("true"));
    c.shutdown().await;
}

#[tokio::test]
async fn password_resets_follow_the_recovery_setting_and_the_users_state() {
    use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{
        AccountRecoverySettingType, MessageActionType, RecoveryOptionNameType, RecoveryOptionType,
    };
    let c = Cognate::start().await;
    let pool = c.create_pool("recovery").await;
    // An administrator-created user who never signed in has no password of their own to reset.
    c.idp
        .admin_create_user()
        .user_pool_id(&pool.pool_id)
        .username("new")
        .message_action(MessageActionType::Suppress)
        .user_attributes(attr("email", "new@example.com"))
        .user_attributes(attr("email_verified", "true"))
        .send()
        .await
        .unwrap();
    let state = "User password cannot be reset in the current state.";
    expect_err_msg(
        c.idp
            .forgot_password()
            .client_id(&pool.client_id)
            .username("new")
            .send()
            .await,
        "NotAuthorizedException",
        state,
    );
    expect_err_msg(
        c.idp
            .admin_reset_user_password()
            .user_pool_id(&pool.pool_id)
            .username("new")
            .send()
            .await,
        "NotAuthorizedException",
        state,
    );
    // Nowhere to send a code.
    c.idp
        .admin_create_user()
        .user_pool_id(&pool.pool_id)
        .username("mute")
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .unwrap();
    c.idp
        .admin_set_user_password()
        .user_pool_id(&pool.pool_id)
        .username("mute")
        .password(PASSWORD)
        .permanent(true)
        .send()
        .await
        .unwrap();
    let nowhere = "Cannot reset password for the user as there is no registered/verified email or phone_number";
    expect_err_msg(
        c.idp
            .forgot_password()
            .client_id(&pool.client_id)
            .username("mute")
            .send()
            .await,
        "InvalidParameterException",
        nowhere,
    );
    expect_err_msg(
        c.idp
            .admin_reset_user_password()
            .user_pool_id(&pool.pool_id)
            .username("mute")
            .send()
            .await,
        "InvalidParameterException",
        nowhere,
    );

    // admin_only: users are told to ask; the administrator may still reset (no code is sent).
    c.idp
        .update_user_pool()
        .user_pool_id(&pool.pool_id)
        .account_recovery_setting(
            AccountRecoverySettingType::builder()
                .recovery_mechanisms(
                    RecoveryOptionType::builder()
                        .name(RecoveryOptionNameType::AdminOnly)
                        .priority(1)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    c.admin_user(&pool, "ann", "ann@example.com").await;
    expect_err_msg(
        c.idp
            .forgot_password()
            .client_id(&pool.client_id)
            .username("ann")
            .send()
            .await,
        "NotAuthorizedException",
        "Contact administrator to reset password.",
    );
    let before = c.messages(Some("ann@example.com")).await.len();
    c.idp
        .admin_reset_user_password()
        .user_pool_id(&pool.pool_id)
        .username("ann")
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.messages(Some("ann@example.com")).await.len(),
        before,
        "admin_only sends no code"
    );
    let user = c
        .idp
        .admin_get_user()
        .user_pool_id(&pool.pool_id)
        .username("ann")
        .send()
        .await
        .unwrap();
    assert_eq!(user.user_status().map(|s| s.as_str()), Some("RESET_REQUIRED"));
    c.shutdown().await;
}
