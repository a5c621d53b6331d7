//! A stream written as an async block that yields items: the block can own
//! a pooled connection and the driver's stream borrowing it, which a plain
//! stream adapter cannot. Safe code, one uncontended lock per item (the same
//! technique sqlx uses for its own pool executor).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures_util::Stream;
use futures_util::future::BoxFuture;

type Slot<T> = Arc<Mutex<Option<T>>>;

/// Hands items from the generating block to the stream.
pub(crate) struct Yielder<T> {
    slot: Slot<T>,
}

impl<T> Yielder<T> {
    /// Hands `item` to the consumer and suspends until it asks for the next.
    pub(crate) async fn give(&self, item: T) {
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(item);
        SuspendOnce { suspended: false }.await;
    }
}

/// Pending once, without a wake-up: the stream returns the item just handed
/// over instead, and the consumer's next poll resumes the block.
struct SuspendOnce {
    suspended: bool,
}

impl Future for SuspendOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.suspended {
            Poll::Ready(())
        } else {
            self.suspended = true;
            Poll::Pending
        }
    }
}

/// The stream of what `body` gives to its [`Yielder`].
pub(crate) struct Generator<'a, T> {
    slot: Slot<T>,
    body: Option<BoxFuture<'a, ()>>,
}

pub(crate) fn generate<'a, T, F, Fut>(body: F) -> Generator<'a, T>
where
    F: FnOnce(Yielder<T>) -> Fut,
    Fut: Future<Output = ()> + Send + 'a,
{
    let slot: Slot<T> = Arc::new(Mutex::new(None));
    let body = body(Yielder {
        slot: Arc::clone(&slot),
    });
    Generator {
        slot,
        body: Some(Box::pin(body)),
    }
}

impl<T> Generator<'_, T> {
    fn take(&self) -> Option<T> {
        self.slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl<T> Stream for Generator<'_, T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let Some(body) = self.body.as_mut() else {
            return Poll::Ready(None);
        };
        match body.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.body = None;
                Poll::Ready(self.take())
            }
            Poll::Pending => match self.take() {
                Some(item) => Poll::Ready(Some(item)),
                None => Poll::Pending,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[tokio::test]
    async fn yields_items_in_order_and_ends() {
        let owned = vec![1, 2, 3];
        let stream = generate(move |y| async move {
            for n in &owned {
                tokio::task::yield_now().await;
                y.give(*n).await;
            }
        });
        assert_eq!(stream.collect::<Vec<_>>().await, vec![1, 2, 3]);
    }

    #[tokio::test]
    async fn dropping_the_stream_drops_the_body() {
        struct Flag(Arc<std::sync::atomic::AtomicBool>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Flag(Arc::clone(&dropped));
        let mut stream = generate(move |y| async move {
            let _flag = flag;
            for n in 0.. {
                y.give(n).await;
            }
        });
        assert_eq!(stream.next().await, Some(0));
        drop(stream);
        assert!(dropped.load(std::sync::atomic::Ordering::SeqCst));
    }
}
