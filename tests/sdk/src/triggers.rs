//! Harness for the trigger conformance tests: a Cognate started from a fixture
//! `serverless.yml` whose real Node / Python handlers record every event they receive and answer
//! the way the test tells them to.
//!
//! A fixture lives in `tests/sdk/fixtures/<name>/`. [`TriggerApp::start`] copies it to a fresh
//! temporary folder (so parallel tests never share files), replaces `__EVENTS_FILE__` and
//! `__BEHAVIOUR_FILE__` in its `serverless.yml` with absolute paths into that folder, and starts
//! a server with `config` pointing at the copy. Handlers append `{"fn", "runtime", "event"}` as
//! one JSON line per invocation to the events file and read their behaviour from the behaviour
//! file on every invocation (see `fixtures/triggers/recorder.js` for the behaviour language).

use std::path::{Path, PathBuf};

use aws_sdk_cognitoidentityprovider::types::{ExplicitAuthFlowsType, PreventUserExistenceErrorTypes};
use serde_json::{Map, Value, json};

use crate::{Cognate, REGION, TestPool, base_options};

/// The pool every trigger fixture declares.
pub const POOL_NAME: &str = "Triggers";
/// `service` of the fixtures.
pub const SERVICE: &str = "trig";
/// Where fixture `serverless.yml` files accept extra pool properties (indented 8 spaces).
pub const POOL_PROPERTIES: &str = "# __POOL_PROPERTIES__";
/// `callerContext.clientId` of admin operations.
pub const CLIENT_ID_NOT_APPLICABLE: &str = "CLIENT_ID_NOT_APPLICABLE";

/// A running Cognate configured from a trigger fixture.
pub struct TriggerApp {
    pub c: Cognate,
    /// The declared pool and an app client with password, refresh and custom auth flows
    /// (PreventUserExistenceErrors LEGACY).
    pub pool: TestPool,
    dir: tempfile::TempDir,
    events_file: PathBuf,
    behaviour_file: PathBuf,
}

/// `tests/sdk/fixtures/<name>`.
pub fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

/// The ARN the config layer gives function `key` of the fixture service (stage `dev`).
pub fn function_arn(key: &str) -> String {
    format!("arn:aws:lambda:{REGION}:123456789012:function:{SERVICE}-dev-{key}")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create fixture copy");
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display())) {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy fixture file");
        }
    }
}

impl TriggerApp {
    /// Starts Cognate from fixture `name` unchanged.
    pub async fn start(name: &str) -> Self {
        Self::start_edited(name, |yml| yml).await
    }

    /// Starts Cognate from fixture `name`, after `edit` has rewritten its `serverless.yml`.
    pub async fn start_edited(name: &str, edit: impl FnOnce(String) -> String) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("cognate-triggers-")
            .tempdir()
            .expect("temp dir");
        let root = dir.path().join("service");
        copy_dir(&fixture_dir(name), &root);
        let events_file = dir.path().join("events.jsonl");
        let behaviour_file = dir.path().join("behaviour.json");
        std::fs::write(&events_file, "").expect("events file");
        std::fs::write(&behaviour_file, "{}").expect("behaviour file");
        let yml_path = root.join("serverless.yml");
        let yml = std::fs::read_to_string(&yml_path).expect("fixture serverless.yml");
        let yml = edit(yml)
            .replace("__EVENTS_FILE__", events_file.to_str().expect("utf-8 path"))
            .replace("__BEHAVIOUR_FILE__", behaviour_file.to_str().expect("utf-8 path"));
        std::fs::write(&yml_path, yml).expect("write serverless.yml");

        let mut opts = base_options();
        opts.config = Some(root.clone());
        opts.stage = "dev".to_string();
        let c = Cognate::start_with(opts, None).await;
        let pool_id = c
            .server
            .as_ref()
            .expect("server running")
            .pool_id(POOL_NAME)
            .unwrap_or_else(|| panic!("the fixture declares no pool {POOL_NAME:?}"))
            .to_string();
        let client_id = create_trigger_client(&c, &pool_id, "app").await;
        TriggerApp {
            c,
            pool: TestPool { pool_id, client_id },
            dir,
            events_file,
            behaviour_file,
        }
    }

    /// The temporary folder holding the fixture copy, events and behaviour.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Sets how the handlers answer from now on (a JSON object keyed by triggerSource or
    /// trigger family, see `recorder.js`).
    pub fn behave(&self, behaviour: Value) {
        std::fs::write(&self.behaviour_file, behaviour.to_string()).expect("write behaviour");
    }

    /// Every invocation recorded so far, oldest first: `{"fn", "runtime", "event"}`.
    pub fn invocations(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.events_file).expect("read events");
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad event line {l:?}: {e}")))
            .collect()
    }

    /// Every event recorded so far, oldest first.
    pub fn events(&self) -> Vec<Value> {
        self.invocations().into_iter().map(|i| i["event"].clone()).collect()
    }

    /// The recorded events' trigger sources, oldest first.
    pub fn sources(&self) -> Vec<String> {
        self.events()
            .iter()
            .map(|e| e["triggerSource"].as_str().unwrap_or("?").to_string())
            .collect()
    }

    /// Recorded events with this triggerSource.
    pub fn events_of(&self, source: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|e| e["triggerSource"] == source)
            .collect()
    }

    /// The one event with this triggerSource; panics unless there is exactly one.
    #[track_caller]
    pub fn event(&self, source: &str) -> Value {
        let mut found = self.events_of(source);
        assert_eq!(
            found.len(),
            1,
            "expected exactly one {source} event; recorded: {:?}",
            self.sources()
        );
        found.remove(0)
    }

    /// Forgets the recorded events.
    pub fn clear(&self) {
        std::fs::write(&self.events_file, "").expect("truncate events");
    }

    /// Stops the server.
    pub async fn shutdown(self) {
        self.c.shutdown().await;
    }
}

/// An app client for trigger tests: USER_PASSWORD, ADMIN_USER_PASSWORD, CUSTOM_AUTH and
/// REFRESH_TOKEN flows, no secret, PreventUserExistenceErrors LEGACY.
pub async fn create_trigger_client(c: &Cognate, pool_id: &str, name: &str) -> String {
    create_trigger_client_with(c, pool_id, name, PreventUserExistenceErrorTypes::Legacy).await
}

/// Like [`create_trigger_client`], with the given PreventUserExistenceErrors.
pub async fn create_trigger_client_with(
    c: &Cognate,
    pool_id: &str,
    name: &str,
    prevent: PreventUserExistenceErrorTypes,
) -> String {
    let out = c
        .idp
        .create_user_pool_client()
        .user_pool_id(pool_id)
        .client_name(name)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowCustomAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .prevent_user_existence_errors(prevent)
        .send()
        .await
        .expect("CreateUserPoolClient");
    out.user_pool_client()
        .and_then(|c| c.client_id())
        .expect("client id")
        .to_string()
}

/// Asserts the common envelope of a trigger event (spec §3): exactly the eight top-level keys,
/// `version` as a string, the source, region, pool, userName and caller context.
/// `client_id` is `None` for admin operations (`CLIENT_ID_NOT_APPLICABLE`).
#[track_caller]
pub fn assert_envelope(
    ev: &Value,
    version: &str,
    source: &str,
    pool_id: &str,
    user_name: &str,
    client_id: Option<&str>,
) {
    assert_keys(
        ev,
        &[
            "version",
            "triggerSource",
            "region",
            "userPoolId",
            "userName",
            "callerContext",
            "request",
            "response",
        ],
        &[],
    );
    assert_eq!(
        ev["version"],
        json!(version),
        "version must be the string {version:?}: {ev}"
    );
    assert_eq!(ev["triggerSource"], source, "{ev}");
    assert_eq!(ev["region"], REGION, "{ev}");
    assert_eq!(ev["userPoolId"], pool_id, "{ev}");
    assert_eq!(ev["userName"], user_name, "{ev}");
    let cc = &ev["callerContext"];
    assert_eq!(
        cc["clientId"],
        client_id.unwrap_or(CLIENT_ID_NOT_APPLICABLE),
        "callerContext.clientId: {ev}"
    );
    let sdk = cc["awsSdkVersion"]
        .as_str()
        .unwrap_or_else(|| panic!("callerContext.awsSdkVersion must be a string: {ev}"));
    assert!(sdk.starts_with("aws-sdk-"), "awsSdkVersion {sdk:?}");
    assert!(ev["request"].is_object(), "request must be an object: {ev}");
}

/// Asserts that `obj` is a JSON object holding every key of `required`, and no key outside
/// `required` and `optional`.
#[track_caller]
pub fn assert_keys(obj: &Value, required: &[&str], optional: &[&str]) {
    let map = obj
        .as_object()
        .unwrap_or_else(|| panic!("expected a JSON object, got {obj}"));
    for k in required {
        assert!(map.contains_key(*k), "missing key {k:?} in {obj}");
    }
    for k in map.keys() {
        assert!(
            required.contains(&k.as_str()) || optional.contains(&k.as_str()),
            "unexpected key {k:?} in {obj}"
        );
    }
}

/// Asserts that `request.userAttributes` is a flat string→string map and returns it.
#[track_caller]
pub fn string_attributes(ev: &Value) -> Map<String, Value> {
    let attrs = ev["request"]["userAttributes"]
        .as_object()
        .unwrap_or_else(|| panic!("request.userAttributes must be an object: {ev}"))
        .clone();
    for (k, v) in &attrs {
        assert!(v.is_string(), "userAttributes.{k} must be a string, got {v}");
    }
    attrs
}

/// Asserts the attributes of an existing user as triggers see them (spec §3.1): strings only,
/// `sub` and `cognito:user_status`. Returns them.
#[track_caller]
pub fn assert_user_attributes(ev: &Value, sub: &str, status: &str) -> Map<String, Value> {
    let attrs = string_attributes(ev);
    assert_eq!(attrs.get("sub"), Some(&json!(sub)), "sub in userAttributes: {ev}");
    assert_eq!(
        attrs.get("cognito:user_status"),
        Some(&json!(status)),
        "cognito:user_status in userAttributes: {ev}"
    );
    attrs
}

/// A string→string JSON object from pairs.
pub fn string_map(pairs: &[(&str, &str)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), Value::String((*v).to_string())))
            .collect(),
    )
}

/// Pool properties (YAML, one property per line, no indentation) inserted into a fixture's
/// `serverless.yml` at [`POOL_PROPERTIES`].
pub fn with_pool_properties(yml: String, properties: &str) -> String {
    assert!(
        yml.contains(POOL_PROPERTIES),
        "the fixture has no {POOL_PROPERTIES} marker"
    );
    let indented: String = properties.lines().map(|l| format!("        {l}\n")).collect();
    yml.replace(POOL_PROPERTIES, indented.trim_start())
}
