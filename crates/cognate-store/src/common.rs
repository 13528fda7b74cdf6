//! What both backends share: the indexed user columns, pagination, JSON encoding.
use cognate_core::model::{SearchableAttribute, User, UserFilter};
use cognate_core::store::{Page, StoreError, StoreResult};

pub(crate) fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Refuses a database whose schema is newer than the migrations this build knows: a newer
/// Cognate migrated it, and this one would misread or damage what it does not know.
pub(crate) fn check_schema_version(found: i64, known: usize) -> StoreResult<()> {
    let known = i64::try_from(known).unwrap_or(i64::MAX);
    if found > known {
        return Err(StoreError::NewerSchema { found, known });
    }
    Ok(())
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(backend)
}

/// The indexed column a ListUsers filter compares.
pub(crate) fn filter_column(f: &UserFilter) -> &'static str {
    match f.attribute {
        SearchableAttribute::Username => "username",
        SearchableAttribute::Email => "email",
        SearchableAttribute::PhoneNumber => "phone_number",
        SearchableAttribute::Name => "name",
        SearchableAttribute::GivenName => "given_name",
        SearchableAttribute::FamilyName => "family_name",
        SearchableAttribute::PreferredUsername => "preferred_username",
        SearchableAttribute::UserStatus => "user_status",
        SearchableAttribute::Status => "enabled",
        SearchableAttribute::Sub => "sub",
    }
}

/// The upper bound of a prefix range: every string starting with `prefix` sorts below it.
pub(crate) fn prefix_upper_bound(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// The indexed column of an attribute users are looked up by.
pub(crate) fn attribute_column(name: &str) -> Option<&'static str> {
    Some(match name {
        "email" => "email",
        "phone_number" => "phone_number",
        "preferred_username" => "preferred_username",
        "sub" => "sub",
        _ => return None,
    })
}

/// The `enabled` column's value, as ListUsers' `status` filter compares it.
pub(crate) fn enabled_text(u: &User) -> &'static str {
    if u.enabled { "Enabled" } else { "Disabled" }
}

/// A page of at most `limit` items from a query that fetched `limit + 1`: the extra item
/// means there is more, and the last key returned continues from there.
pub(crate) fn page<T>(mut items: Vec<T>, limit: usize, key: impl Fn(&T) -> String) -> Page<T> {
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(key)
    } else {
        None
    };
    Page { items, next }
}

/// A page of users read with their store keys: the key of the last one continues the listing.
pub(crate) fn user_page(rows: Vec<(User, String)>, limit: usize) -> Page<User> {
    let p = page(rows, limit, |(_, key)| key.clone());
    Page {
        items: p.items.into_iter().map(|(u, _)| u).collect(),
        next: p.next,
    }
}
