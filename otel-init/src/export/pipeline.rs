//! A bounded batching queue in front of an exporter.
//!
//! The application's threads never wait and never wake anyone per item.
//! Each thread first stages its items in a small buffer of its own (up to
//! [`STAGE_CAPACITY`]), which stays in that thread's cache; a full stage
//! moves, as one chunk, into a fixed-size lock-free queue shared with the
//! worker. When that queue is full the chunk is dropped and counted. So the
//! shared queue, whose slots the worker last touched from another core, is
//! written once per chunk instead of once per item.
//!
//! The worker, a task on the export runtime, wakes when a full batch is
//! waiting, when the schedule delay passes (it then also takes what the
//! stages hold), or for a flush or shutdown request (which callers wait for
//! with their own timeout); it exports each batch under the batch deadline.

use super::runtime::ExportRuntime;
use super::stats::SignalStats;
use crate::config::BatchConfig;
use crossbeam_queue::ArrayQueue;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::Duration;
use thread_local::ThreadLocal;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

/// A boxed future, as returned by [`BatchSink::export`].
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Items a thread stages before they move to the shared queue as one chunk
/// (fewer when the batch or the queue is smaller). A stage holds at most
/// this many items per thread on top of the queue's `max_queue_size`.
pub(crate) const STAGE_CAPACITY: usize = 32;

/// The end of a pipeline: an OTLP client or a console printer.
pub(crate) trait BatchSink<T>: Send + 'static {
    /// Exports one batch; `Err` carries a reason for the diagnostics.
    fn export(&mut self, batch: Vec<T>) -> BoxFuture<'_, Result<(), String>>;
    /// Called after a flush or before shutdown has drained the queue.
    fn flush(&mut self) {}
    /// Called on the worker's schedule (every schedule delay), after it has
    /// exported everything queued and staged so far, whether or not that was
    /// anything: a sink that holds items uses it as its timer.
    fn tick(&mut self) {}
}

enum Control {
    Flush(std::sync::mpsc::Sender<()>),
    Shutdown(std::sync::mpsc::Sender<()>),
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Control::Flush(_) => "Flush",
            Control::Shutdown(_) => "Shutdown",
        })
    }
}

/// What the application side and the worker share.
struct Shared<T: Send> {
    /// Chunks of staged items.
    queue: ArrayQueue<Vec<T>>,
    /// Items in the chunks of `queue`.
    queued: AtomicUsize,
    /// Each thread's stage: locked by its own thread on every push (never
    /// waited for), by the worker only when it takes partial stages
    /// (schedule delay, flush, shutdown).
    stages: ThreadLocal<Mutex<Vec<T>>>,
    stage_capacity: usize,
    /// `max_queue_size`, in items.
    max_queued: usize,
    /// Signalled when a full batch is waiting.
    batch_ready: Notify,
    /// Items the worker has taken and not yet exported.
    held: AtomicUsize,
    closed: AtomicBool,
    batch_size: usize,
    stats: Arc<SignalStats>,
}

impl<T: Send> Shared<T> {
    /// Items in the stages of all threads.
    fn staged(&self) -> usize {
        self.stages.iter().map(|stage| lock(stage).len()).sum()
    }
}

/// Adds `item` to `stage`; returns the stage's items when it is full.
fn stage_item<T>(stage: &mut Vec<T>, item: T, capacity: usize) -> Option<Vec<T>> {
    stage.push(item);
    (stage.len() >= capacity).then(|| std::mem::replace(stage, Vec::with_capacity(capacity)))
}

/// A stage's lock; a panic elsewhere while it was held leaves a valid `Vec`.
fn lock<T>(stage: &Mutex<Vec<T>>) -> MutexGuard<'_, Vec<T>> {
    stage.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The application-facing end of a pipeline.
pub(crate) struct Pipeline<T: Send> {
    shared: Arc<Shared<T>>,
    control: mpsc::UnboundedSender<Control>,
}

impl<T: Send> std::fmt::Debug for Pipeline<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("queued", &self.shared.queued.load(Ordering::Relaxed))
            .field("capacity", &self.shared.max_queued)
            .finish()
    }
}

impl<T: Send + 'static> Pipeline<T> {
    pub(crate) fn start(
        runtime: &ExportRuntime,
        config: BatchConfig,
        sink: Box<dyn BatchSink<T>>,
        stats: Arc<SignalStats>,
    ) -> Self {
        let max_queued = config.max_queue_size.max(1);
        let batch_size = config.max_export_batch_size.clamp(1, max_queued);
        let stage_capacity = STAGE_CAPACITY.min(batch_size);
        let shared = Arc::new(Shared {
            queue: ArrayQueue::new((max_queued / stage_capacity).max(1)),
            queued: AtomicUsize::new(0),
            stages: ThreadLocal::new(),
            stage_capacity,
            max_queued,
            batch_ready: Notify::new(),
            held: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            batch_size,
            stats,
        });
        let (control, control_rx) = mpsc::unbounded_channel();
        let worker = Worker {
            shared: shared.clone(),
            control: control_rx,
            config,
            sink,
            carry: Vec::new(),
        };
        runtime.handle().spawn(worker.run());
        Self { shared, control }
    }

    /// Queues an item without ever blocking, and without waking the worker
    /// unless a full batch is now waiting.
    pub(crate) fn push(&self, item: T) {
        let s = &self.shared;
        if s.closed.load(Ordering::Relaxed) {
            s.stats.on_abandoned(1);
            return;
        }
        let stage = s
            .stages
            .get_or(|| Mutex::new(Vec::with_capacity(s.stage_capacity)));
        let chunk = match stage.try_lock() {
            Ok(mut stage) => stage_item(&mut stage, item, s.stage_capacity),
            Err(TryLockError::Poisoned(poisoned)) => {
                stage_item(&mut poisoned.into_inner(), item, s.stage_capacity)
            }
            // The worker is taking this stage (at most 32 moves): the item
            // is queued on its own rather than waited for.
            Err(TryLockError::WouldBlock) => Some(vec![item]),
        };
        let Some(chunk) = chunk else { return };
        let n = chunk.len();
        // Counted before the chunk is visible, so that the worker's
        // subtraction never goes below zero.
        let queued = s.queued.fetch_add(n, Ordering::Relaxed) + n;
        match s.queue.push(chunk) {
            Ok(()) => {
                if queued >= s.batch_size {
                    s.batch_ready.notify_one();
                }
            }
            Err(_) => {
                s.queued.fetch_sub(n, Ordering::Relaxed);
                s.stats.on_queue_full(n, s.max_queued);
            }
        }
    }

    /// Exports everything queued so far; waits at most `timeout`.
    pub(crate) fn flush(&self, timeout: Duration) -> Result<(), String> {
        self.request(Control::Flush, timeout, "flush")
    }

    /// Exports everything queued, then stops; waits at most `timeout`.
    /// Whatever is still queued when the deadline passes is counted as lost.
    pub(crate) fn shutdown(&self, timeout: Duration) -> Result<(), String> {
        let result = self.request(Control::Shutdown, timeout, "shutdown");
        let s = &self.shared;
        s.closed.store(true, Ordering::Relaxed);
        // Whatever is left: nothing after a clean shutdown; what the deadline
        // cut off, or what a stopped worker never took.
        let abandoned =
            s.queued.load(Ordering::Relaxed) + s.held.load(Ordering::Relaxed) + s.staged();
        if abandoned > 0 {
            s.stats.on_abandoned(abandoned as u64);
        }
        result
    }

    fn request(
        &self,
        make: fn(std::sync::mpsc::Sender<()>) -> Control,
        timeout: Duration,
        what: &str,
    ) -> Result<(), String> {
        let (tx, rx) = std::sync::mpsc::channel();
        if self.control.send(make(tx)).is_err() {
            return Ok(()); // already shut down
        }
        match rx.recv_timeout(timeout) {
            Ok(()) => Ok(()),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Ok(()),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                Err(format!("{what} did not finish within {timeout:?}"))
            }
        }
    }
}

struct Worker<T: Send> {
    shared: Arc<Shared<T>>,
    control: mpsc::UnboundedReceiver<Control>,
    config: BatchConfig,
    sink: Box<dyn BatchSink<T>>,
    /// Items taken beyond the last full batch, exported first next time
    /// (counted in `held`).
    carry: Vec<T>,
}

impl<T: Send + 'static> Worker<T> {
    async fn run(mut self) {
        let mut deadline = Instant::now() + self.config.schedule_delay;
        loop {
            tokio::select! {
                biased;
                control = self.control.recv() => {
                    let Some(control) = control else { return };
                    self.export_queued(false).await;
                    self.sink.flush();
                    match control {
                        Control::Flush(reply) => { let _ = reply.send(()); }
                        Control::Shutdown(reply) => { let _ = reply.send(()); return; }
                    }
                    deadline = Instant::now() + self.config.schedule_delay;
                }
                _ = self.shared.batch_ready.notified() => {
                    self.export_queued(true).await;
                }
                _ = tokio::time::sleep_until(deadline) => {
                    self.export_queued(false).await;
                    self.sink.tick();
                    deadline = Instant::now() + self.config.schedule_delay;
                }
            }
        }
    }

    /// Exports queued items in batches: only full ones when `full_only`,
    /// else everything, the threads' partial stages included.
    async fn export_queued(&mut self, full_only: bool) {
        let size = self.shared.batch_size;
        let mut stages_taken = full_only;
        loop {
            let mut batch = std::mem::take(&mut self.carry);
            self.take_chunks(&mut batch, size);
            if batch.len() < size && !stages_taken {
                // Only once the queue is empty, so that each thread's items
                // stay in order.
                stages_taken = true;
                self.take_stages(&mut batch);
            }
            if batch.len() > size {
                self.carry = batch.split_off(size);
            }
            if batch.is_empty() || (full_only && batch.len() < size) {
                self.carry = batch;
                return;
            }
            self.export(batch).await;
        }
    }

    /// Moves queued chunks into `batch` until it holds at least `size` items.
    fn take_chunks(&self, batch: &mut Vec<T>, size: usize) {
        let s = &self.shared;
        while batch.len() < size {
            let Some(chunk) = s.queue.pop() else { return };
            s.held.fetch_add(chunk.len(), Ordering::Relaxed);
            s.queued.fetch_sub(chunk.len(), Ordering::Relaxed);
            // Room for the whole batch at once, not grown chunk by chunk
            // (each growth copies every item again).
            batch.reserve(size.max(batch.len() + chunk.len()) - batch.len());
            batch.extend(chunk);
        }
    }

    /// Moves what every thread has staged into `batch`.
    fn take_stages(&self, batch: &mut Vec<T>) {
        let s = &self.shared;
        for stage in s.stages.iter() {
            let mut stage = lock(stage);
            s.held.fetch_add(stage.len(), Ordering::Relaxed);
            batch.append(&mut *stage);
        }
    }

    async fn export(&mut self, batch: Vec<T>) {
        let n = batch.len();
        let result =
            tokio::time::timeout(self.config.export_timeout, self.sink.export(batch)).await;
        self.shared.held.fetch_sub(n, Ordering::Relaxed);
        let stats = &self.shared.stats;
        match result {
            Ok(Ok(())) => {
                stats.on_exported(n);
                // Dropping has stopped once an export succeeded and the queue
                // has drained to half: a hysteresis, so that a queue that hovers
                // near full does not warn on every batch.
                if self.shared.queued.load(Ordering::Relaxed) <= self.shared.max_queued / 2 {
                    stats.on_queue_room();
                }
            }
            Ok(Err(reason)) => stats.on_failed(n, &reason),
            Err(_) => stats.on_failed(
                n,
                &format!(
                    "the batch deadline of {:?} passed",
                    self.config.export_timeout
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Signal;
    use std::sync::Mutex;

    struct Collect(Arc<Mutex<Vec<Vec<u32>>>>, Duration);

    impl BatchSink<u32> for Collect {
        fn export(&mut self, batch: Vec<u32>) -> BoxFuture<'_, Result<(), String>> {
            let store = self.0.clone();
            let delay = self.1;
            Box::pin(async move {
                tokio::time::sleep(delay).await;
                store.lock().map_err(|e| e.to_string())?.push(batch);
                Ok(())
            })
        }
    }

    fn config(queue: usize, batch: usize) -> BatchConfig {
        BatchConfig {
            schedule_delay: Duration::from_secs(3600),
            export_timeout: Duration::from_secs(5),
            max_queue_size: queue,
            max_export_batch_size: batch,
        }
    }

    #[test]
    fn batches_by_size_and_flushes_the_rest() {
        let rt = ExportRuntime::start().expect("runtime");
        let store = Arc::new(Mutex::new(Vec::new()));
        let stats = Arc::new(SignalStats::new(Signal::Traces));
        let p = Pipeline::start(
            &rt,
            config(100, 4),
            Box::new(Collect(store.clone(), Duration::ZERO)),
            stats.clone(),
        );
        for i in 0..10 {
            p.push(i);
        }
        p.flush(Duration::from_secs(5)).expect("flush");
        let batches = store.lock().expect("lock").clone();
        assert_eq!(
            batches.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![4, 4, 2]
        );
        assert_eq!(batches.concat(), (0..10).collect::<Vec<_>>());
        assert_eq!(stats.report().exported, 10);
    }

    /// A pipeline for several threads (queue 1000, batches of 100), its
    /// runtime, what it exported and its counters.
    #[allow(clippy::type_complexity)]
    fn shared_pipeline() -> (
        ExportRuntime,
        Arc<Mutex<Vec<Vec<u32>>>>,
        Arc<SignalStats>,
        Arc<Pipeline<u32>>,
    ) {
        shared_pipeline_with(config(1000, 100), Duration::ZERO)
    }

    /// The same with another configuration and an exporter that takes
    /// `export_time` per batch.
    #[allow(clippy::type_complexity)]
    fn shared_pipeline_with(
        config: BatchConfig,
        export_time: Duration,
    ) -> (
        ExportRuntime,
        Arc<Mutex<Vec<Vec<u32>>>>,
        Arc<SignalStats>,
        Arc<Pipeline<u32>>,
    ) {
        let rt = ExportRuntime::start().expect("runtime");
        let store = Arc::new(Mutex::new(Vec::new()));
        let stats = Arc::new(SignalStats::new(Signal::Traces));
        let p = Arc::new(Pipeline::start(
            &rt,
            config,
            Box::new(Collect(store.clone(), export_time)),
            stats.clone(),
        ));
        (rt, store, stats, p)
    }

    #[test]
    fn flush_takes_what_other_threads_staged_even_after_they_ended() {
        let (_rt, store, stats, p) = shared_pipeline();
        // Each thread stages fewer items than a chunk, plus one thread a
        // full chunk and some: both partial stages and queued chunks.
        let counts = [3, 5, STAGE_CAPACITY + 7];
        let threads: Vec<_> = counts
            .iter()
            .enumerate()
            .map(|(t, &n)| {
                let p = p.clone();
                std::thread::spawn(move || {
                    for i in 0..n {
                        p.push((t as u32) * 1000 + i as u32);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("thread");
        }
        p.flush(Duration::from_secs(5)).expect("flush");
        let exported = store.lock().expect("lock").concat();
        for (t, &n) in counts.iter().enumerate() {
            let of_thread: Vec<u32> = exported
                .iter()
                .copied()
                .filter(|v| v / 1000 == t as u32)
                .collect();
            let expected: Vec<u32> = (0..n as u32).map(|i| t as u32 * 1000 + i).collect();
            assert_eq!(of_thread, expected, "thread {t}, in order");
        }
        assert_eq!(stats.report().exported, counts.iter().sum::<usize>() as u64);
    }

    #[test]
    fn a_push_does_not_wait_for_a_stage_someone_else_holds() {
        let (_rt, store, stats, p) = shared_pipeline();
        p.push(1); // creates this thread's stage
        let (locked_tx, locked_rx) = std::sync::mpsc::channel();
        let (pushed_tx, pushed_rx) = std::sync::mpsc::channel::<()>();
        let holder = {
            let p = p.clone();
            std::thread::spawn(move || {
                let stage = p.shared.stages.iter().next().expect("the stage");
                let _held = lock(stage);
                locked_tx.send(()).expect("send");
                // Held until the push has returned, or given up after 5 s.
                pushed_rx.recv_timeout(Duration::from_secs(5)).is_ok()
            })
        };
        locked_rx.recv().expect("locked");
        p.push(2);
        pushed_tx.send(()).expect("send");
        assert!(
            holder.join().expect("holder"),
            "the push waited for the stage"
        );
        p.flush(Duration::from_secs(5)).expect("flush");
        let mut exported = store.lock().expect("lock").concat();
        exported.sort_unstable();
        assert_eq!(exported, vec![1, 2]);
        assert_eq!(stats.report().exported, 2);
    }

    #[test]
    fn every_item_from_racing_threads_is_exported_or_counted_once() {
        // A small queue and a slow exporter, so that some chunks are dropped
        // while flushes take the threads' stages from under them.
        let (_rt, store, stats, p) =
            shared_pipeline_with(config(256, 64), Duration::from_millis(1));
        let (threads, per_thread) = (4u32, 5_000u32);
        let pushers: Vec<_> = (0..threads)
            .map(|t| {
                let p = p.clone();
                std::thread::spawn(move || {
                    for i in 0..per_thread {
                        p.push(t * per_thread + i);
                    }
                })
            })
            .collect();
        for _ in 0..20 {
            p.flush(Duration::from_secs(5)).expect("flush");
        }
        for pusher in pushers {
            pusher.join().expect("pusher");
        }
        p.shutdown(Duration::from_secs(5)).expect("shutdown");
        let mut exported = store.lock().expect("lock").concat();
        let r = stats.report();
        assert_eq!(r.exported, exported.len() as u64, "{r:?}");
        assert_eq!(
            r.exported + r.dropped_queue_full + r.dropped_at_shutdown,
            u64::from(threads * per_thread),
            "{r:?}"
        );
        exported.sort_unstable();
        exported.dedup();
        assert_eq!(exported.len() as u64, r.exported, "no item exported twice");
    }

    #[test]
    fn a_full_queue_drops_and_counts_without_blocking() {
        let rt = ExportRuntime::start().expect("runtime");
        let store = Arc::new(Mutex::new(Vec::new()));
        let stats = Arc::new(SignalStats::new(Signal::Traces));
        // The exporter is slow: one batch of 2 takes 10 s, the queue holds 3.
        let p = Pipeline::start(
            &rt,
            config(3, 2),
            Box::new(Collect(store, Duration::from_secs(10))),
            stats.clone(),
        );
        for i in 0..100 {
            p.push(i);
        }
        let r = stats.report();
        assert!(r.dropped_queue_full >= 95, "{r:?}");
        // Shutdown gives up at its deadline and counts what it abandons.
        assert!(p.shutdown(Duration::from_millis(100)).is_err());
        let r = stats.report();
        assert_eq!(r.exported, 0);
        assert_eq!(r.dropped_queue_full + r.dropped_at_shutdown, 100, "{r:?}");
    }

    #[test]
    fn schedule_delay_exports_partial_batches() {
        let rt = ExportRuntime::start().expect("runtime");
        let store = Arc::new(Mutex::new(Vec::new()));
        let stats = Arc::new(SignalStats::new(Signal::Logs));
        let mut c = config(10, 10);
        c.schedule_delay = Duration::from_millis(20);
        let p = Pipeline::start(
            &rt,
            c,
            Box::new(Collect(store.clone(), Duration::ZERO)),
            stats.clone(),
        );
        p.push(7);
        let start = std::time::Instant::now();
        while stats.report().exported == 0 && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(store.lock().expect("lock").concat(), vec![7]);
    }
}
