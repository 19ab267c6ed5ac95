//! Server push of an office's queue to display boards and citizens' phones: one reader per
//! office and instance looks at the queue a few times a second and hands each change (and, every
//! half minute, the unchanged queue) to every stream following that office, so a hundred phones
//! cost the database what one board does and wake only when something moved.
//! The reader stops when the last stream goes. A look that fails for a moment (the database
//! busy) keeps the last one; an office or body that is gone ends the streams.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use poem::web::sse::{Event, SSE};
use tokio::sync::watch;

use crate::app::{AppError, OfficeQueue, Sportello};

/// How often an office's reader looks at its queue.
const POLL: Duration = Duration::from_millis(400);
/// How often it hands an unchanged look on all the same.
const REFRESH: Duration = Duration::from_secs(30);

/// What the streams of an office see.
#[derive(Clone)]
pub(crate) enum Feed {
    Loading,
    Ready(Arc<OfficeQueue>),
    Gone,
}

type Readers = Arc<Mutex<HashMap<(String, String), watch::Sender<Feed>>>>;

/// The offices being followed on this instance, each with its one reader.
#[derive(Clone, Default)]
pub(crate) struct QueueHub {
    readers: Readers,
}

impl QueueHub {
    /// Follows `office` of `tenant`: its reader's looks, starting it if none runs.
    pub(crate) fn follow(&self, app: &Sportello, tenant: &str, office: &str) -> watch::Receiver<Feed> {
        let key = (tenant.to_owned(), office.to_owned());
        let mut readers = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(reader) = readers.get(&key) {
            return reader.subscribe();
        }
        let (reader, follower) = watch::channel(Feed::Loading);
        readers.insert(key.clone(), reader.clone());
        tokio::spawn(read(app.clone(), self.readers.clone(), key, reader));
        follower
    }
}

async fn read(app: Sportello, readers: Readers, key: (String, String), reader: watch::Sender<Feed>) {
    let mut handed: Option<(Arc<OfficeQueue>, Instant)> = None;
    loop {
        match app.office_queue(&key.0, &key.1).await {
            // The streams wake only for a change, or now and then for what time alone changes
            // (a walk-in reaching the cap, the estimate).
            Ok(queue)
                if handed.as_ref().is_some_and(|(last, at)| last.rows == queue.rows && at.elapsed() < REFRESH) => {}
            Ok(queue) => {
                let queue = Arc::new(queue);
                handed = Some((queue.clone(), Instant::now()));
                reader.send_replace(Feed::Ready(queue));
            }
            // The boards keep the last look; the log says why they stand still.
            Err(error @ (AppError::Store(_) | AppError::Busy)) => {
                tracing::warn!(tenant = %key.0, office = %key.1, %error, "an office's queue could not be read");
            }
            Err(_) => {
                reader.send_replace(Feed::Gone);
                readers.lock().unwrap_or_else(PoisonError::into_inner).remove(&key);
                return;
            }
        }
        tokio::time::sleep(POLL).await;
        // Checked under the lock that `follow` takes: nobody can join a reader that is leaving.
        let mut followed = readers.lock().unwrap_or_else(PoisonError::into_inner);
        if reader.receiver_count() == 0 {
            followed.remove(&key);
            return;
        }
    }
}

/// Server-Sent Events of `kind`: what `view` makes of each look at the queue, whenever it
/// changes (the first at once).
pub(crate) fn pushed<V>(kind: &'static str, follower: watch::Receiver<Feed>, view: V) -> SSE
where
    V: Fn(&OfficeQueue) -> String + Send + 'static,
{
    let stream = futures::stream::unfold((follower, view, None), move |(mut follower, view, shown)| async move {
        loop {
            let seen = match &*follower.borrow_and_update() {
                Feed::Loading => None,
                Feed::Ready(queue) => Some(view(queue)),
                Feed::Gone => return None,
            };
            if let Some(json) = seen.filter(|json| Some(json) != shown.as_ref()) {
                return Some((Event::message(json.clone()).event_type(kind), (follower, view, Some(json))));
            }
            follower.changed().await.ok()?;
        }
    });
    SSE::new(stream).keep_alive(Duration::from_secs(15))
}
