//! Settings Cognate accepts and returns, as infrastructure tools need, but does not act on. The
//! first time a pool or client uses one, the server says so in its log (once per pool or client
//! and setting, per process), so nobody mistakes an echoed setting for an enforced one.
use crate::request::Request;
use crate::service::Cognito;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Mutex;

/// Which (pool or client, setting) pairs were already reported.
#[derive(Default)]
pub(crate) struct Reported(Mutex<HashSet<(String, &'static str)>>);

/// The settings of a pool or client request that Cognate stores without acting on them.
fn unenforced(operation: &str, req: &Request) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    let member = |name: &str| req.raw(name).filter(|v| !v.is_null());
    match operation {
        "CreateUserPool" | "UpdateUserPool" => {
            let mode = member("UserPoolAddOns")
                .and_then(|a| a.get("AdvancedSecurityMode"))
                .and_then(Value::as_str);
            if matches!(mode, Some("AUDIT" | "ENFORCED")) {
                out.push((
                    "UserPoolAddOns.AdvancedSecurityMode",
                    "threat protection (risk scoring, adaptive authentication, compromised credentials) is not performed",
                ));
            }
            let email = member("EmailConfiguration");
            if email.is_some_and(|e| ["SourceArn", "ConfigurationSet"].iter().any(|k| e.get(*k).is_some())) {
                out.push((
                    "EmailConfiguration",
                    "email goes through Cognate's own delivery (the outbox, or --smtp-url), not Amazon SES",
                ));
            }
            if member("SmsConfiguration").is_some() {
                out.push((
                    "SmsConfiguration",
                    "SMS goes through Cognate's own delivery (the outbox, or --sms-webhook), not Amazon SNS",
                ));
            }
        }
        "CreateUserPoolClient" | "UpdateUserPoolClient" => {
            if member("AnalyticsConfiguration").is_some() {
                out.push(("AnalyticsConfiguration", "no events are sent to Amazon Pinpoint"));
            }
            if member("EnablePropagateAdditionalUserContextData").and_then(Value::as_bool) == Some(true) {
                out.push((
                    "EnablePropagateAdditionalUserContextData",
                    "user context data is accepted and not evaluated",
                ));
            }
        }
        _ => {}
    }
    out
}

/// Called after a successful operation: logs the unenforced settings it used, once each.
pub(crate) fn note(service: &Cognito, operation: &str, req: &Request, answer: &Value) {
    let settings = unenforced(operation, req);
    if settings.is_empty() {
        return;
    }
    // The pool or client the request named, or the one it created.
    let owner = req
        .raw("ClientId")
        .or_else(|| answer.pointer("/UserPoolClient/ClientId"))
        .or_else(|| req.raw("UserPoolId"))
        .or_else(|| answer.pointer("/UserPool/Id"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut reported = service.unenforced.0.lock().unwrap_or_else(|e| e.into_inner());
    for (setting, why) in settings {
        if reported.insert((owner.clone(), setting)) {
            tracing::info!(%owner, setting, "setting stored but not enforced by Cognate: {why}");
        }
    }
}
