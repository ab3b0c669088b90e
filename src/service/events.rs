//! The event stream: history pages, live watching woken by PostgreSQL notifications,
//! and retention.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::sync::{broadcast, mpsc};

use super::{Services, page, page_position};
use crate::auth::principal::Principal;
use crate::domain::page_token::TokenScope;
use crate::error::Error;
use crate::store::{self, events};

pub use events::{EventQuery, EventRow};

/// How many events one read fetches.
const BATCH: i64 = 500;

/// How long a watcher waits for a notification before looking anyway: notifications
/// sent while the listener reconnects are lost, and this bounds the delay they cause.
const POLL: Duration = Duration::from_secs(1);

/// Wakes watchers when a tenant's events commit.
#[derive(Debug, Clone)]
pub struct EventHub {
    sender: broadcast::Sender<String>,
}

impl Default for EventHub {
    fn default() -> Self {
        Self { sender: broadcast::channel(1024).0 }
    }
}

impl EventHub {
    /// Listens on PostgreSQL's notification channel until `stop` turns true, passing each
    /// tenant ID notified to the watchers. Reconnects after a lost connection (watchers'
    /// own periodic look covers what is missed meanwhile).
    pub async fn listen(&self, pool: PgPool, stop: tokio::sync::watch::Receiver<bool>) {
        store::notifications::follow(&pool, events::CHANNEL, POLL, stop, |heard| {
            if let store::notifications::Heard::Message(tenant) = heard {
                let _ = self.sender.send(tenant.to_owned());
            }
        })
        .await;
    }

    fn subscribe(&self) -> broadcast::Receiver<String> {
        self.sender.subscribe()
    }

    /// How many WatchEvents streams are open (each holds one subscription).
    pub fn watchers(&self) -> usize {
        self.sender.receiver_count()
    }
}

async fn check_cursor(svc: &Services, who: &Principal, after: i64) -> Result<(), Error> {
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    let (_, purged_through) = events::bounds(&mut tx, &who.tenant).await?;
    store::commit(tx).await?;
    if after < purged_through {
        return Err(Error::OutOfRange {
            reason: "EVENTS_EXPIRED",
            message: format!(
                "events up to {purged_through} are no longer kept; resume from after_event_id = {purged_through} \
                 after re-reading the resources you follow"
            ),
            metadata: vec![("oldest_available_event_id".into(), (purged_through + 1).to_string())],
        });
    }
    Ok(())
}

async fn read(
    svc: &Services,
    who: &Principal,
    query: &EventQuery,
    after: i64,
    limit: i64,
) -> Result<Vec<EventRow>, Error> {
    let mut tx = store::begin(&svc.pool, &who.tenant).await?;
    let rows = events::after(&mut tx, &who.tenant, query, after, limit).await?;
    store::commit(tx).await?;
    Ok(rows)
}

/// One page of events after a cursor (any role).
pub async fn list(
    svc: &Services,
    who: &Principal,
    query: &EventQuery,
    after: i64,
    scope_filter: &str,
    page_size: i64,
    page_token: &str,
) -> Result<(Vec<EventRow>, String), Error> {
    let scope = TokenScope { tenant: &who.tenant, method: "ListEvents", filter: scope_filter };
    let after = page_position::<i64>(svc, scope, page_token)?.unwrap_or(after);
    check_cursor(svc, who, after).await?;
    let rows = read(svc, who, query, after, page_size + 1).await?;
    Ok(page(svc, scope, rows, page_size, |row| row.event_id))
}

/// Streams the events after `after`, then new ones as they commit, until the receiver
/// is dropped (the caller went away). Errors end the stream.
pub async fn watch(
    svc: &Services,
    who: &Principal,
    query: EventQuery,
    after: i64,
) -> Result<mpsc::Receiver<Result<EventRow, Error>>, Error> {
    check_cursor(svc, who, after).await?;
    let (sender, receiver) = mpsc::channel(BATCH as usize);
    let svc = svc.clone();
    let who = who.clone();
    // Subscribed before the first read, so no commit between the read and the wait is missed.
    let mut wake = svc.events.subscribe();
    tokio::spawn(async move {
        let mut cursor = after;
        loop {
            let rows = match read(&svc, &who, &query, cursor, BATCH).await {
                Ok(rows) => rows,
                Err(error) => {
                    let _ = sender.send(Err(error)).await;
                    return;
                }
            };
            let full = rows.len() as i64 == BATCH;
            for row in rows {
                cursor = row.event_id;
                if sender.send(Ok(row)).await.is_err() {
                    return;
                }
            }
            if full {
                continue;
            }
            // Wait for this tenant's next commit, the poll interval, or the caller leaving.
            let deadline = tokio::time::sleep(POLL);
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    notified = wake.recv() => match notified {
                        Ok(tenant) if tenant == who.tenant => break,
                        Ok(_) => continue,
                        // Missed notifications: look now rather than risk waiting.
                        Err(broadcast::error::RecvError::Lagged(_)) => break,
                        Err(broadcast::error::RecvError::Closed) => {
                            deadline.as_mut().await;
                            break;
                        }
                    },
                    () = &mut deadline => break,
                    () = sender.closed() => return,
                }
            }
        }
    });
    Ok(receiver)
}

/// Deletes every tenant's events older than `retention` before `now`; returns how many.
pub async fn purge_expired(svc: &Services, now: DateTime<Utc>, retention: Duration) -> Result<u64, Error> {
    let before = now - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::days(30));
    let mut purged = 0;
    for tenant in store::tenants::all(&svc.pool).await? {
        let mut tx = store::begin(&svc.pool, &tenant).await?;
        purged += events::purge(&mut tx, &tenant, before).await?;
        store::commit(tx).await?;
    }
    Ok(purged)
}
