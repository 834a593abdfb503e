//! The open-file limit: raised from the soft to the hard limit at start-up, and the
//! share of it that inbound connections may take.

/// File descriptors kept for what is neither an inbound connection, a database
/// connection nor an outbound delivery: the listener, the runtime's poller, standard
/// streams, DNS look-ups, files that libraries open.
pub const BASE_RESERVE: u64 = 128;

/// Outbound deliveries counted when `[delivery.pool] max_in_flight` is 0 (no limit):
/// as many as its default allows.
const UNBOUNDED_DELIVERIES: u64 = 1024;

/// Raises the soft open-file limit to the hard limit and logs both. Returns the soft
/// limit now in force (`None` where it cannot be read).
#[cfg(unix)]
pub fn raise_to_hard_limit() -> Option<u64> {
    let (soft, hard) = match rlimit::getrlimit(rlimit::Resource::NOFILE) {
        Ok(limits) => limits,
        Err(error) => {
            tracing::warn!(%error, "could not read the open-file limit");
            return None;
        }
    };
    let now = rlimit::increase_nofile_limit(hard).unwrap_or_else(|error| {
        tracing::warn!(soft, hard, %error, "could not raise the open-file soft limit");
        soft
    });
    tracing::info!(
        soft_before = soft,
        soft = now,
        hard,
        "open-file limit: soft raised to the hard limit"
    );
    Some(now)
}

/// No open-file limit to raise on this platform.
#[cfg(not(unix))]
pub fn raise_to_hard_limit() -> Option<u64> {
    None
}

/// The descriptors kept for other uses than inbound connections: [`BASE_RESERVE`], the
/// database pool, and the deliveries that may be in flight at once.
pub fn reserve(database_connections: u32, deliveries_in_flight: usize) -> u64 {
    let deliveries = match deliveries_in_flight {
        0 => UNBOUNDED_DELIVERIES,
        n => u64::try_from(n).unwrap_or(u64::MAX),
    };
    BASE_RESERVE
        .saturating_add(u64::from(database_connections))
        .saturating_add(deliveries)
}

/// The connections served at once: `configured`, but at most what the open-file
/// limit leaves after `reserve` — and when the reserve would take more than half the
/// limit, half of it (a low limit is shared between inbound connections and the rest).
pub fn connection_cap(configured: usize, open_files: Option<u64>, reserve: u64) -> usize {
    let Some(limit) = open_files else {
        return configured;
    };
    let available = limit.saturating_sub(reserve).max(limit / 2).max(1);
    usize::try_from(available).map_or(configured, |available| configured.min(available))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_the_reserve_but_at_least_half_the_limit() {
        // In-memory store, default delivery budget: 128 + 1024 kept.
        let reserve = reserve(0, 1024);
        assert_eq!(reserve, 1152);
        assert_eq!(connection_cap(10_000, Some(1_048_576), reserve), 10_000);
        assert_eq!(connection_cap(10_000, Some(20_000), reserve), 10_000);
        assert_eq!(connection_cap(10_000, Some(8_192), reserve), 8_192 - 1152);
        assert_eq!(connection_cap(10_000, Some(1_024), reserve), 512);
        assert_eq!(connection_cap(300, Some(1_024), reserve), 300);
        assert_eq!(connection_cap(10_000, None, reserve), 10_000);
        assert_eq!(connection_cap(10_000, Some(1), reserve), 1);
    }

    #[test]
    fn the_reserve_counts_the_database_pool_and_unbounded_deliveries() {
        assert_eq!(reserve(16, 256), 128 + 16 + 256);
        assert_eq!(reserve(0, 0), 128 + 1024);
    }
}
