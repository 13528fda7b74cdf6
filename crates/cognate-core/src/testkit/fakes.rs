//! Test doubles for the service's other boundaries: hashing, randomness, Lambda triggers and
//! message delivery. Each records what it was given so tests can read it back.
use crate::error::{Error, Result};
use crate::messages::MessageSink;
use crate::model::OutboxMessage;
use crate::rng::Random;
use crate::service::Compute;
use crate::triggers::{InvokeFailure, TriggerInvoker};
use async_trait::async_trait;
use cognate_crypto::password::{self, HashParams};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// The cheapest argon2id parameters argon2 accepts: a hash costs microseconds, not 15 ms.
pub const CHEAP_HASH: HashParams = HashParams {
    m_cost: 8,
    t_cost: 1,
    p_cost: 1,
};

/// Hashes inline with [`CHEAP_HASH`]; RSA keys come from a small per-process set, because
/// generating a 2048-bit key per pool would dominate a test's run time.
pub struct InlineCompute;

#[async_trait]
impl Compute for InlineCompute {
    async fn hash_password(&self, password: String, salt: [u8; 16]) -> Result<String> {
        password::hash_password(&password, &salt, CHEAP_HASH).map_err(Error::internal)
    }

    async fn verify_password(&self, password: String, phc: String) -> Result<bool> {
        password::verify_password(&password, &phc).map_err(Error::internal)
    }

    async fn generate_rsa_key(&self) -> Result<Vec<u8>> {
        // Two keys handed out in turn, so a pool's ID and access keys still differ.
        static KEYS: OnceLock<[Vec<u8>; 2]> = OnceLock::new();
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let keys = KEYS.get_or_init(|| {
            let generate = || {
                cognate_crypto::jwt::generate_rsa_pkcs8()
                    .expect("generating an RSA key")
                    .to_vec()
            };
            [generate(), generate()]
        });
        Ok(keys[NEXT.fetch_add(1, Ordering::Relaxed) % 2].clone())
    }
}

/// splitmix64 from a seed: the same ids, codes and salts on every run.
pub struct SeededRandom(AtomicU64);

impl SeededRandom {
    pub fn new(seed: u64) -> Self {
        Self(AtomicU64::new(seed))
    }
}

impl Random for SeededRandom {
    fn fill(&self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let mut z = self.0.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    }
}

/// What a fake function does with an event.
pub type Handler = Box<dyn Fn(&Value) -> std::result::Result<Value, InvokeFailure> + Send + Sync>;

/// A trigger invoker that records every event and answers per ARN: with the handler set by
/// [`RecordingTriggers::on`], or else by returning the event unchanged, as a Lambda function
/// that does nothing would.
#[derive(Default)]
pub struct RecordingTriggers {
    handlers: Mutex<HashMap<String, Handler>>,
    events: Mutex<Vec<(String, Value)>>,
}

impl RecordingTriggers {
    /// Answers events sent to `arn` with `handler`.
    pub fn on(
        &self,
        arn: &str,
        handler: impl Fn(&Value) -> std::result::Result<Value, InvokeFailure> + Send + Sync + 'static,
    ) {
        self.handlers
            .lock()
            .expect("a fake's lock is poisoned only by a panicking test")
            .insert(arn.to_owned(), Box::new(handler));
    }

    /// Answers events sent to `arn` by merging `response` into the event's `response`.
    pub fn respond(&self, arn: &str, response: Value) {
        self.on(arn, move |event| {
            let mut out = event.clone();
            if let (Some(target), Some(extra)) = (out["response"].as_object_mut(), response.as_object()) {
                for (k, v) in extra {
                    target.insert(k.clone(), v.clone());
                }
            } else {
                out["response"] = response.clone();
            }
            Ok(out)
        });
    }

    /// Makes `arn` fail the way a handler that throws `message` does.
    pub fn fail(&self, arn: &str, message: &str) {
        let message = message.to_owned();
        self.on(arn, move |_| {
            Err(InvokeFailure::FunctionError {
                error_type: "Error".into(),
                message: message.clone(),
            })
        });
    }

    /// Every (ARN, event) received so far, synchronous and asynchronous, in order.
    pub fn events(&self) -> Vec<(String, Value)> {
        self.events
            .lock()
            .expect("a fake's lock is poisoned only by a panicking test")
            .clone()
    }

    /// The events whose `triggerSource` is `source`.
    pub fn events_of(&self, source: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .map(|(_, e)| e)
            .filter(|e| e["triggerSource"] == source)
            .collect()
    }
}

#[async_trait]
impl TriggerInvoker for RecordingTriggers {
    async fn invoke(&self, function_arn: &str, event: Value) -> std::result::Result<Value, InvokeFailure> {
        self.events
            .lock()
            .expect("a fake's lock is poisoned only by a panicking test")
            .push((function_arn.to_owned(), event.clone()));
        match self
            .handlers
            .lock()
            .expect("a fake's lock is poisoned only by a panicking test")
            .get(function_arn)
        {
            Some(handler) => handler(&event),
            None => Ok(event),
        }
    }

    async fn invoke_async(&self, function_arn: &str, event: Value) {
        let _ = self.invoke(function_arn, event).await;
    }
}

/// A message sink that keeps what it is given, so tests can read codes.
#[derive(Default)]
pub struct RecordingSink {
    messages: Mutex<Vec<OutboxMessage>>,
}

impl RecordingSink {
    pub fn messages(&self) -> Vec<OutboxMessage> {
        self.messages
            .lock()
            .expect("a fake's lock is poisoned only by a panicking test")
            .clone()
    }

    /// The code of the last message sent to `to` (an email address or phone number).
    pub fn last_code_to(&self, to: &str) -> Option<String> {
        self.messages()
            .into_iter()
            .rev()
            .find(|m| m.to == to)
            .and_then(|m| m.code)
    }
}

#[async_trait]
impl MessageSink for RecordingSink {
    async fn send(&self, message: &OutboxMessage) -> Result<()> {
        self.messages
            .lock()
            .expect("a fake's lock is poisoned only by a panicking test")
            .push(message.clone());
        Ok(())
    }
}
