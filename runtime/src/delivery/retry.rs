//! The retry schedule: exponential backoff with jitter, and `Retry-After`.

use std::time::{Duration, SystemTime};

use http::HeaderMap;

use super::config::RetryConfig;

/// The delay after the `failures`-th consecutive failed attempt (from 1):
/// `min(initial * multiplier^(failures-1), max)`, randomised by ± `jitter` of itself
/// with `unit` drawn uniformly from [0, 1).
pub fn backoff(config: &RetryConfig, failures: u32, unit: f64) -> Duration {
    let exponent = i32::try_from(failures.saturating_sub(1)).unwrap_or(i32::MAX);
    let base = (config.initial_delay_ms as f64) * config.multiplier.powi(exponent);
    let base = base.min(config.max_delay_ms as f64);
    let factor = 1.0 + config.jitter * (2.0 * unit.clamp(0.0, 1.0) - 1.0);
    Duration::from_secs_f64((base * factor).max(0.0) / 1000.0)
}

/// The nominal (jitter-free) delay after the `failures`-th failure, for reports and
/// tests.
pub fn nominal(config: &RetryConfig, failures: u32) -> Duration {
    backoff(config, failures, 0.5)
}

/// The delay a `Retry-After` header asks for (delta-seconds or an HTTP date), if any.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    if let Ok(seconds) = value.parse::<f64>()
        && seconds.is_finite()
        && seconds >= 0.0
    {
        return Some(Duration::from_secs_f64(seconds.min(1e9)));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A `Retry-After` delay clamped to the configured floor and cap.
pub fn clamp_retry_after(config: &RetryConfig, delay: Duration) -> Duration {
    delay.clamp(
        Duration::from_millis(config.retry_after_floor_ms),
        Duration::from_millis(config.retry_after_cap_ms),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> RetryConfig {
        RetryConfig {
            initial_delay_ms: 100,
            multiplier: 2.0,
            max_delay_ms: 1000,
            jitter: 0.2,
            max_attempts: 5,
            retry_after_floor_ms: 50,
            retry_after_cap_ms: 2000,
        }
    }

    #[test]
    fn exponential_capped_with_jitter() {
        let c = config();
        let ms = |f, u| backoff(&c, f, u).as_millis();
        assert_eq!(ms(1, 0.5), 100);
        assert_eq!(ms(2, 0.5), 200);
        assert_eq!(ms(3, 0.5), 400);
        assert_eq!(ms(5, 0.5), 1000);
        assert_eq!(ms(40, 0.5), 1000);
        assert_eq!(ms(1, 0.0), 80);
        assert_eq!(ms(1, 0.999_999), 119);
        assert_eq!(nominal(&c, 2), Duration::from_millis(200));
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers, now), None);
        headers.insert(http::header::RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(3)));
        headers.insert(http::header::RETRY_AFTER, "0.25".parse().unwrap());
        assert_eq!(retry_after(&headers, now), Some(Duration::from_millis(250)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        headers.insert(http::header::RETRY_AFTER, later.parse().unwrap());
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
        headers.insert(http::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers, now), None);
        let c = config();
        assert_eq!(
            clamp_retry_after(&c, Duration::ZERO),
            Duration::from_millis(50)
        );
        assert_eq!(
            clamp_retry_after(&c, Duration::from_secs(60)),
            Duration::from_secs(2)
        );
    }
}
