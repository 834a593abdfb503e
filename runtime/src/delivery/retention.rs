//! [`RetentionConfig`]: how long topic logs keep their events (the server's
//! `[retention]` table; what the trimmer, `super::trimmer`, applies).
//!
//! ```toml
//! [retention]
//! interval = "1m"              # how often the trimmer runs ("off": never by itself)
//! batch_size = 1000            # events removed per transaction
//! max_age = "7d"               # default for every topic ("off": no age limit)
//! max_events = 1000000         # default for every topic (absent or "off": no limit)
//! max_undelivered_age = "2d"   # absent or "off" (the default): never skip a hub's events
//! attempt_log_max_age = "1d"   # entries of the per-hub attempt log older than this go
//! dead_letter_max_age = "30d"  # dead-letter records older than this go ("off": kept)
//!
//! [retention.topics.order]     # one topic's own limits (what it leaves out: the defaults)
//! max_age = "30d"
//! max_events = "off"
//! ```
//!
//! Durations are a whole number with a unit: `ms`, `s`, `m`, `h` or `d` (`90s`, `7d`).
//!
//! # Defaults
//!
//! `max_age = "7d"`, no `max_events`, no `max_undelivered_age`, `interval = "1m"`,
//! `batch_size = 1000`, `attempt_log_max_age = "1d"`, `dead_letter_max_age = "30d"`. An event is removed only once
//! **every hub of its topic has passed it** *and* it is older than `max_age` or beyond
//! the newest `max_events`; so with the defaults nothing a hub still owes is removed.
//! `max_undelivered_age` is the one setting that lets retention skip events a hub has
//! not received: that hub is halted with the reason, and the range is recorded as a
//! dead letter (listed and replayable through the operator API).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

/// A limit: a value, or `"off"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit<T> {
    /// No limit.
    Off,
    /// This limit.
    On(T),
}

impl<T: Copy> Limit<T> {
    /// The limit, if any.
    pub fn get(self) -> Option<T> {
        match self {
            Self::Off => None,
            Self::On(value) => Some(value),
        }
    }
}

/// Parses `90s`, `15m`, `24h`, `7d`, `500ms`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| {
        format!(
            "{text:?} is not a duration: a whole number and a unit (ms, s, m, h, d), e.g. \"7d\""
        )
    })?;
    let millis = match unit {
        "ms" => Some(number),
        "s" => number.checked_mul(1_000),
        "m" => number.checked_mul(60_000),
        "h" => number.checked_mul(3_600_000),
        "d" => number.checked_mul(86_400_000),
        _ => {
            return Err(format!(
                "{text:?} has no unit: write ms, s, m, h or d after the number, e.g. \"7d\""
            ));
        }
    }
    .ok_or_else(|| format!("{text:?} is too long a duration"))?;
    Ok(Duration::from_millis(millis))
}

/// A duration as this module writes it (the largest unit that divides it).
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if millis > 0 && millis % size == 0 {
            return format!("{}{unit}", millis / size);
        }
    }
    format!("{millis}ms")
}

impl<'de> Deserialize<'de> for Limit<Duration> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.trim() == "off" {
            return Ok(Self::Off);
        }
        parse_duration(&text)
            .map(Self::On)
            .map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for Limit<u64> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Count;
        impl Visitor<'_> for Count {
            type Value = Limit<u64>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of events (at least 1) or \"off\"")
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
                if value == 0 {
                    return Err(E::custom(
                        "max_events = 0 would keep nothing: give at least 1, or \"off\"",
                    ));
                }
                Ok(Limit::On(value))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
                u64::try_from(value)
                    .map_err(|_| E::custom("max_events cannot be negative"))
                    .and_then(|value| self.visit_u64(value))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                if value.trim() == "off" {
                    Ok(Limit::Off)
                } else {
                    Err(E::custom(format!(
                        "max_events is a number or \"off\", not {value:?}"
                    )))
                }
            }
        }
        deserializer.deserialize_any(Count)
    }
}

/// One topic's limits, as configured (absent: the default's).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TopicRetention {
    /// Events older than this (since they were appended) may go once every hub passed them.
    pub max_age: Option<Limit<Duration>>,
    /// Events beyond the newest `max_events` may go once every hub passed them.
    pub max_events: Option<Limit<u64>>,
    /// An event a hub has not been delivered this long after it was appended is given
    /// up for that hub: the hub is halted and the range recorded as a dead letter.
    pub max_undelivered_age: Option<Limit<Duration>>,
}

/// The limits in force for one topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    /// `max_age` in seconds (absent: none).
    #[serde(rename = "maxAgeSeconds", with = "seconds")]
    pub max_age: Option<Duration>,
    /// `max_events` (absent: none).
    pub max_events: Option<u64>,
    /// `max_undelivered_age` in seconds (absent: off).
    #[serde(rename = "maxUndeliveredAgeSeconds", with = "seconds")]
    pub max_undelivered_age: Option<Duration>,
}

impl Limits {
    /// The limits as an operator reads them: `max age 7d, max events 1000, undelivered
    /// 2d` (what is off is left out; `keeps every event` when all are).
    pub fn in_words(&self) -> String {
        let mut parts = Vec::new();
        if let Some(age) = self.max_age {
            parts.push(format!("max age {}", format_duration(age)));
        }
        if let Some(events) = self.max_events {
            parts.push(format!("max events {events}"));
        }
        if let Some(age) = self.max_undelivered_age {
            parts.push(format!("undelivered {}", format_duration(age)));
        }
        if parts.is_empty() {
            "keeps every event".into()
        } else {
            parts.join(", ")
        }
    }
}

mod seconds {
    use std::time::Duration;

    use serde::Serializer;

    #[allow(clippy::ref_option)] // serde's `with` hands a reference
    pub(super) fn serialize<S: Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(duration) => serializer.serialize_u64(duration.as_secs()),
            None => serializer.serialize_none(),
        }
    }
}

/// The `[retention]` table (see the module documentation for the defaults).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// How often the trimmer runs (`Off`: only when an operator asks,
    /// `POST /admin/retention/trim`).
    pub interval: Limit<Duration>,
    /// Events removed per transaction (PostgreSQL: bounded locks and WAL per commit).
    pub batch_size: usize,
    /// Pause between two batches, so that a long trim yields to appends.
    pub batch_pause_ms: u64,
    /// The default `max_age` of every topic.
    pub max_age: Limit<Duration>,
    /// The default `max_events` of every topic.
    pub max_events: Limit<u64>,
    /// The default `max_undelivered_age` of every topic.
    pub max_undelivered_age: Limit<Duration>,
    /// Entries of a hub's attempt log (operator API) older than this are dropped
    /// (besides the log's bound of `[delivery] attempt_log_size` entries).
    pub attempt_log_max_age: Limit<Duration>,
    /// Dead-letter records (what hubs gave up on) recorded or last extended longer ago
    /// than this are removed, `batch_size` per statement: a peer whose callbacks keep
    /// answering 410 cannot grow them for ever.
    pub dead_letter_max_age: Limit<Duration>,
    /// Per-topic limits, by topic id.
    pub topics: BTreeMap<String, TopicRetention>,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            interval: Limit::On(Duration::from_secs(60)),
            batch_size: 1_000,
            batch_pause_ms: 0,
            max_age: Limit::On(Duration::from_secs(7 * 86_400)),
            max_events: Limit::Off,
            max_undelivered_age: Limit::Off,
            attempt_log_max_age: Limit::On(Duration::from_secs(86_400)),
            dead_letter_max_age: Limit::On(Duration::from_secs(30 * 86_400)),
            topics: BTreeMap::new(),
        }
    }
}

impl RetentionConfig {
    /// The limits in force for `topic_id`.
    pub fn limits(&self, topic_id: &str) -> Limits {
        let own = self.topics.get(topic_id);
        let pick =
            |own: Option<Limit<Duration>>, default: Limit<Duration>| own.unwrap_or(default).get();
        Limits {
            max_age: pick(own.and_then(|t| t.max_age), self.max_age),
            max_events: own
                .and_then(|t| t.max_events)
                .unwrap_or(self.max_events)
                .get(),
            max_undelivered_age: pick(
                own.and_then(|t| t.max_undelivered_age),
                self.max_undelivered_age,
            ),
        }
    }

    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), String> {
        if self.batch_size == 0 {
            return Err("retention.batch_size must be at least 1".into());
        }
        if self
            .interval
            .get()
            .is_some_and(|i| i < Duration::from_millis(10))
        {
            return Err("retention.interval must be at least 10ms (or \"off\")".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_format() {
        for (text, millis) in [
            ("500ms", 500),
            ("90s", 90_000),
            ("15m", 900_000),
            ("7d", 604_800_000),
        ] {
            let duration = parse_duration(text).unwrap();
            assert_eq!(duration.as_millis(), millis, "{text}");
        }
        assert_eq!(format_duration(Duration::from_secs(7 * 86_400)), "7d");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
        for bad in ["7", "d", "7 days", "-1s", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults_and_per_topic_limits() {
        let config: RetentionConfig = toml::from_str(
            r#"
            max_events = 100
            max_undelivered_age = "2d"
            [topics.order]
            max_age = "off"
            max_events = "off"
            [topics.alarm]
            max_age = "1h"
            "#,
        )
        .unwrap();
        assert_eq!(
            config.limits("other"),
            Limits {
                max_age: Some(Duration::from_secs(7 * 86_400)),
                max_events: Some(100),
                max_undelivered_age: Some(Duration::from_secs(2 * 86_400)),
            }
        );
        assert_eq!(config.limits("order").max_age, None);
        assert_eq!(config.limits("order").max_events, None);
        assert_eq!(
            config.limits("alarm").max_age,
            Some(Duration::from_secs(3600))
        );
        assert_eq!(
            RetentionConfig::default().limits("x").max_undelivered_age,
            None
        );
        for bad in [
            "max_events = 0",
            "max_age = \"7\"",
            "max_events = \"lots\"",
            "maxage = \"1d\"",
        ] {
            assert!(toml::from_str::<RetentionConfig>(bad).is_err(), "{bad}");
        }
    }
}
