//! [`Delivery::NonBlocking`](super::Delivery::NonBlocking): a bounded byte
//! buffer that the event's thread appends to, and a background thread that
//! writes it out in batches.
//!
//! Appending costs a short critical section and a copy, with no allocation
//! once the buffers have grown. The background thread is not woken per line:
//! while lines keep coming it looks every millisecond, or sooner when a
//! quarter of the buffer (at most 64 KiB) is waiting; once idle it sleeps
//! until the next line, so an idle service costs nothing.

use super::WriterStats;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// How long the writer waits for more lines before looking again.
const TICK: Duration = Duration::from_millis(1);
/// Empty ticks before the writer sleeps until woken.
const IDLE_TICKS: u32 = 20;
/// Each of the two buffers starts this large and grows up to the capacity.
const INITIAL_BUFFER: usize = 64 << 10;

pub(crate) struct NonBlocking {
    shared: Arc<Shared>,
    worker: Thread,
}

struct Shared {
    state: Mutex<State>,
    done: Condvar,
    capacity: usize,
    wake_at: usize,
    written: AtomicU64,
    dropped_full: AtomicU64,
    failed: AtomicU64,
}

#[derive(Default)]
struct State {
    pending: Vec<u8>,
    pending_lines: u64,
    /// Lines accepted since the start.
    accepted: u64,
    /// Lines finished (written or failed) since the start.
    finished: u64,
    /// The writer sleeps until unparked.
    sleeping: bool,
    /// An unpark is on its way.
    wake_requested: bool,
    closing: bool,
    flush_waiters: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl NonBlocking {
    pub(crate) fn start(target: Box<dyn Write + Send>, capacity: usize) -> io::Result<Self> {
        let capacity = capacity.max(1);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                pending: Vec::with_capacity(capacity.min(INITIAL_BUFFER)),
                ..State::default()
            }),
            done: Condvar::new(),
            capacity,
            wake_at: (capacity / 4).clamp(1, 64 << 10),
            written: AtomicU64::new(0),
            dropped_full: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        });
        let worker_shared = Arc::clone(&shared);
        let handle = thread::Builder::new()
            .name("otel-logging".to_owned())
            .spawn(move || run(&worker_shared, target))?;
        Ok(Self {
            shared,
            worker: handle.thread().clone(),
        })
    }

    pub(crate) fn push(&self, line: &[u8]) {
        let mut state = self.shared.lock();
        if state.pending.len() + line.len() > self.shared.capacity {
            drop(state);
            self.shared.dropped_full.fetch_add(1, Ordering::Relaxed);
            return;
        }
        state.pending.extend_from_slice(line);
        state.pending_lines += 1;
        state.accepted += 1;
        let wake =
            state.sleeping || (!state.wake_requested && state.pending.len() >= self.shared.wake_at);
        if wake {
            state.sleeping = false;
            state.wake_requested = true;
        }
        drop(state);
        if wake {
            self.worker.unpark();
        }
    }

    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        let target = state.accepted;
        if state.finished >= target {
            return true;
        }
        state.flush_waiters += 1;
        state.sleeping = false;
        state.wake_requested = true;
        self.worker.unpark();
        let finished = loop {
            if state.finished >= target {
                break true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break false;
            }
            state = self
                .shared
                .done
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        };
        state.flush_waiters -= 1;
        finished
    }

    pub(crate) fn stats(&self) -> WriterStats {
        WriterStats {
            written: self.shared.written.load(Ordering::Relaxed),
            dropped_full: self.shared.dropped_full.load(Ordering::Relaxed),
            failed: self.shared.failed.load(Ordering::Relaxed),
        }
    }
}

impl Drop for NonBlocking {
    fn drop(&mut self) {
        self.shared.lock().closing = true;
        self.worker.unpark();
    }
}

/// The background thread: take what is waiting, write it, repeat.
fn run(shared: &Shared, mut target: Box<dyn Write + Send>) {
    // A target that logs through `tracing` must not feed itself. (Not with
    // `set_default(NoSubscriber)`: any scoped subscriber moves every thread of
    // the process off tracing's fast path for the global one.)
    super::mark_writer_thread();
    let mut batch: Vec<u8> = Vec::with_capacity(shared.capacity.min(INITIAL_BUFFER));
    let mut idle_ticks = 0;
    let mut warnings = DropWarnings::default();
    loop {
        let (lines, upto) = {
            let mut state = shared.lock();
            state.sleeping = false;
            state.wake_requested = false;
            if state.pending.is_empty() {
                if state.closing {
                    break;
                }
                if idle_ticks >= IDLE_TICKS {
                    state.sleeping = true;
                    drop(state);
                    thread::park();
                } else {
                    drop(state);
                    idle_ticks += 1;
                    thread::park_timeout(TICK);
                }
                continue;
            }
            idle_ticks = 0;
            std::mem::swap(&mut state.pending, &mut batch);
            (std::mem::take(&mut state.pending_lines), state.accepted)
        };
        let result = target.write_all(&batch).and_then(|()| target.flush());
        batch.clear();
        let counter = if result.is_ok() {
            &shared.written
        } else {
            &shared.failed
        };
        counter.fetch_add(lines, Ordering::Relaxed);
        {
            let mut state = shared.lock();
            state.finished = upto;
            if state.flush_waiters > 0 {
                shared.done.notify_all();
            }
        }
        warnings.report(shared, result.err());
        if !warnings.dropping {
            // Let lines accumulate for a tick instead of waking per line.
            thread::park_timeout(TICK);
        }
    }
    let _ = target.flush();
}

/// One warning on stderr when dropping or failing starts, one when it stops.
#[derive(Default)]
struct DropWarnings {
    dropped_seen: u64,
    dropping: bool,
    failing: bool,
}

impl DropWarnings {
    fn report(&mut self, shared: &Shared, error: Option<io::Error>) {
        let dropped = shared.dropped_full.load(Ordering::Relaxed);
        if dropped > self.dropped_seen && !self.dropping {
            self.dropping = true;
            eprintln!(
                "otel-logging warning: log buffer is full ({} bytes): dropping new lines until the writer catches up",
                shared.capacity
            );
        } else if dropped == self.dropped_seen && self.dropping {
            self.dropping = false;
            eprintln!(
                "otel-logging warning: log buffer accepts again; {dropped} lines dropped so far"
            );
        }
        self.dropped_seen = dropped;
        match (error, self.failing) {
            (Some(e), false) => {
                self.failing = true;
                eprintln!(
                    "otel-logging warning: writing log lines failed: {e} (warning once until it recovers)"
                );
            }
            (None, true) => {
                self.failing = false;
                eprintln!(
                    "otel-logging warning: writing log lines recovered; {} lines lost so far",
                    shared.failed.load(Ordering::Relaxed)
                );
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryBuffer;

    /// A target that blocks until released, to fill the buffer.
    struct Gate(Arc<(Mutex<bool>, Condvar)>, MemoryBuffer);

    impl Write for Gate {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let (open, cv) = &*self.0;
            let mut open = open.lock().unwrap_or_else(PoisonError::into_inner);
            while !*open {
                open = cv.wait(open).unwrap_or_else(PoisonError::into_inner);
            }
            self.1.write(buf)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_arrive_in_order_and_flush_waits_for_them() {
        let buffer = MemoryBuffer::new();
        let writer = NonBlocking::start(Box::new(buffer.clone()), 1 << 20).expect("start");
        for i in 0..1000 {
            writer.push(format!("{i}\n").as_bytes());
        }
        assert!(writer.flush(Duration::from_secs(5)));
        let lines = buffer.lines();
        assert_eq!(lines.len(), 1000);
        assert!(lines.iter().enumerate().all(|(i, l)| *l == i.to_string()));
        assert_eq!(writer.stats().written, 1000);
    }

    #[test]
    fn a_full_buffer_drops_and_counts_instead_of_blocking() {
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let buffer = MemoryBuffer::new();
        let writer = NonBlocking::start(Box::new(Gate(Arc::clone(&gate), buffer.clone())), 100)
            .expect("start");
        let start = Instant::now();
        for _ in 0..1000 {
            writer.push(b"0123456789\n");
        }
        assert!(start.elapsed() < Duration::from_secs(1), "never blocks");
        assert!(
            !writer.flush(Duration::from_millis(20)),
            "the target is stuck"
        );
        let stats = writer.stats();
        assert!(stats.dropped_full >= 1000 - 2 * 9, "{stats:?}");
        *gate.0.lock().unwrap_or_else(PoisonError::into_inner) = true;
        gate.1.notify_all();
        assert!(writer.flush(Duration::from_secs(5)));
        let stats = writer.stats();
        assert_eq!(stats.written + stats.dropped_full, 1000, "{stats:?}");
        assert_eq!(buffer.lines().len() as u64, stats.written);
    }

    #[test]
    fn dropping_the_writer_writes_what_is_waiting() {
        let buffer = MemoryBuffer::new();
        let writer = NonBlocking::start(Box::new(buffer.clone()), 1 << 20).expect("start");
        writer.push(b"last words\n");
        drop(writer);
        let deadline = Instant::now() + Duration::from_secs(5);
        while buffer.lines().is_empty() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(buffer.lines(), ["last words"]);
    }

    #[test]
    fn write_errors_are_counted() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let writer = NonBlocking::start(Box::new(Broken), 1 << 20).expect("start");
        writer.push(b"a\n");
        writer.push(b"b\n");
        assert!(writer.flush(Duration::from_secs(5)));
        assert_eq!(writer.stats().failed, 2);
        assert_eq!(writer.stats().written, 0);
    }
}
