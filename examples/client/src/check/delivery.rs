//! Delivery: the local receiver (`crate::receiver`) registered as a hub, N events with
//! distinct eventIds published, a deadline to wait for them; then all present
//! (mandatory), in order and without duplicates (optional), latency, deregistration.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::Value;

use super::events::event_body;
use super::report::Level::{Mandatory, Optional};
use super::report::{DeliveryStats, Evidence, Latency};
use super::{Run, hubs, topic_path};
use crate::Failure;
use crate::receiver::{Receiver, event_key};

/// Every arrival, in order: (eventId, when).
type Arrivals = Arc<Mutex<Vec<(String, Instant)>>>;

/// Starts the receiver; its arrivals are recorded.
pub async fn start_receiver(run: &Run, topic: &str) -> Result<(Receiver, Arrivals), Failure> {
    let arrivals: Arrivals = Arc::default();
    let record = Arc::clone(&arrivals);
    let receiver = Receiver::start(
        run.args.bind,
        run.args.callback_host.as_deref(),
        topic,
        Box::new(move |event: &Value, _fresh| {
            if let Some(key) = event_key(event) {
                record
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push((key.to_owned(), Instant::now()));
            }
        }),
    )
    .await?;
    Ok((receiver, arrivals))
}

const CHECKS: [(&str, super::report::Level); 5] = [
    ("delivery.all", Mandatory),
    ("delivery.order", Optional),
    ("delivery.duplicates", Optional),
    ("delivery.latency", Optional),
    ("delivery.deregister", Mandatory),
];

pub async fn run(run: &mut Run, topic: &str, receiver: &Receiver, arrivals: &Arrivals) {
    let Some(hub) = hubs::register_as(run, topic, &receiver.callback, "delivery.register").await
    else {
        for (id, level) in CHECKS {
            run.report
                .skip(id, level, "the receiver could not be registered");
        }
        return;
    };
    let wanted = publish(run, topic).await;
    wait(run, receiver, arrivals, &wanted).await;
    judge(run, arrivals, &wanted);
    hubs::deregister_as(run, topic, &hub, "delivery.deregister").await;
}

/// Publishes `--events` events; the eventIds and when each was sent, in order.
async fn publish(run: &mut Run, topic: &str) -> Vec<(String, Instant)> {
    let path = format!("{}/event", topic_path(topic));
    let mut sent = Vec::new();
    let mut refused: Vec<Evidence> = Vec::new();
    for n in 1..=run.args.events {
        let event_id = format!("{}-d{n}", run.run_id);
        let at = Instant::now();
        match run.peer.post(&path, &event_body(topic, &event_id)).await {
            Ok(answer) if (200..300).contains(&answer.status) => sent.push((event_id, at)),
            Ok(answer) => refused.push(answer.evidence),
            Err(error) => refused.push(error.evidence),
        }
    }
    if !refused.is_empty() {
        let count = refused.len();
        refused.truncate(3);
        run.report.verdict(
            "delivery.publish",
            Mandatory,
            false,
            format!("{count} of {} events were not accepted", run.args.events),
            refused,
        );
    } else {
        run.report.verdict(
            "delivery.publish",
            Mandatory,
            true,
            format!("{} events accepted", sent.len()),
            Vec::new(),
        );
    }
    sent
}

/// Waits until every published eventId arrived or the deadline passed.
async fn wait(run: &Run, receiver: &Receiver, arrivals: &Arrivals, wanted: &[(String, Instant)]) {
    let deadline = tokio::time::Instant::now() + run.args.timeout;
    let wanted: HashSet<&str> = wanted.iter().map(|(id, _)| id.as_str()).collect();
    let mut changes = receiver.distinct();
    loop {
        let delivered = {
            let arrivals = arrivals
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            arrivals
                .iter()
                .filter(|(id, _)| wanted.contains(id.as_str()))
                .map(|(id, _)| id.as_str())
                .collect::<HashSet<_>>()
                .len()
        };
        if delivered >= wanted.len() {
            return;
        }
        match tokio::time::timeout_at(deadline, changes.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) | Err(_) => return,
        }
    }
}

/// The delivery checks from what arrived.
fn judge(run: &mut Run, arrivals: &Arrivals, wanted: &[(String, Instant)]) {
    let arrivals = arrivals
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let sent_at: HashMap<&str, Instant> =
        wanted.iter().map(|(id, at)| (id.as_str(), *at)).collect();
    let mut first_arrivals: Vec<&str> = Vec::new();
    let mut latencies = Vec::new();
    let mut duplicates = 0;
    let mut seen = HashSet::new();
    for (id, at) in &arrivals {
        let Some(sent) = sent_at.get(id.as_str()) else {
            continue;
        };
        if seen.insert(id.as_str()) {
            first_arrivals.push(id);
            latencies.push(at.saturating_duration_since(*sent).as_secs_f64() * 1000.0);
        } else {
            duplicates += 1;
        }
    }
    let published: Vec<&str> = wanted.iter().map(|(id, _)| id.as_str()).collect();
    let missing: Vec<&str> = published
        .iter()
        .copied()
        .filter(|id| !seen.contains(id))
        .collect();
    let in_order = first_arrivals
        .windows(2)
        .all(|pair| position(&published, pair[0]) < position(&published, pair[1]));

    let all = !published.is_empty() && missing.is_empty();
    let detail = if published.is_empty() {
        "nothing was published".to_owned()
    } else if all {
        format!(
            "all {} eventIds arrived (after de-duplication)",
            published.len()
        )
    } else {
        format!(
            "{} of {} arrived within {:?}; missing e.g. {}",
            seen.len(),
            published.len(),
            run.args.timeout,
            missing
                .iter()
                .take(3)
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    run.report
        .verdict("delivery.all", Mandatory, all, detail, Vec::new());
    if first_arrivals.len() < 2 {
        run.report
            .skip("delivery.order", Optional, "fewer than two events arrived");
    } else {
        let detail = if in_order {
            "first arrivals in publish order".to_owned()
        } else {
            format!(
                "out of order: first arrivals {}",
                short_ids(&first_arrivals)
            )
        };
        run.report
            .verdict("delivery.order", Optional, in_order, detail, Vec::new());
    }
    let detail = if duplicates == 0 {
        "no eventId arrived twice".to_owned()
    } else {
        format!(
            "{duplicates} duplicate arrivals (at-least-once: receivers de-duplicate on eventId)"
        )
    };
    run.report.verdict(
        "delivery.duplicates",
        Optional,
        duplicates == 0,
        detail,
        Vec::new(),
    );
    let latency = latency(&mut latencies);
    match &latency {
        Some(l) => run.report.verdict(
            "delivery.latency",
            Optional,
            true,
            format!(
                "publish → first arrival: min {:.1} ms, median {:.1} ms, max {:.1} ms",
                l.min, l.median, l.max
            ),
            Vec::new(),
        ),
        None => run
            .report
            .skip("delivery.latency", Optional, "nothing arrived"),
    }
    run.report.delivery = Some(DeliveryStats {
        published: published.len(),
        delivered: seen.len(),
        duplicates,
        in_order,
        latency_ms: latency,
    });
}

fn position(published: &[&str], id: &str) -> usize {
    published
        .iter()
        .position(|p| *p == id)
        .unwrap_or(usize::MAX)
}

/// `…-d2, …-d1, …`: the run's eventIds by their suffix, the first ten.
fn short_ids(ids: &[&str]) -> String {
    let mut out: Vec<&str> = ids
        .iter()
        .take(10)
        .map(|id| id.rsplit('-').next().unwrap_or(id))
        .collect();
    if ids.len() > 10 {
        out.push("…");
    }
    out.join(", ")
}

fn latency(values: &mut [f64]) -> Option<Latency> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(Latency {
        min: values[0],
        median: values[values.len() / 2],
        max: values[values.len() - 1],
    })
}
