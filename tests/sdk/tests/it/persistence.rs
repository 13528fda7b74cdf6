//! Storage::Data: everything survives a restart on the same directory.

use cognate_sdk_tests::cognate::{ServeOptions, Storage};
use cognate_sdk_tests::*;

fn data_options(dir: &std::path::Path, port: u16) -> ServeOptions {
    ServeOptions {
        port,
        storage: Storage::Data(dir.to_path_buf()),
        ..base_options()
    }
}

#[tokio::test]
async fn state_survives_restart() {
    let dir = tempfile::tempdir().expect("tempdir");

    let c = Cognate::start_with(data_options(dir.path(), 0), None).await;
    let port = c.port();
    let pool = c.create_pool("durable").await;
    let (secret_client, secret) = c.create_client(&pool.pool_id, "confidential", true).await;
    let sub = c.admin_user(&pool, "alice", "alice@example.com").await;
    c.idp
        .admin_update_user_attributes()
        .user_pool_id(&pool.pool_id)
        .username("alice")
        .user_attributes(attr("custom:tier", "gold"))
        .send()
        .await
        .unwrap();
    c.idp
        .create_group()
        .user_pool_id(&pool.pool_id)
        .group_name("admins")
        .precedence(3)
        .send()
        .await
        .unwrap();
    c.idp
        .admin_add_user_to_group()
        .user_pool_id(&pool.pool_id)
        .username("alice")
        .group_name("admins")
        .send()
        .await
        .unwrap();
    let tokens = c.sign_in(&pool, "alice", PASSWORD).await;
    let jwks_before = c.jwks(&pool.pool_id).await;
    let revoked = c.sign_in(&pool, "alice", PASSWORD).await;
    c.idp
        .revoke_token()
        .client_id(&pool.client_id)
        .token(revoked.refresh_token().unwrap())
        .send()
        .await
        .unwrap();
    c.shutdown().await;

    // The client secret is sealed at rest: the database files do not hold it.
    let secret_text = secret.clone().expect("client secret");
    for f in database_files(dir.path()) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes.windows(secret_text.len()).any(|w| w == secret_text.as_bytes()),
            "{} holds the client secret",
            f.display()
        );
    }

    // Same directory, same port (so the issuer, which includes the port, is unchanged).
    let c = Cognate::start_with(data_options(dir.path(), port), None).await;
    assert_eq!(c.port(), port);

    let pools = c.idp.list_user_pools().max_results(60).send().await.unwrap();
    let ids: Vec<&str> = pools.user_pools().iter().filter_map(|p| p.id()).collect();
    assert_eq!(ids, vec![pool.pool_id.as_str()]);
    let d = c
        .idp
        .describe_user_pool()
        .user_pool_id(&pool.pool_id)
        .send()
        .await
        .unwrap();
    assert_eq!(d.user_pool().unwrap().name(), Some("durable"));

    let clients = c
        .idp
        .list_user_pool_clients()
        .user_pool_id(&pool.pool_id)
        .max_results(60)
        .send()
        .await
        .unwrap();
    assert_eq!(clients.user_pool_clients().len(), 2);
    let described = c
        .idp
        .describe_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_id(&secret_client)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.user_pool_client().unwrap().client_secret(),
        secret.as_deref(),
        "client secret survives"
    );

    let attrs = c.admin_attrs(&pool, "alice").await;
    assert_eq!(lookup(&attrs, "sub").as_deref(), Some(sub.as_str()));
    assert_eq!(lookup(&attrs, "custom:tier").as_deref(), Some("gold"));
    let groups = c
        .idp
        .admin_list_groups_for_user()
        .user_pool_id(&pool.pool_id)
        .username("alice")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = groups.groups().iter().filter_map(|g| g.group_name()).collect();
    assert_eq!(names, vec!["admins"]);
    let g = c
        .idp
        .get_group()
        .user_pool_id(&pool.pool_id)
        .group_name("admins")
        .send()
        .await
        .unwrap();
    assert_eq!(g.group().unwrap().precedence(), Some(3));

    // Same signing keys.
    assert_eq!(c.jwks(&pool.pool_id).await, jwks_before, "JWKS changed across restart");
    // The old access token still works, and so does the old refresh token.
    let me = c
        .idp
        .get_user()
        .access_token(tokens.access_token().unwrap())
        .send()
        .await
        .expect("old access token after restart");
    assert_eq!(me.username(), "alice");
    let out = c
        .refresh(&pool, tokens.refresh_token().unwrap())
        .await
        .expect("old refresh token after restart");
    let id = c
        .verify_jwt(&pool.pool_id, out.authentication_result().unwrap().id_token().unwrap())
        .await;
    assert_eq!(id.claims["sub"], sub.as_str());
    assert_eq!(id.claims["cognito:groups"], serde_json::json!(["admins"]));
    // Revocation survives too.
    expect_err(
        c.refresh(&pool, revoked.refresh_token().unwrap()).await,
        "NotAuthorizedException",
    );
    expect_err(
        c.idp
            .get_user()
            .access_token(revoked.access_token().unwrap())
            .send()
            .await,
        "NotAuthorizedException",
    );
    // The password still verifies.
    c.sign_in(&pool, "alice", PASSWORD).await;
    c.shutdown().await;
}

#[tokio::test]
async fn memory_storage_keeps_nothing() {
    let c = Cognate::start().await;
    let pool = c.create_pool("ephemeral").await;
    c.shutdown().await;
    let c = Cognate::start().await;
    expect_err(
        c.idp.describe_user_pool().user_pool_id(&pool.pool_id).send().await,
        "ResourceNotFoundException",
    );
}

#[tokio::test]
async fn pending_codes_survive_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let c = Cognate::start_with(data_options(dir.path(), 0), None).await;
    let port = c.port();
    let pool = c.create_pool("codes").await;
    c.idp
        .sign_up()
        .client_id(&pool.client_id)
        .username("bob")
        .password(PASSWORD)
        .user_attributes(attr("email", "bob@example.com"))
        .send()
        .await
        .unwrap();
    let code = c.last_code("bob@example.com").await;
    c.shutdown().await;

    // The code is not stored as a plain SHA-256 digest (which 10^6 guesses reverse).
    let plain: String = cognate_crypto::sha256(code.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let files = database_files(dir.path());
    assert!(!files.is_empty());
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes.windows(plain.len()).any(|w| w == plain.as_bytes()),
            "{} holds the SHA-256 of the code",
            f.display()
        );
    }

    let c = Cognate::start_with(data_options(dir.path(), port), None).await;
    c.idp
        .confirm_sign_up()
        .client_id(&pool.client_id)
        .username("bob")
        .confirmation_code(code)
        .send()
        .await
        .expect("ConfirmSignUp with a code issued before the restart");
    c.sign_in(&pool, "bob", PASSWORD).await;
}

/// The mode bits of a file or folder (without the type bits).
#[cfg(unix)]
fn mode_of(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// The database files of a data folder that exist now.
fn database_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    ["cognate.db", "cognate.db-wal", "cognate.db-shm"]
        .iter()
        .map(|f| dir.join(f))
        .filter(|p| p.exists())
        .collect()
}

#[cfg(unix)]
#[tokio::test]
async fn data_folder_and_database_are_private() {
    let parent = tempfile::tempdir().expect("tempdir");
    let dir = parent.path().join("data");
    let c = Cognate::start_with(data_options(&dir, 0), None).await;
    let port = c.port();
    c.create_pool("private").await;
    // While the server runs, the WAL and shared-memory files exist too.
    let files = database_files(&dir);
    assert!(files.len() >= 2, "database and WAL files: {files:?}");
    assert_eq!(mode_of(&dir), 0o700, "a new data folder is private");
    for f in &files {
        assert_eq!(mode_of(f), 0o600, "{} is private", f.display());
    }
    c.shutdown().await;

    // A folder and files left readable by others (an older version) are tightened at start.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    for f in database_files(&dir) {
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let c = Cognate::start_with(data_options(&dir, port), None).await;
    c.create_pool("still private").await;
    assert_eq!(mode_of(&dir), 0o700, "an existing data folder is tightened");
    let files = database_files(&dir);
    assert!(!files.is_empty());
    for f in &files {
        assert_eq!(mode_of(f), 0o600, "{} is tightened", f.display());
    }
    c.shutdown().await;
}
