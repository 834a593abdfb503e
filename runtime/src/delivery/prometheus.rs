//! `GET /metrics` and `GET /admin/metrics`: the delivery engine's counters and this
//! replica's per-hub gauges in the Prometheus text exposition format (0.0.4), for a
//! scraper, and retention's per-topic figures ([`render_topics`]: first and last
//! sequence, events held, events trimmed). The same figures as JSON are at
//! `/admin/delivery/metrics`, `/admin/hubs` and `/admin/topics`.
//!
//! Hand-written: a handful of lines of a stable text format, not worth a dependency.

use std::fmt::Write as _;

use super::dead_letters::TopicLog;
use super::status::MetricsSnapshot;

/// The exposition's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `text` (an exposition) as the answer to a scrape.
pub fn response(text: String) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    ([(http::header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response()
}

/// One hub's gauges, as [`render`] writes them: the figures only, borrowed from the
/// worker's cell, so that a scrape of 10,000 hubs copies no status (no attempt log, no
/// error text).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HubGauges<'a> {
    /// The hub's id.
    pub hub_id: &'a str,
    /// Its topic's id.
    pub topic_id: &'a str,
    /// Log positions behind its topic's head.
    pub lag: u64,
    /// The last sequence delivered (or skipped).
    pub cursor: u64,
    /// Consecutive failed attempts at its next event.
    pub attempts: u32,
    /// Whether it waits for a resume.
    pub halted: bool,
}

/// A per-hub gauge: name, help, and how to read it off a hub's figures.
type Gauge = (&'static str, &'static str, fn(&HubGauges<'_>) -> u64);

/// The exposition of `metrics` and `hubs` (this replica's workers, in the order given).
pub fn render(metrics: &MetricsSnapshot, hubs: &[HubGauges<'_>]) -> String {
    let mut out = String::new();
    let counters: [(&str, &str, u64); 5] = [
        (
            "tmf688_deliveries_total",
            "Events delivered (2xx).",
            metrics.delivered,
        ),
        (
            "tmf688_delivery_failed_attempts_total",
            "Delivery attempts that failed (each retry counts).",
            metrics.failed_attempts,
        ),
        (
            "tmf688_hubs_gone_total",
            "Hubs removed after their callback answered 410 Gone.",
            metrics.gone,
        ),
        (
            "tmf688_hub_halts_total",
            "Times a hub was halted after its retry budget.",
            metrics.halted,
        ),
        (
            "tmf688_events_skipped_total",
            "Events not sent to a hub (filters, need-to-know).",
            metrics.skipped,
        ),
    ];
    for (name, help, value) in counters {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
        );
    }
    let seconds = metrics.latency_ms_total as f64 / 1000.0;
    let _ = writeln!(
        out,
        "# HELP tmf688_delivery_seconds_total Time spent in successful delivery attempts.\n\
         # TYPE tmf688_delivery_seconds_total counter\ntmf688_delivery_seconds_total {seconds}"
    );
    let gauges: [Gauge; 4] = [
        (
            "tmf688_hub_lag",
            "Log positions a hub is behind its topic's head.",
            |h| h.lag,
        ),
        (
            "tmf688_hub_cursor",
            "The last sequence delivered to (or skipped for) a hub.",
            |h| h.cursor,
        ),
        (
            "tmf688_hub_attempts",
            "Consecutive failed attempts at a hub's next event.",
            |h| u64::from(h.attempts),
        ),
        (
            "tmf688_hub_halted",
            "1 while a hub is halted, waiting for a resume.",
            |h| u64::from(h.halted),
        ),
    ];
    for (name, help, value) in gauges {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for hub in hubs {
            let _ = writeln!(
                out,
                "{name}{{hub=\"{}\",topic=\"{}\"}} {}",
                escape(hub.hub_id),
                escape(hub.topic_id),
                value(hub)
            );
        }
    }
    out
}

/// A per-topic figure: name, type, help, and how to read it off a topic's log.
type TopicFigure = (
    &'static str,
    &'static str,
    &'static str,
    fn(&TopicLog) -> u64,
);

/// Retention's figures per topic (from the store: the same on every replica), to
/// append to [`render`]'s exposition.
pub fn render_topics(topics: &[TopicLog]) -> String {
    let mut out = String::new();
    let figures: [TopicFigure; 4] = [
        (
            "tmf688_topic_first_seq",
            "gauge",
            "The first sequence a topic's log still holds (retention removed those before).",
            |t| t.first_seq,
        ),
        (
            "tmf688_topic_last_seq",
            "gauge",
            "The last sequence appended to a topic's log.",
            |t| t.last_seq,
        ),
        (
            "tmf688_topic_events",
            "gauge",
            "Events a topic's log holds.",
            |t| t.events,
        ),
        (
            "tmf688_topic_trimmed_events_total",
            "counter",
            "Events retention removed from a topic's log.",
            |t| t.trimmed,
        ),
    ];
    for (name, kind, help, value) in figures {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for topic in topics {
            let _ = writeln!(
                out,
                "{name}{{topic=\"{}\"}} {}",
                escape(&topic.topic_id),
                value(topic)
            );
        }
    }
    out
}

/// A label value with `\`, `"` and newlines escaped, as the format requires.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_retention_per_topic() {
        let topic = TopicLog {
            topic_id: "order".into(),
            name: "order".into(),
            events: 5,
            first_seq: 96,
            last_seq: 100,
            trimmed: 95,
            retention: None,
        };
        let text = render_topics(&[topic]);
        for line in [
            "# TYPE tmf688_topic_first_seq gauge",
            r#"tmf688_topic_first_seq{topic="order"} 96"#,
            r#"tmf688_topic_events{topic="order"} 5"#,
            "# TYPE tmf688_topic_trimmed_events_total counter",
            r#"tmf688_topic_trimmed_events_total{topic="order"} 95"#,
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }

    #[test]
    fn renders_counters_and_escaped_hub_gauges() {
        let metrics = MetricsSnapshot {
            delivered: 7,
            failed_attempts: 2,
            gone: 0,
            halted: 1,
            skipped: 3,
            latency_ms_total: 1500,
        };
        let hub = HubGauges {
            hub_id: "hub-1",
            topic_id: "or\"d\\er",
            lag: 5,
            cursor: 4,
            attempts: 0,
            halted: true,
        };
        let text = render(&metrics, &[hub]);
        for line in [
            "# TYPE tmf688_deliveries_total counter",
            "tmf688_deliveries_total 7",
            "tmf688_delivery_failed_attempts_total 2",
            "tmf688_hub_halts_total 1",
            "tmf688_delivery_seconds_total 1.5",
            "# TYPE tmf688_hub_lag gauge",
            r#"tmf688_hub_lag{hub="hub-1",topic="or\"d\\er"} 5"#,
            r#"tmf688_hub_cursor{hub="hub-1",topic="or\"d\\er"} 4"#,
            r#"tmf688_hub_halted{hub="hub-1",topic="or\"d\\er"} 1"#,
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }
}
