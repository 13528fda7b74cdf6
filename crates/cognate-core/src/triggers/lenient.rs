//! How Cognito reads the members of a handler's `response`: a member of the wrong type is, for
//! most members, as good as unset (a string `"true"` is not `true`), and only a few misfits are
//! errors, each with its own message. These deserializers give the typed responses in
//! [`super::events`] exactly that reading, so a typed response accepts whatever Cognito accepts.
use super::events::StringMap;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::collections::HashMap;

/// The start of the message of every InvalidLambdaResponseException about a response member.
/// A deserializer error with this prefix is answered with its own message (see
/// `Cognito::invoke_trigger`); any other misfit is "Unrecognizable lambda output".
pub const INVALID_OUTPUT: &str = "Invalid lambda function output : ";

fn invalid_output<E: serde::de::Error>(what: &str) -> E {
    E::custom(format!("{INVALID_OUTPUT}{what}"))
}

/// `true` only when the member is the boolean `true`.
pub(crate) fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(matches!(Value::deserialize(d)?, Value::Bool(true)))
}

/// A boolean; anything else reads as unset.
pub(crate) fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(Value::deserialize(d)?.as_bool())
}

/// A string; anything else reads as unset.
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

/// A string, with any other non-null value in its JSON text (`challengeMetadata`).
pub(crate) fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Null => None,
        other => Some(other.to_string()),
    })
}

fn strings_of(items: Vec<Value>) -> Vec<String> {
    items
        .into_iter()
        .filter_map(|v| match v {
            Value::String(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// The strings of an array (other items are skipped); anything but an array reads as unset.
pub(crate) fn opt_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => Some(strings_of(items)),
        _ => None,
    })
}

/// As [`opt_strings`], unset being empty.
pub(crate) fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(opt_strings(d)?.unwrap_or_default())
}

/// An object read as `T`; anything but an object reads as unset.
pub(crate) fn opt_object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Value::deserialize(d)? {
        v @ Value::Object(_) => T::deserialize(v).map(Some).map_err(D::Error::custom),
        _ => Ok(None),
    }
}

/// An object of any JSON values (V2/V3 claims); anything else reads as unset.
pub(crate) fn opt_json_map<'de, D: Deserializer<'de>>(d: D) -> Result<Option<HashMap<String, Value>>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Object(m) => Some(m.into_iter().collect()),
        _ => None,
    })
}

/// `groupOverrideDetails`: present and `null` removes the groups (`Some` of the empty
/// configuration); an object replaces them; anything else (or absence) keeps them.
pub(crate) fn group_override<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    match Value::deserialize(d)? {
        Value::Null => Ok(Some(T::default())),
        v @ Value::Object(_) => T::deserialize(v).map(Some).map_err(D::Error::custom),
        _ => Ok(None),
    }
}

/// V1 `claimsToAddOrOverride`: an object of strings; a value of another type is an error.
pub(crate) fn string_claims<'de, D: Deserializer<'de>>(d: D) -> Result<Option<StringMap>, D::Error> {
    let Value::Object(m) = Value::deserialize(d)? else {
        return Ok(None);
    };
    m.into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k, s)),
            _ => Err(invalid_output("claimsToAddOrOverride values must be strings")),
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

/// The text of a value in a string map: a string as it is, anything else as JSON text.
fn text(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// CreateAuthChallenge's challenge parameters: an object, its values as text; `null` is
/// unset; anything else makes the whole response invalid.
pub(crate) fn challenge_parameters<'de, D: Deserializer<'de>>(d: D) -> Result<Option<StringMap>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Object(m) => Ok(Some(m.into_iter().map(|(k, v)| (k, text(v))).collect())),
        _ => Err(invalid_output("CreateAuthChallenge response is not valid")),
    }
}

/// UserMigration's `userAttributes`: an object, its values as text and `null` values left
/// out; `null` is unset (nobody to migrate); anything else is an error.
pub(crate) fn migrated_attributes<'de, D: Deserializer<'de>>(d: D) -> Result<Option<StringMap>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Object(m) => Ok(Some(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, text(v)))
                .collect(),
        )),
        _ => Err(invalid_output("userAttributes must be a map")),
    }
}

/// A member whose absence differs from `null`: present (even `null`) is `Some`.
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}
