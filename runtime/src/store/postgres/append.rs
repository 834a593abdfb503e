//! One append transaction, the SQL behind every append (the essentials are in the
//! [parent module](super)'s documentation): the common case — none of the batch's
//! `eventId`s is known yet — in one statement, the general case in an explicit
//! transaction holding the topic's row lock, and a retry when pooled connections turn
//! out to be dropped ones. Groups of appends come here from `group_commit.rs`.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::Duration;

use sqlx::postgres::PgPool;

use super::errors::{backend, topic_not_found};
use super::notify::APPENDED_CHANNEL;
use super::rows::{body_text, event_record, seq_value};
use crate::store::{Appended, EventKeys, EventRecord, NewEvent, StoreError};

/// The topic's `last_seq`, and one of the batch's events it already has (if any).
type LockedTopicRow = (
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The de-duplication key of an event: (publisher, eventId).
fn key(event: &NewEvent) -> (&str, &str) {
    (event.publisher.as_str(), event.event_id.as_str())
}

/// One append transaction (see the [parent module](super)'s documentation): lock the
/// topic's row, look up the batch's eventIds, insert the new events with the next
/// sequences and move `last_seq`, commit.
pub(super) async fn append_tx(
    pool: &PgPool,
    topic_id: &str,
    events: Vec<NewEvent>,
) -> Result<Vec<Appended>, StoreError> {
    // A pooled connection the database dropped (restart, failover, an administrator)
    // fails its statement; another try takes another connection. Safe to repeat: an
    // append that did commit before the failure is found again by its eventIds.
    // Every idle connection of the pool may be a dropped one: up to one try more than
    // the pool holds, within a couple of seconds (a database that is down fails fast).
    let attempts = pool.options().get_max_connections() + 1;
    let started = std::time::Instant::now();
    let mut attempt = 1;
    loop {
        let outcome = match append_new(pool, topic_id, &events).await {
            Ok(Some(outcomes)) => Ok(outcomes),
            Ok(None) => append_locked(pool, topic_id, events.clone()).await,
            Err(error) => Err(error),
        };
        match outcome {
            Err(StoreError::Unavailable(why))
                if attempt < attempts && started.elapsed() < APPEND_RETRY_WINDOW =>
            {
                tracing::warn!(topic = topic_id, attempt, error = %why, "append failed on a lost connection; trying again");
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// The indexed keys of each body (`events.event_type`, `events.event_time_us`;
/// migration 0008), computed here so that they are exactly what the memory store's
/// index holds.
fn keys<'a>(bodies: impl Iterator<Item = &'a [u8]>) -> (Vec<Option<String>>, Vec<Option<i64>>) {
    bodies
        .map(|body| {
            let keys = EventKeys::of(body);
            (keys.event_type, keys.event_time_us)
        })
        .unzip()
}

/// How long an append keeps trying when its connections are lost.
const APPEND_RETRY_WINDOW: Duration = Duration::from_secs(2);

/// The common case in one statement (one round trip, committed on its own): none of
/// the batch's `eventId`s is in the topic yet. The `UPDATE` of the topic's row takes
/// its lock and moves `last_seq` past the batch, the `INSERT` gives the events the
/// sequences in between, `NOTIFY` goes out at commit. `None` (nothing written) when
/// the topic does not exist or already has one of the `eventId`s (the unique key
/// refuses the insert, which undoes the statement): [`append_locked`] then sorts the
/// batch out.
async fn append_new(
    pool: &PgPool,
    topic_id: &str,
    events: &[NewEvent],
) -> Result<Option<Vec<Appended>>, StoreError> {
    // Within the batch, a repeated eventId is answered with its first occurrence:
    // per event, (index among the distinct ones, whether it is the first).
    let mut distinct: Vec<&NewEvent> = Vec::with_capacity(events.len());
    let mut index_of: HashMap<(&str, &str), usize> = HashMap::with_capacity(events.len());
    let mut slots = Vec::with_capacity(events.len());
    for event in events {
        match index_of.entry(key(event)) {
            Entry::Occupied(seen) => slots.push((*seen.get(), false)),
            Entry::Vacant(new) => {
                new.insert(distinct.len());
                slots.push((distinct.len(), true));
                distinct.push(event);
            }
        }
    }
    let ids: Vec<&str> = distinct.iter().map(|e| e.event_id.as_str()).collect();
    let publishers: Vec<&str> = distinct.iter().map(|e| e.publisher.as_str()).collect();
    let bodies = distinct
        .iter()
        .map(|e| body_text(&e.body))
        .collect::<Result<Vec<&str>, _>>()?;
    if ids.is_empty() {
        return Ok(None);
    }
    let (types, times) = keys(distinct.iter().map(|e| &e.body[..]));
    let count = i64::try_from(ids.len()).unwrap_or(i64::MAX);
    // No look-up of the eventIds first: the unique key (topic, eventId, publisher) is
    // checked by the insert itself, and a known one fails the whole statement (nothing
    // is written, `last_seq` included). A look-up cost an index probe per event on every
    // append to save work only on retries, which are rare.
    let row: Result<Option<(i64, String)>, sqlx::Error> = sqlx::query_as(
        "WITH moved AS ( \
             UPDATE topics SET last_seq = last_seq + $4 WHERE id = $1 \
             RETURNING last_seq - $4 AS base \
         ), appended AS ( \
             INSERT INTO events (topic_id, seq, event_id, publisher, body, event_type, \
                                 event_time_us) \
             SELECT $1, moved.base + u.n, u.e, u.p, u.b::json, u.t, u.w \
             FROM moved, unnest($2::text[], $3::text[], $6::text[], $7::text[], \
                                $8::bigint[]) WITH ORDINALITY \
                  AS u (e, b, p, t, w, n) \
         ) \
         SELECT base, pg_notify($5, $1 || ':' || (base + $4)::text)::text FROM moved",
    )
    .bind(topic_id)
    .bind(&ids)
    .bind(&bodies)
    .bind(count)
    .bind(APPENDED_CHANNEL)
    .bind(&publishers)
    .bind(&types)
    .bind(&times)
    .fetch_optional(pool)
    .await;
    let base = match row {
        Ok(Some((base, _))) => base,
        Ok(None) => return Ok(None),
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => return Ok(None),
        Err(other) => return Err(backend(other)),
    };
    let records: Vec<EventRecord> = distinct
        .iter()
        .zip(1..)
        .map(|(event, n)| EventRecord {
            seq: seq_value(base + n),
            id: (base + n).to_string(),
            event_id: event.event_id.clone(),
            publisher: event.publisher.clone(),
            body: event.body.clone(),
        })
        .collect();
    Ok(Some(
        slots
            .into_iter()
            .map(|(index, first)| {
                let record = records[index].clone();
                if first {
                    Appended::Created(record)
                } else {
                    Appended::Existing(record)
                }
            })
            .collect(),
    ))
}

/// The general case, in an explicit transaction: lock the topic's row, find which of
/// the batch's `eventId`s it has, insert the others, move `last_seq`.
async fn append_locked(
    pool: &PgPool,
    topic_id: &str,
    events: Vec<NewEvent>,
) -> Result<Vec<Appended>, StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    // One round trip: the topic's row, locked (appends to one topic serialise here:
    // sequences are assigned and committed in order, and the de-duplication check
    // cannot race), with the events of the batch it already has.
    let wanted: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
    let publishers: Vec<&str> = events.iter().map(|e| e.publisher.as_str()).collect();
    let rows: Vec<LockedTopicRow> = sqlx::query_as(
        "SELECT t.last_seq, e.seq, e.event_id, e.publisher, e.body::text \
         FROM topics t LEFT JOIN LATERAL \
              (SELECT ev.seq, ev.event_id, ev.publisher, ev.body \
               FROM unnest($2::text[], $3::text[]) AS k (e, p) \
               JOIN events ev ON ev.topic_id = t.id AND ev.publisher = k.p \
                             AND ev.event_id = k.e) e ON true \
         WHERE t.id = $1 FOR UPDATE OF t",
    )
    .bind(topic_id)
    .bind(&wanted)
    .bind(&publishers)
    .fetch_all(&mut *tx)
    .await
    .map_err(backend)?;
    let Some(&(mut last, ..)) = rows.first() else {
        return Err(topic_not_found(topic_id));
    };
    let mut known: HashMap<(String, String), EventRecord> = rows
        .into_iter()
        .filter_map(|(_, seq, event_id, publisher, body)| {
            Some(event_record((seq?, event_id?, publisher?, body?)))
        })
        .map(|record| ((record.publisher.clone(), record.event_id.clone()), record))
        .collect();

    let mut outcomes = Vec::with_capacity(events.len());
    let (mut seqs, mut ids, mut bodies) = (Vec::new(), Vec::new(), Vec::new());
    let mut publishers = Vec::new();
    for event in events {
        let key = (event.publisher, event.event_id);
        if let Some(existing) = known.get(&key) {
            outcomes.push(Appended::Existing(existing.clone()));
            continue;
        }
        last += 1;
        let text = body_text(&event.body)?.to_owned();
        let record = EventRecord {
            seq: seq_value(last),
            id: last.to_string(),
            event_id: key.1.clone(),
            publisher: key.0.clone(),
            body: event.body,
        };
        seqs.push(last);
        ids.push(record.event_id.clone());
        publishers.push(record.publisher.clone());
        bodies.push(text);
        known.insert(key, record.clone());
        outcomes.push(Appended::Created(record));
    }
    if !seqs.is_empty() {
        let (types, times) = keys(bodies.iter().map(String::as_bytes));
        sqlx::query(
            "WITH appended AS ( \
                 INSERT INTO events (topic_id, seq, event_id, publisher, body, event_type, \
                                     event_time_us) \
                 SELECT $1, s, e, p, b::json, et, w \
                 FROM unnest($2::bigint[], $3::text[], $4::text[], $7::text[], $8::text[], \
                             $9::bigint[]) AS t (s, e, b, p, et, w) \
             ) \
             UPDATE topics SET last_seq = $5 WHERE id = $1 \
             RETURNING pg_notify($6, $1 || ':' || $5::text)",
        )
        .bind(topic_id)
        .bind(&seqs)
        .bind(&ids)
        .bind(&bodies)
        .bind(last)
        .bind(APPENDED_CHANNEL)
        .bind(&publishers)
        .bind(&types)
        .bind(&times)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    }
    tx.commit().await.map_err(backend)?;
    Ok(outcomes)
}
