//! In-memory fixtures for domain tests: a [`Cognito`] on a [`MemoryStore`] with a manual
//! clock, seeded randomness, cheap password hashing and recording triggers and messages.
//! Tests drive it through [`Cognito::call`], the same JSON dispatch the HTTP layer uses.
mod fakes;
mod memory_store;

pub use fakes::{CHEAP_HASH, Handler, InlineCompute, RecordingSink, RecordingTriggers, SeededRandom};
pub use memory_store::MemoryStore;

use crate::clock::ManualClock;
use crate::error::Result;
use crate::quotas::QuotaSettings;
use crate::service::{CallContext, Cognito, Settings};
use serde_json::{Value, json};
use std::sync::Arc;

/// 2026-01-01T00:00:00Z: a fixed start, so tests do not depend on the wall clock.
pub const START_MS: i64 = 1_767_225_600_000;

/// A service under test and handles on its fakes.
pub struct Kit {
    pub service: Cognito,
    pub clock: Arc<ManualClock>,
    pub triggers: Arc<RecordingTriggers>,
    pub messages: Arc<RecordingSink>,
    pub store: Arc<MemoryStore>,
}

/// Options for [`Kit`]; `Builder::default().build()` is [`service`].
#[derive(Default)]
pub struct Builder {
    quotas: Option<QuotaSettings>,
    seed: u64,
}

impl Builder {
    /// Enforces request-rate quotas at these rates.
    pub fn quotas(mut self, quotas: QuotaSettings) -> Self {
        self.quotas = Some(quotas);
        self
    }

    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    pub fn build(self) -> Kit {
        let store = Arc::new(MemoryStore::new());
        let clock = ManualClock::new(START_MS);
        let triggers = Arc::new(RecordingTriggers::default());
        let messages = Arc::new(RecordingSink::default());
        let mut service = Cognito::new(
            store.clone(),
            clock.clone(),
            Arc::new(SeededRandom::new(self.seed)),
            Arc::new(InlineCompute),
            triggers.clone(),
            &[7u8; 32],
            Settings {
                region: "us-east-1".into(),
                account: "123456789012".into(),
                issuer_base: "http://localhost:9229".into(),
                public_base: "http://localhost:9229".into(),
            },
        )
        .expect("building the service")
        .with_message_sink(messages.clone());
        if let Some(quotas) = self.quotas {
            service = service.with_quotas(quotas);
        }
        Kit {
            service,
            clock,
            triggers,
            messages,
            store,
        }
    }
}

/// A service with default options.
pub fn service() -> Kit {
    Builder::default().build()
}

impl Kit {
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Runs operation `name`; panics if the service does not know it.
    pub async fn call(&self, name: &str, body: Value) -> Result<Value> {
        self.service
            .call(name, body, &CallContext::default())
            .await
            .unwrap_or_else(|| panic!("unknown operation {name}"))
    }

    /// Runs an operation that must succeed.
    pub async fn ok(&self, name: &str, body: Value) -> Value {
        match self.call(name, body).await {
            Ok(v) => v,
            Err(e) => panic!("{name} failed: {e:?}"),
        }
    }

    /// Creates a pool from `CreateUserPool` members (PoolName is filled in); returns its id.
    pub async fn create_pool(&self, mut body: Value) -> String {
        if body.get("PoolName").is_none() {
            body["PoolName"] = json!("test-pool");
        }
        let out = self.ok("CreateUserPool", body).await;
        out["UserPool"]["Id"].as_str().expect("pool id").to_owned()
    }

    /// Creates a client allowing password, SRP, admin and refresh flows, plus `extra` members.
    pub async fn create_client(&self, pool_id: &str, extra: Value) -> String {
        let mut body = json!({
            "UserPoolId": pool_id,
            "ClientName": "test-client",
            "ExplicitAuthFlows": [
                "ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH",
                "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH",
            ],
        });
        if let (Some(target), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                target.insert(k.clone(), v.clone());
            }
        }
        let out = self.ok("CreateUserPoolClient", body).await;
        out["UserPoolClient"]["ClientId"]
            .as_str()
            .expect("client id")
            .to_owned()
    }

    /// Creates a confirmed user with a permanent password and the given attributes.
    pub async fn create_user(&self, pool_id: &str, username: &str, password: &str, attributes: &[(&str, &str)]) {
        let attributes: Vec<Value> = attributes
            .iter()
            .map(|(name, value)| json!({"Name": name, "Value": value}))
            .collect();
        self.ok(
            "AdminCreateUser",
            json!({
                "UserPoolId": pool_id,
                "Username": username,
                "MessageAction": "SUPPRESS",
                "UserAttributes": attributes,
            }),
        )
        .await;
        self.ok(
            "AdminSetUserPassword",
            json!({"UserPoolId": pool_id, "Username": username, "Password": password, "Permanent": true}),
        )
        .await;
    }

    /// A pool that verifies emails, a client, and a confirmed user `alice` with a verified
    /// `alice@example.com` and password [`PASSWORD`]; returns (pool id, client id).
    pub async fn pool_client_user(&self) -> (String, String) {
        let pool = self.create_pool(json!({"AutoVerifiedAttributes": ["email"]})).await;
        let client = self.create_client(&pool, json!({})).await;
        let email = [("email", "alice@example.com"), ("email_verified", "true")];
        self.create_user(&pool, "alice", PASSWORD, &email).await;
        (pool, client)
    }

    /// Signs in with USER_PASSWORD_AUTH.
    pub async fn sign_in(&self, client_id: &str, username: &str, password: &str) -> Result<Value> {
        self.call(
            "InitiateAuth",
            json!({
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": client_id,
                "AuthParameters": {"USERNAME": username, "PASSWORD": password},
            }),
        )
        .await
    }
}

/// A password every default policy accepts.
pub const PASSWORD: &str = "Passw0rd!";
