//! Prometheus metrics (text exposition format 0.0.4), kept by hand: a mutex'd map keyed by
//! `&'static str` labels from fixed sets (operation names, routes), so recording a request is
//! one short lock and a few additions.
use async_trait::async_trait;
use cognate_core::triggers::{InvokeFailure, TriggerInvoker};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Upper bounds (seconds) of the duration histograms' buckets; `+Inf` is implicit.
/// Sub-millisecond buckets because most requests and store calls take well under 5 ms.
const BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default, Clone)]
struct Histogram {
    /// Counts per bucket (not cumulative; summed when rendered).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum += seconds;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(self.buckets) {
            cumulative += n;
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

#[derive(Default)]
struct Counters {
    requests: BTreeMap<(&'static str, u16), u64>,
    request_durations: BTreeMap<&'static str, Histogram>,
    /// Function names come from pool configurations (set by administrators), not from requests.
    triggers: BTreeMap<(String, &'static str), u64>,
    trigger_durations: BTreeMap<String, Histogram>,
    /// By `Store` method name.
    store_durations: BTreeMap<&'static str, Histogram>,
}

/// What the server counts. Shared by the HTTP layer, the trigger wrapper and `/metrics`.
#[derive(Default)]
pub struct Metrics {
    counters: Mutex<Counters>,
    /// Password hashing jobs waiting for a hashing thread (when the built-in pool is used).
    hash_queue: Option<Arc<AtomicUsize>>,
}

impl Metrics {
    pub fn new(hash_queue: Option<Arc<AtomicUsize>>) -> Self {
        Self {
            counters: Mutex::default(),
            hash_queue,
        }
    }

    fn counters(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn observe_request(&self, operation: &'static str, status: u16, elapsed: Duration) {
        let mut c = self.counters();
        *c.requests.entry((operation, status)).or_default() += 1;
        c.request_durations
            .entry(operation)
            .or_default()
            .observe(elapsed.as_secs_f64());
    }

    pub fn observe_store(&self, operation: &'static str, elapsed: Duration) {
        self.counters()
            .store_durations
            .entry(operation)
            .or_default()
            .observe(elapsed.as_secs_f64());
    }

    fn observe_trigger(&self, function: &str, outcome: &'static str, elapsed: Option<Duration>) {
        let mut c = self.counters();
        *c.triggers.entry((function.to_owned(), outcome)).or_default() += 1;
        if let Some(elapsed) = elapsed {
            c.trigger_durations
                .entry(function.to_owned())
                .or_default()
                .observe(elapsed.as_secs_f64());
        }
    }

    /// The exposition text (format 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let c = self.counters();
        out.push_str("# HELP cognate_requests_total Requests answered, by operation and HTTP status.\n");
        out.push_str("# TYPE cognate_requests_total counter\n");
        for ((operation, status), n) in &c.requests {
            let _ = writeln!(
                out,
                "cognate_requests_total{{operation=\"{operation}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP cognate_request_duration_seconds Time to answer a request, by operation.\n");
        out.push_str("# TYPE cognate_request_duration_seconds histogram\n");
        for (operation, h) in &c.request_durations {
            h.render(
                &mut out,
                "cognate_request_duration_seconds",
                &format!("operation=\"{operation}\""),
            );
        }
        out.push_str("# HELP cognate_trigger_invocations_total Lambda trigger invocations, by function and outcome.\n");
        out.push_str("# TYPE cognate_trigger_invocations_total counter\n");
        for ((function, outcome), n) in &c.triggers {
            let _ = writeln!(
                out,
                "cognate_trigger_invocations_total{{function=\"{}\",outcome=\"{outcome}\"}} {n}",
                escape(function)
            );
        }
        out.push_str(
            "# HELP cognate_trigger_duration_seconds Time synchronous trigger invocations took, by function.\n",
        );
        out.push_str("# TYPE cognate_trigger_duration_seconds histogram\n");
        for (function, h) in &c.trigger_durations {
            h.render(
                &mut out,
                "cognate_trigger_duration_seconds",
                &format!("function=\"{}\"", escape(function)),
            );
        }
        out.push_str("# HELP cognate_store_duration_seconds Time store calls took, by store operation.\n");
        out.push_str("# TYPE cognate_store_duration_seconds histogram\n");
        for (operation, h) in &c.store_durations {
            h.render(
                &mut out,
                "cognate_store_duration_seconds",
                &format!("operation=\"{operation}\""),
            );
        }
        drop(c);
        if let Some(queue) = &self.hash_queue {
            out.push_str(
                "# HELP cognate_password_hash_queue_depth Password hashing jobs waiting for a hashing thread.\n",
            );
            out.push_str("# TYPE cognate_password_hash_queue_depth gauge\n");
            let _ = writeln!(
                out,
                "cognate_password_hash_queue_depth {}",
                queue.load(Ordering::Relaxed)
            );
        }
        out
    }
}

/// A label value as the exposition format wants it.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Counts trigger invocations on the way to the real invoker.
pub struct MeteredTriggers {
    pub inner: Arc<dyn TriggerInvoker>,
    pub metrics: Arc<Metrics>,
}

#[async_trait]
impl TriggerInvoker for MeteredTriggers {
    async fn invoke(&self, function_arn: &str, event: Value) -> Result<Value, InvokeFailure> {
        let started = Instant::now();
        let result = self.inner.invoke(function_arn, event).await;
        let outcome = match &result {
            Ok(_) => "success",
            Err(InvokeFailure::FunctionError { .. }) => "function_error",
            Err(InvokeFailure::Unexpected { .. }) => "unexpected",
            Err(InvokeFailure::InvalidResponse { .. }) => "invalid_response",
        };
        self.metrics.observe_trigger(
            crate::functions::function_name(function_arn),
            outcome,
            Some(started.elapsed()),
        );
        result
    }

    async fn invoke_async(&self, function_arn: &str, event: Value) {
        self.inner.invoke_async(function_arn, event).await;
        self.metrics
            .observe_trigger(crate::functions::function_name(function_arn), "async", None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let m = Metrics::new(Some(Arc::new(AtomicUsize::new(3))));
        m.observe_request("SignUp", 200, Duration::from_millis(20));
        m.observe_request("SignUp", 200, Duration::from_millis(300));
        m.observe_request("SignUp", 400, Duration::from_secs(60));
        m.observe_trigger("pre \"signup\"", "success", Some(Duration::from_millis(1)));
        m.observe_store("get_user", Duration::from_micros(80));
        m.observe_store("get_user", Duration::from_micros(700));
        let text = m.render();
        assert!(text.contains("cognate_store_duration_seconds_bucket{operation=\"get_user\",le=\"0.0001\"} 1\n"));
        assert!(text.contains("cognate_store_duration_seconds_bucket{operation=\"get_user\",le=\"0.001\"} 2\n"));
        assert!(text.contains("cognate_store_duration_seconds_count{operation=\"get_user\"} 2\n"));
        assert!(
            text.contains("cognate_requests_total{operation=\"SignUp\",status=\"200\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("cognate_requests_total{operation=\"SignUp\",status=\"400\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("cognate_request_duration_seconds_bucket{operation=\"SignUp\",le=\"0.025\"} 1\n"));
        assert!(text.contains("cognate_request_duration_seconds_bucket{operation=\"SignUp\",le=\"0.5\"} 2\n"));
        assert!(text.contains("cognate_request_duration_seconds_bucket{operation=\"SignUp\",le=\"10\"} 2\n"));
        assert!(text.contains("cognate_request_duration_seconds_bucket{operation=\"SignUp\",le=\"+Inf\"} 3\n"));
        assert!(text.contains("cognate_request_duration_seconds_count{operation=\"SignUp\"} 3\n"));
        assert!(
            text.contains("cognate_trigger_invocations_total{function=\"pre \\\"signup\\\"\",outcome=\"success\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("cognate_password_hash_queue_depth 3\n"));
    }
}
