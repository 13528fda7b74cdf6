//! User import jobs: the CSV header, a job's upload address, the import itself (users in
//! RESET_REQUIRED, rows without a verified contact failed), stopping, listing and refusals.

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::UserImportJobStatusType;
use cognate_sdk_tests::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/CognitoImport";

/// A CSV file with `header` and one row per `rows` entry, each a list of (column, value).
fn csv(header: &[String], rows: &[&[(&str, &str)]]) -> String {
    let mut out = header.join(",") + "\n";
    for row in rows {
        let fields: Vec<String> = header
            .iter()
            .map(|h| {
                let v = row.iter().find(|(c, _)| c == h).map(|(_, v)| *v).unwrap_or("");
                if v.contains(',') {
                    format!("\"{v}\"")
                } else {
                    v.to_owned()
                }
            })
            .collect();
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

async fn wait_done(c: &Cognate, pool_id: &str, job_id: &str) -> UserImportJobStatusType {
    for _ in 0..200 {
        let job = c
            .idp
            .describe_user_import_job()
            .user_pool_id(pool_id)
            .job_id(job_id)
            .send()
            .await
            .unwrap();
        let status = job.user_import_job().unwrap().status().unwrap().clone();
        if !matches!(
            status,
            UserImportJobStatusType::Pending | UserImportJobStatusType::InProgress | UserImportJobStatusType::Created
        ) {
            return status;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the import job did not finish");
}

#[tokio::test]
async fn a_csv_file_imports_users_who_must_reset_their_passwords() {
    let c = Cognate::start().await;
    let pool = c.create_pool("import").await;
    let header = c
        .idp
        .get_csv_header()
        .user_pool_id(&pool.pool_id)
        .send()
        .await
        .unwrap()
        .csv_header()
        .to_vec();
    // AWS's documented header, with the suite pool's custom attribute before Cognito's columns.
    let documented = "name,given_name,family_name,middle_name,nickname,preferred_username,profile,picture,\
                      website,email,email_verified,gender,birthdate,zoneinfo,locale,phone_number,\
                      phone_number_verified,address,updated_at,custom:tier,cognito:mfa_enabled,cognito:username";
    assert_eq!(header.join(","), documented);

    let job = c
        .idp
        .create_user_import_job()
        .user_pool_id(&pool.pool_id)
        .job_name("first import")
        .cloud_watch_logs_role_arn(ROLE)
        .send()
        .await
        .unwrap()
        .user_import_job()
        .unwrap()
        .clone();
    assert_eq!(job.status(), Some(&UserImportJobStatusType::Created));
    let job_id = job.job_id().unwrap().to_owned();
    assert!(job_id.starts_with("import-"), "{job_id}");
    let url = job.pre_signed_url().unwrap().to_owned();

    let file = csv(
        &header,
        &[
            &[
                ("cognito:username", "ann"),
                ("email", "ann@example.com"),
                ("email_verified", "true"),
                ("name", "Ann, the first"),
                ("cognito:mfa_enabled", "false"),
            ],
            &[
                ("cognito:username", "bob"),
                ("email", "bob@example.com"),
                ("email_verified", "TRUE"),
                ("custom:tier", "gold"),
                ("cognito:mfa_enabled", "false"),
            ],
            // Nowhere to send a reset code: this row fails.
            &[
                ("cognito:username", "cat"),
                ("email", "cat@example.com"),
                ("email_verified", "false"),
                ("cognito:mfa_enabled", "false"),
            ],
        ],
    );
    // A wrong token is refused, as S3 refuses a bad signature.
    let forged = url.split("token=").next().unwrap().to_owned() + "token=forged";
    let refused = c.http.put(&forged).body(file.clone()).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    let uploaded = c
        .http
        .put(&url)
        .header("x-amz-server-side-encryption", "aws:kms")
        .body(file)
        .send()
        .await
        .unwrap();
    assert!(uploaded.status().is_success(), "{}", uploaded.text().await.unwrap());

    let started = c
        .idp
        .start_user_import_job()
        .user_pool_id(&pool.pool_id)
        .job_id(&job_id)
        .send()
        .await
        .unwrap();
    assert!(started.user_import_job().unwrap().start_date().is_some());
    assert_eq!(
        wait_done(&c, &pool.pool_id, &job_id).await,
        UserImportJobStatusType::Failed
    );
    let done = c
        .idp
        .describe_user_import_job()
        .user_pool_id(&pool.pool_id)
        .job_id(&job_id)
        .send()
        .await
        .unwrap()
        .user_import_job()
        .unwrap()
        .clone();
    assert_eq!(
        (done.imported_users(), done.failed_users(), done.skipped_users()),
        (2, 1, 0)
    );
    assert!(done.completion_date().is_some());
    assert!(done.completion_message().is_some());

    let ann = c
        .idp
        .admin_get_user()
        .user_pool_id(&pool.pool_id)
        .username("ann")
        .send()
        .await
        .unwrap();
    assert_eq!(ann.user_status().map(|s| s.as_str()), Some("RESET_REQUIRED"));
    let attrs = c.admin_attrs(&pool, "bob").await;
    assert_eq!(lookup(&attrs, "custom:tier").as_deref(), Some("gold"));
    assert_eq!(lookup(&attrs, "email_verified").as_deref(), Some("true"));
    let ann_attrs = c.admin_attrs(&pool, "ann").await;
    assert_eq!(lookup(&ann_attrs, "name").as_deref(), Some("Ann, the first"));
    expect_err(
        c.idp
            .admin_get_user()
            .user_pool_id(&pool.pool_id)
            .username("cat")
            .send()
            .await,
        "UserNotFoundException",
    );
    // Imported users reset their password through the code sent to the verified address.
    c.idp
        .forgot_password()
        .client_id(&pool.client_id)
        .username("ann")
        .send()
        .await
        .unwrap();
    assert!(!c.last_code("ann@example.com").await.is_empty());

    // A job runs once.
    expect_err(
        c.idp
            .start_user_import_job()
            .user_pool_id(&pool.pool_id)
            .job_id(&job_id)
            .send()
            .await,
        "PreconditionNotMetException",
    );
    let listed = c
        .idp
        .list_user_import_jobs()
        .user_pool_id(&pool.pool_id)
        .max_results(10)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.user_import_jobs().len(), 1);
    expect_err(
        c.idp
            .describe_user_import_job()
            .user_pool_id(&pool.pool_id)
            .job_id("import-nothere")
            .send()
            .await,
        "ResourceNotFoundException",
    );
    c.shutdown().await;
}

#[tokio::test]
async fn a_job_without_a_file_or_with_a_bad_header_fails() {
    let c = Cognate::start().await;
    let pool = c.create_pool("import").await;
    for upload in [None, Some("cognito:username,email\nann,ann@example.com\n")] {
        let job = c
            .idp
            .create_user_import_job()
            .user_pool_id(&pool.pool_id)
            .job_name("broken")
            .cloud_watch_logs_role_arn(ROLE)
            .send()
            .await
            .unwrap()
            .user_import_job()
            .unwrap()
            .clone();
        if let Some(file) = upload {
            let r = c
                .http
                .put(job.pre_signed_url().unwrap())
                .body(file)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
        }
        let job_id = job.job_id().unwrap();
        c.idp
            .start_user_import_job()
            .user_pool_id(&pool.pool_id)
            .job_id(job_id)
            .send()
            .await
            .unwrap();
        assert_eq!(
            wait_done(&c, &pool.pool_id, job_id).await,
            UserImportJobStatusType::Failed
        );
    }
    let users = c.idp.list_users().user_pool_id(&pool.pool_id).send().await.unwrap();
    assert!(users.users().is_empty());
    // Stopping needs a running job.
    let idle = c
        .idp
        .create_user_import_job()
        .user_pool_id(&pool.pool_id)
        .job_name("idle")
        .cloud_watch_logs_role_arn(ROLE)
        .send()
        .await
        .unwrap();
    expect_err(
        c.idp
            .stop_user_import_job()
            .user_pool_id(&pool.pool_id)
            .job_id(idle.user_import_job().unwrap().job_id().unwrap())
            .send()
            .await,
        "PreconditionNotMetException",
    );
    c.shutdown().await;
}
