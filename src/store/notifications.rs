//! Following a PostgreSQL notification channel (LISTEN) for as long as the service runs,
//! reconnecting when the connection is lost.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::watch;

/// What a followed channel reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard<'a> {
    /// Listening (again). Notifications sent while not listening are lost for good.
    Listening,
    /// A notification's payload.
    Message(&'a str),
    /// The connection was lost; listening again is being retried.
    Lost,
}

/// Follows `channel` until `stop` turns true, telling `on` what it hears; retries a lost
/// or refused connection every `retry`.
pub async fn follow(
    pool: &PgPool,
    channel: &str,
    retry: Duration,
    mut stop: watch::Receiver<bool>,
    mut on: impl FnMut(Heard<'_>),
) {
    loop {
        let connected = async {
            let mut listener = PgListener::connect_with(pool).await?;
            listener.listen(channel).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let connected = tokio::select! {
            result = connected => result,
            _ = stop.wait_for(|s| *s) => return,
        };
        match connected {
            Ok(mut listener) => {
                on(Heard::Listening);
                loop {
                    tokio::select! {
                        received = listener.recv() => match received {
                            Ok(notification) => on(Heard::Message(notification.payload())),
                            Err(error) => {
                                tracing::warn!(%error, channel, "lost the notification listener; reconnecting");
                                on(Heard::Lost);
                                break;
                            }
                        },
                        _ = stop.wait_for(|s| *s) => return,
                    }
                }
            }
            Err(error) => tracing::warn!(%error, channel, "cannot listen for notifications yet; retrying"),
        }
        tokio::select! {
            () = tokio::time::sleep(retry) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
