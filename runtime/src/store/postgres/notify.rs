//! LISTEN/NOTIFY: how the processes sharing the database hear of each other's writes
//! as they commit, without polling — the channels and their payloads, the
//! announcements of hub and replica changes, and the listening side
//! ([`AppendListener`], `subscribe_appends`). Appends announce themselves in their own
//! statements (`append.rs`), and a hub's removal in its `DELETE` (`hubs.rs`).

use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::mpsc;

use super::errors::backend;
use super::group_commit::AppendQueues;
use crate::store::{AppendNotice, HubRecord, Seq, StoreError};

/// The channel on which every append is announced (`NOTIFY`, sent at commit) with
/// the payload `<topic id>:<last sequence>`; see
/// [`PgStore::listen_appends`](super::PgStore::listen_appends).
pub const APPENDED_CHANNEL: &str = "tmf688_appended";

/// The channel on which hub registrations and operator actions are announced, with
/// the payload `<hub id>:<epoch>` (see [`AppendNotice::HubChanged`]), and removals,
/// with `<hub id>:removed`.
pub const HUBS_CHANNEL: &str = "tmf688_hubs";

/// The payload of [`HUBS_CHANNEL`] that says the replicas' shares changed.
const REPLICAS_CHANGED: &str = "~replicas:changed";

/// [`PgStore::listen_appends`](super::PgStore::listen_appends): a dedicated
/// connection listening on both channels.
pub(super) async fn listen_appends(pool: &PgPool) -> Result<AppendListener, StoreError> {
    let mut listener = PgListener::connect_with(pool).await.map_err(backend)?;
    listener
        .listen_all([APPENDED_CHANNEL, HUBS_CHANNEL])
        .await
        .map_err(backend)?;
    Ok(AppendListener { listener })
}

/// Appends announced by any process on the database
/// ([`PgStore::listen_appends`](super::PgStore::listen_appends)).
#[derive(Debug)]
pub struct AppendListener {
    listener: PgListener,
}

impl AppendListener {
    /// The next append: its topic and the topic's new head. Notifications lost while
    /// the connection was down are not replayed: after an error, re-read the heads.
    pub async fn next(&mut self) -> Result<(String, Seq), StoreError> {
        loop {
            let notification = self.listener.recv().await.map_err(backend)?;
            if notification.channel() != APPENDED_CHANNEL {
                continue;
            }
            let parsed = notification
                .payload()
                .rsplit_once(':')
                .and_then(|(topic, seq)| Some((topic.to_owned(), seq.parse::<Seq>().ok()?)));
            if let Some(append) = parsed {
                return Ok(append);
            }
        }
    }
}

impl AppendListener {
    /// The next notice: an append, or [`AppendNotice::Lost`] when the connection was
    /// lost (re-established on the next call; notifications in between are gone).
    async fn try_next(&mut self) -> Result<AppendNotice, StoreError> {
        loop {
            let Some(notification) = self.listener.try_recv().await.map_err(backend)? else {
                return Ok(AppendNotice::Lost);
            };
            let Some((name, number)) = notification.payload().rsplit_once(':') else {
                continue;
            };
            if notification.channel() == HUBS_CHANNEL && notification.payload() == REPLICAS_CHANGED
            {
                return Ok(AppendNotice::ReplicasChanged);
            }
            if notification.channel() == HUBS_CHANNEL && number == "removed" {
                return Ok(AppendNotice::HubRemoved {
                    hub: name.to_owned(),
                });
            }
            let Ok(number) = number.parse::<u64>() else {
                continue;
            };
            return Ok(if notification.channel() == HUBS_CHANNEL {
                AppendNotice::HubChanged {
                    hub: name.to_owned(),
                    epoch: number,
                }
            } else {
                AppendNotice::Appended {
                    topic: name.to_owned(),
                    head: number,
                }
            });
        }
    }
}

/// [`Store::subscribe_appends`](crate::store::Store::subscribe_appends): a task
/// forwards the notices of a [`listen_appends`] connection until the receiver is
/// dropped; after a failure it says [`AppendNotice::Lost`] and waits a second. An
/// append's notice is passed on once this process's own append of it, if it is one,
/// was answered ([`AppendQueues::settled`]: the service then has the event at hand).
pub(super) async fn subscribe_appends(
    pool: &PgPool,
    appends: &AppendQueues,
) -> Result<Option<mpsc::UnboundedReceiver<AppendNotice>>, StoreError> {
    let mut listener = listen_appends(pool).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    let appends = appends.clone();
    tokio::spawn(async move {
        loop {
            let notice = tokio::select! {
                notice = listener.try_next() => notice,
                () = tx.closed() => return,
            };
            let failed = notice.is_err();
            let notice = notice.unwrap_or(AppendNotice::Lost);
            if let AppendNotice::Appended { topic, head } = &notice {
                appends.settled(topic, *head).await;
            }
            if tx.send(notice).is_err() {
                return;
            }
            if failed {
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    () = tx.closed() => return,
                }
            }
        }
    });
    Ok(Some(rx))
}

/// Tells every process that the replicas' shares changed (at commit, within a
/// transaction): a replica joined or left, or leases were handed back.
pub(super) async fn announce_replicas<'e, E>(executor: E) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Postgres>,
{
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(HUBS_CHANNEL)
        .bind(REPLICAS_CHANGED)
        .execute(executor)
        .await
        .map_err(backend)?;
    Ok(())
}

/// Tells every process that `hub` was registered or changed ([`HUBS_CHANNEL`]).
/// Best effort: the others also find it on their next lease round.
pub(super) async fn announce_hub(pool: &PgPool, hub: &HubRecord) {
    let payload = format!("{}:{}", hub.id, hub.epoch);
    if let Err(error) = sqlx::query("SELECT pg_notify($1, $2)")
        .bind(HUBS_CHANNEL)
        .bind(&payload)
        .execute(pool)
        .await
    {
        tracing::warn!(hub = %hub.id, %error, "could not announce a hub change; replicas see it on their next lease round");
    }
}
