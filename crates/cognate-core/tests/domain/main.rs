//! Domain tests: Cognito's rules checked on the in-memory test kit, through the same JSON
//! dispatch (`Cognito::call`) the HTTP layer uses. They run in milliseconds; the SDK suite
//! (tests/sdk) stays the wire-conformance layer.

// Test code: a failed unwrap is the test's report, and clients sign with the real time.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]
mod codes;
mod lockout;
mod passwords;
mod sign_in;
mod sign_up_triggers;
mod tokens;
mod trigger_events;
mod trigger_responses;
mod users;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cognate_core::Error;
use serde_json::Value;

/// A wrong password that satisfies the default policy.
pub const WRONG: &str = "Wr0ng-Passw0rd!";

/// `Kind: message`, as the wire shows an error.
pub fn err_text<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.to_string(),
    }
}

/// The claims of a JWT (its signature is checked by the SDK suite, not here).
pub fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT has three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url payload")).expect("JSON claims")
}

/// Looks up `name` in a `[{"Name", "Value"}]` attribute list.
pub fn attribute(list: &Value, name: &str) -> Option<String> {
    list.as_array()?
        .iter()
        .find(|a| a["Name"] == name)
        .and_then(|a| a["Value"].as_str())
        .map(str::to_owned)
}
