//! Passkeys in a real browser: Amplify v6 (`associateWebAuthnCredential`, `signIn` with
//! preferredChallenge WEB_AUTHN and from SELECT_CHALLENGE, `listWebAuthnCredentials`,
//! `deleteWebAuthnCredential`) in Debian's Chromium with a DevTools virtual authenticator, the
//! app served on http://localhost and the pool's relying party `localhost`
//! (`tests/node/amplify-passkeys.mjs`).
//!
//! Needs `npm ci --prefix tests/node` and `/usr/bin/chromium` (`scripts/test` installs both);
//! without Chromium the test says it was skipped. Screenshots land in
//! `target/screenshots/passkeys`.

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::UserVerificationType;
use cognate_sdk_tests::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

use crate::passkeys::{passkey_pool, set_relying_party};
use crate::srp_clients::{repo_root, run};

const CHROMIUM: &str = "/usr/bin/chromium";

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { repo_root().join(p) })
        .unwrap_or_else(|| repo_root().join("target"));
    target.join("screenshots/passkeys")
}

#[tokio::test]
async fn amplify_registers_a_passkey_and_signs_in_with_it_in_chromium() {
    if !Path::new(CHROMIUM).exists() {
        println!("SKIPPED: {CHROMIUM} is missing (install it with `apt-get install chromium`; scripts/test does)");
        return;
    }
    let dir = repo_root().join("tests/node");
    for module in ["aws-amplify", "esbuild", "playwright-core"] {
        assert!(
            dir.join("node_modules").join(module).is_dir(),
            "{}/node_modules/{module} is missing: run `npm ci --prefix tests/node` in the repository root",
            dir.display()
        );
    }
    let c = Cognate::start().await;
    let pool = passkey_pool(&c).await;
    // The app's page is on http://localhost:PORT: its relying party is `localhost`. The virtual
    // authenticator verifies its user, so the pool may require it.
    set_relying_party(&c, &pool, "localhost", UserVerificationType::Required).await;
    let sub = c.admin_user(&pool, "pia", "pia@example.com").await;

    let shots = screenshot_dir().to_string_lossy().into_owned();
    let out = run(
        Path::new("node"),
        &[
            "amplify-passkeys.mjs",
            &c.endpoint,
            &pool.pool_id,
            &pool.client_id,
            "pia",
            PASSWORD,
            &shots,
        ],
        &dir,
    )
    .await;
    let line = out.lines().last().unwrap_or_default();
    println!("{line}");
    let r: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
    assert_eq!(r["ok"], true, "{r:#}");
    assert_eq!(r["secureContext"], true);
    assert_eq!(
        r["registerOperations"],
        json!(["StartWebAuthnRegistration", "CompleteWebAuthnRegistration"])
    );
    assert_eq!(
        r["userHandle"],
        sub.as_str(),
        "the authenticator keeps the sub as user handle"
    );
    let listed = &r["listed"][0];
    assert_eq!(listed["credentialId"], r["credentialId"]);
    assert_eq!(listed["relyingPartyId"], "localhost");
    assert_eq!(listed["authenticatorAttachment"], "platform");
    assert_eq!(listed["authenticatorTransports"], json!(["internal"]));
    assert!(listed["createdAt"].as_str().is_some());
    assert_eq!(
        r["signInOperations"],
        json!(["InitiateAuth", "RespondToAuthChallenge"]),
        "a passkey sign-in is two requests"
    );
    assert_eq!(r["session"]["userId"], sub.as_str());
    assert_eq!(r["session"]["sub"], sub.as_str());
    assert_eq!(
        r["availableChallenges"],
        json!(["PASSWORD_SRP", "PASSWORD", "WEB_AUTHN"])
    );
    assert_eq!(
        r["selectOperations"],
        json!(["InitiateAuth", "RespondToAuthChallenge", "RespondToAuthChallenge"])
    );
    let counts: Vec<u64> = r["signCounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    assert!(counts[1] > counts[0], "each assertion moves the counter: {counts:?}");
    // With the passkey deleted, preferring WEB_AUTHN gets the choice, without it.
    assert_eq!(
        r["afterDelete"]["nextStep"]["signInStep"], "CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION",
        "{r:#}"
    );
    assert_eq!(
        r["afterDelete"]["nextStep"]["availableChallenges"],
        json!(["PASSWORD_SRP", "PASSWORD"])
    );
    c.shutdown().await;
}
