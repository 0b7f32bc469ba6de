//! This process's metrics, in the Prometheus text format (`prometheus-client`: one registry per
//! [`Metrics`], no global recorder, so two servers in one test process never mix their figures).
//!
//! Counters and histograms count what this process did since it started (Prometheus scrapes
//! each process and adds them up). The gauges marked *installation* are read from the database
//! at each scrape (`services::health`), so every process reports the same value for them.
//! No label carries a tenant's data: labels are fixed words (author kinds, pool names).
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::AtomicU64;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AuthorLabel {
    /// `visitor`, `agent` (a human), `ai` or `system`.
    pub author: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabel {
    /// `read` and `write` (SQLite), `main` (PostgreSQL: one pool).
    pub pool: &'static str,
    /// `idle` or `busy`.
    pub state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SocketLabel {
    /// `visitor` (widgets) or `agent` (dashboards).
    pub side: &'static str,
}

/// Every metric of one server process.
pub struct Metrics {
    registry: Registry,
    /// Open WebSockets of this process by side.
    pub sockets: Family<SocketLabel, Gauge>,
    /// Messages stored by this process, by author.
    pub messages: Family<AuthorLabel, Counter>,
    /// From a request for a human to Handle chat (or Continue chat yourself on a request), in
    /// seconds, for the requests this process saw handled.
    pub time_to_handle: Histogram,
    /// How long the AI took to answer (the responder's work, not the typing delay), in seconds.
    pub ai_reply: Histogram,
    /// AI answers that failed (the model unreachable, too slow, refusing): the fallback was sent.
    pub ai_errors: Counter,
    /// Outbox deliveries (e-mail, push) that failed an attempt in this process.
    pub outbox_failures: Counter,
    /// Ended conversations this process deleted under their organization's retention setting.
    pub retention_deleted: Counter,
    /// How long a write waited for the database's writer before it could start, in seconds.
    pub db_write_wait: Histogram,
    /// *Installation*: conversations waiting for a human now.
    pub requests_waiting: Gauge,
    /// *Installation*: how long the oldest waiting request has waited, in seconds (0: none).
    pub oldest_request: Gauge<f64, AtomicU64>,
    /// *Installation*: outbox deliveries waiting to be sent.
    pub outbox_queued: Gauge,
    /// *Installation*: outbox deliveries given up after their last attempt (kept for the record).
    pub outbox_failed: Gauge,
    /// This process's database connections.
    pub pool: Family<PoolLabel, Gauge>,
    /// 1 when the installation's gauges were read at this scrape, 0 when the database did not
    /// answer (they then keep their last values).
    pub installation_up: Gauge,
}

impl Metrics {
    /// A fresh set of metrics, `db_write_wait` being the database's own histogram (it measures
    /// inside [`crate::db::Db`], which exists before the metrics do).
    pub fn new(db_write_wait: Histogram) -> Self {
        let mut registry = Registry::with_prefix("handoff");
        let sockets = Family::<SocketLabel, Gauge>::default();
        registry.register("open_sockets", "Open WebSockets of this process, by side", sockets.clone());
        let messages = Family::<AuthorLabel, Counter>::default();
        registry.register("messages", "Messages stored by this process, by author", messages.clone());
        let time_to_handle = Histogram::new(exponential_buckets(1.0, 2.0, 13));
        registry.register_with_unit(
            "time_to_handle",
            "From a visitor's request for a human to an agent handling it",
            Unit::Seconds,
            time_to_handle.clone(),
        );
        let ai_reply = seconds_histogram();
        registry.register_with_unit(
            "ai_reply",
            "Time the AI responder took for one answer",
            Unit::Seconds,
            ai_reply.clone(),
        );
        let ai_errors = Counter::default();
        registry.register("ai_reply_errors", "AI answers that failed (the fallback text was sent)", ai_errors.clone());
        let outbox_failures = Counter::default();
        registry.register(
            "outbox_delivery_failures",
            "Failed delivery attempts (e-mail, push) of this process",
            outbox_failures.clone(),
        );
        let retention_deleted = Counter::default();
        registry.register(
            "retention_deleted_conversations",
            "Ended conversations this process deleted under their organization's retention setting",
            retention_deleted.clone(),
        );
        registry.register_with_unit(
            "db_write_wait",
            "Wait for the database's writer before a write could start",
            Unit::Seconds,
            db_write_wait.clone(),
        );
        let requests_waiting = Gauge::default();
        registry.register(
            "requests_waiting",
            "Conversations waiting for a human now (whole installation)",
            requests_waiting.clone(),
        );
        let oldest_request = Gauge::<f64, AtomicU64>::default();
        registry.register_with_unit(
            "oldest_request_age",
            "How long the oldest waiting request has waited (whole installation; 0 when none)",
            Unit::Seconds,
            oldest_request.clone(),
        );
        let outbox_queued = Gauge::default();
        registry.register(
            "outbox_queued",
            "Deliveries waiting in the outbox (whole installation)",
            outbox_queued.clone(),
        );
        let outbox_failed = Gauge::default();
        registry.register(
            "outbox_failed",
            "Deliveries given up after their last attempt (whole installation)",
            outbox_failed.clone(),
        );
        let pool = Family::<PoolLabel, Gauge>::default();
        registry.register("db_connections", "This process's database connections", pool.clone());
        let installation_up = Gauge::default();
        registry.register(
            "installation_gauges_up",
            "1 when the whole installation's gauges were read from the database at this scrape",
            installation_up.clone(),
        );
        Self {
            registry,
            sockets,
            messages,
            time_to_handle,
            ai_reply,
            ai_errors,
            outbox_failures,
            retention_deleted,
            db_write_wait,
            requests_waiting,
            oldest_request,
            outbox_queued,
            outbox_failed,
            pool,
            installation_up,
        }
    }

    /// The Prometheus text exposition (OpenMetrics text, which Prometheus reads).
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// Counts one stored message.
    pub fn message_stored(&self, author: &'static str) {
        self.messages.get_or_create(&AuthorLabel { author }).inc();
    }
}

/// Buckets from 5 ms to about 40 s, doubling.
pub fn seconds_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

/// `elapsed` in seconds, for histograms.
pub fn secs(elapsed: Duration) -> f64 {
    elapsed.as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_metric_in_the_text_format() {
        let m = Metrics::new(seconds_histogram());
        m.message_stored("visitor");
        m.message_stored("visitor");
        m.sockets.get_or_create(&SocketLabel { side: "agent" }).set(3);
        m.ai_reply.observe(0.02);
        let text = m.render();
        assert!(text.contains("handoff_messages_total{author=\"visitor\"} 2"), "{text}");
        assert!(text.contains("handoff_open_sockets{side=\"agent\"} 3"), "{text}");
        assert!(text.contains("handoff_ai_reply_seconds_count 1"), "{text}");
        for name in [
            "handoff_time_to_handle_seconds",
            "handoff_ai_reply_errors",
            "handoff_outbox_delivery_failures",
            "handoff_db_write_wait_seconds",
            "handoff_requests_waiting",
            "handoff_oldest_request_age_seconds",
            "handoff_outbox_queued",
            "handoff_outbox_failed",
        ] {
            assert!(text.contains(&format!("# TYPE {name}")), "{name} missing in {text}");
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
