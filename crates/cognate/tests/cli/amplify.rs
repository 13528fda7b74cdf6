//! Amplify v6 `signInWithRedirect` in a real browser against the real binary over HTTPS
//! (`--tls-dev`): `tests/node/amplify-redirect.mjs` bundles a small `aws-amplify` app with
//! esbuild, serves it on `http://localhost:PORT/`, and drives Debian's Chromium (playwright-core)
//! through the hosted sign-in page, Amplify's code exchange, `fetchAuthSession`,
//! `getCurrentUser`, `fetchUserAttributes` and `signOut` (RevokeToken, then `/logout`).
//!
//! Needs `npm ci --prefix tests/node` and `/usr/bin/chromium` (`scripts/test` installs both);
//! without Chromium the test says it was skipped. Screenshots land in
//! `target/tmp/screenshots/amplify-redirect`.
use crate::tls::{client_trusting, https_call, repo_root, serve_https};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const CHROMIUM: &str = "/usr/bin/chromium";

/// A port nobody listens on now (the script's app server takes it).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

#[test]
fn amplify_sign_in_with_redirect_through_the_hosted_pages_over_https() {
    if !Path::new(CHROMIUM).exists() {
        println!("SKIPPED: {CHROMIUM} is missing (install it with `apt-get install chromium`; scripts/test does)");
        return;
    }
    let node_dir = repo_root().join("tests/node");
    for module in ["aws-amplify", "esbuild", "playwright-core"] {
        assert!(
            node_dir.join("node_modules").join(module).is_dir(),
            "{}/node_modules/{module} is missing: run `npm ci --prefix tests/node` in the repository root",
            node_dir.display()
        );
    }
    let data = tempfile::tempdir().unwrap();
    let server = serve_https(&["--data", data.path().to_str().unwrap(), "--tls-dev"]);
    // `development CA: PATH (trust it: …)`
    let ca_file = PathBuf::from(
        server.banner[0]
            .strip_prefix("development CA: ")
            .and_then(|rest| rest.split(" (trust it").next())
            .unwrap_or_else(|| panic!("unexpected CA line {:?}", server.banner)),
    );
    let tls = client_trusting(&std::fs::read(&ca_file).unwrap());
    let addr = server.addr.as_str();
    let app_url = format!("http://localhost:{}/", free_port());

    let (_, pool) = https_call(&tls, addr, "CreateUserPool", &json!({"PoolName": "amplify"}));
    let pool_id = pool["UserPool"]["Id"].as_str().unwrap().to_owned();
    https_call(
        &tls,
        addr,
        "CreateUserPoolDomain",
        &json!({"UserPoolId": pool_id, "Domain": "amplify-redirect"}),
    );
    let (_, client) = https_call(
        &tls,
        addr,
        "CreateUserPoolClient",
        &json!({
            "UserPoolId": pool_id,
            "ClientName": "amplify-web",
            "AllowedOAuthFlowsUserPoolClient": true,
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": ["openid", "email", "aws.cognito.signin.user.admin"],
            "CallbackURLs": [app_url],
            "LogoutURLs": [app_url],
            "SupportedIdentityProviders": ["COGNITO"],
        }),
    );
    let client_id = client["UserPoolClient"]["ClientId"].as_str().unwrap().to_owned();
    https_call(
        &tls,
        addr,
        "AdminCreateUser",
        &json!({
            "UserPoolId": pool_id,
            "Username": "amelia",
            "MessageAction": "SUPPRESS",
            "UserAttributes": [
                {"Name": "email", "Value": "amelia@example.com"},
                {"Name": "email_verified", "Value": "true"},
            ],
        }),
    );
    https_call(
        &tls,
        addr,
        "AdminSetUserPassword",
        &json!({"UserPoolId": pool_id, "Username": "amelia", "Password": "Amplify6!pass", "Permanent": true}),
    );

    let screenshots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots/amplify-redirect");
    let endpoint = format!("https://{addr}");
    let out = Command::new("node")
        .arg("amplify-redirect.mjs")
        .args([&endpoint, &pool_id, &client_id, &app_url, "amelia", "Amplify6!pass"])
        .arg(&ca_file)
        .arg(&screenshots)
        .current_dir(&node_dir)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .stdin(Stdio::null())
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "amplify-redirect.mjs failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout).expect("the script's JSON line");
    println!("{result}\nscreenshots: {}", screenshots.display());

    assert_eq!(result["ok"], true, "{result}");
    // getCurrentUser and fetchUserAttributes (GetUser with the access token Amplify redeemed).
    assert_eq!(result["username"], "amelia", "{result}");
    assert_eq!(result["attributes"]["email"], "amelia@example.com", "{result}");
    assert_eq!(result["attributes"]["email_verified"], "true", "{result}");
    assert_eq!(result["attributes"]["sub"], result["userId"], "{result}");
    // fetchAuthSession's tokens.
    assert_eq!(result["idToken"]["aud"], client_id.as_str(), "{result}");
    assert_eq!(result["idToken"]["iss"], format!("{endpoint}/{pool_id}"), "{result}");
    assert_eq!(result["idToken"]["cognito:username"], "amelia", "{result}");
    assert_eq!(result["idToken"]["email"], "amelia@example.com", "{result}");
    let scope = result["accessToken"]["scope"].as_str().unwrap_or_default();
    let mut scopes: Vec<&str> = scope.split(' ').collect();
    scopes.sort_unstable();
    assert_eq!(scopes, ["aws.cognito.signin.user.admin", "email", "openid"], "{result}");
    assert_eq!(result["accessToken"]["client_id"], client_id.as_str(), "{result}");
    // fetchAuthSession({ forceRefresh: true }): GetTokensFromRefreshToken keeps the OAuth scopes.
    assert_eq!(result["refreshed"]["scope"], scope, "{result}");
    assert_eq!(result["refreshed"]["sameOrigin"], true, "{result}");
    // Amplify's state (with its custom state inside) came back whole, both times.
    assert_eq!(
        result["customState"], "back to /orders?id=42&tab=a b%20#top",
        "{result}"
    );
    assert_eq!(result["silent"]["username"], "amelia", "{result}");
    assert_eq!(result["silent"]["customState"], result["customState"], "{result}");
    // prompt LOGIN shows the form to a browser Cognate knows.
    assert_eq!(result["promptLogin"]["username"], "amelia", "{result}");
    // signOut went through /logout back to the app, and the next sign-in shows the form,
    // pre-filled with loginHint.
    assert_eq!(result["signedOut"]["url"], app_url.as_str(), "{result}");
    assert_eq!(result["formAfterSignOut"], true, "{result}");
    assert_eq!(result["loginHintPrefilled"], true, "{result}");
}
