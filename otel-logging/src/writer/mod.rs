//! Where lines go, and how: [`LogTarget`], [`Delivery`] and the [`LogWriter`]
//! handle that reports what was written and dropped.

#[cfg(any(unix, windows))]
mod at_exit;
mod blocking;
mod memory;
mod non_blocking;
mod registry;

pub use memory::MemoryBuffer;
pub use registry::flush_all;

use std::cell::Cell;
use std::fmt;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

thread_local! {
    static WRITER_THREAD: Cell<bool> = const { Cell::new(false) };
}

fn mark_writer_thread() {
    WRITER_THREAD.with(|w| w.set(true));
}

/// Whether this is a background writer thread, whose events are not logged.
pub(crate) fn is_writer_thread() -> bool {
    WRITER_THREAD.with(Cell::get)
}

/// The destination of the lines.
///
/// ```
/// use otel_logging::{JsonLayer, LogTarget};
/// let path = std::env::temp_dir().join("otel-logging-doc-example.log");
/// let layer = JsonLayer::builder().target(LogTarget::File(path)).build()?;
/// let to_stderr = JsonLayer::builder().target(LogTarget::Stderr).build()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub enum LogTarget {
    /// Standard output (the default).
    Stdout,
    /// Standard error.
    Stderr,
    /// A file, created if missing and appended to.
    File(PathBuf),
    /// An in-memory buffer, for tests.
    Memory(MemoryBuffer),
    /// Any writer.
    Writer(Box<dyn Write + Send>),
}

impl fmt::Debug for LogTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stdout => f.write_str("Stdout"),
            Self::Stderr => f.write_str("Stderr"),
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            Self::Memory(_) => f.write_str("Memory"),
            Self::Writer(_) => f.write_str("Writer"),
        }
    }
}

impl LogTarget {
    fn open(self) -> io::Result<Box<dyn Write + Send>> {
        Ok(match self {
            Self::Stdout => Box::new(io::stdout()),
            Self::Stderr => Box::new(io::stderr()),
            Self::File(path) => Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?,
            ),
            Self::Memory(buffer) => Box::new(buffer),
            Self::Writer(writer) => writer,
        })
    }
}

/// How lines reach the target.
///
/// ```
/// use otel_logging::{Delivery, JsonLayer};
/// let small_buffer = JsonLayer::builder()
///     .delivery(Delivery::NonBlocking { capacity_bytes: 256 << 10 })
///     .build()?;
/// let blocking = JsonLayer::builder().delivery(Delivery::Blocking).build()?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The event's thread copies the line into a bounded buffer and returns;
    /// a background thread (`otel-logging`) writes the buffer out. When
    /// `capacity_bytes` are waiting, new lines are dropped and counted
    /// rather than stalling the request path. The default, with 4 MiB.
    NonBlocking {
        /// The most bytes waiting to be written.
        capacity_bytes: usize,
    },
    /// The event's thread writes the line itself, under a lock. Nothing is
    /// dropped, but a slow target slows the application down.
    Blocking,
}

impl Default for Delivery {
    fn default() -> Self {
        Self::NonBlocking {
            capacity_bytes: 4 << 20,
        }
    }
}

/// What a [`LogWriter`] did so far.
///
/// ```
/// let stats = otel_logging::WriterStats { written: 10, dropped_full: 2, failed: 1 };
/// assert_eq!(stats.lost(), 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriterStats {
    /// Lines handed to the target.
    pub written: u64,
    /// Lines dropped because the buffer was full.
    pub dropped_full: u64,
    /// Lines lost because the target returned an error.
    pub failed: u64,
}

impl WriterStats {
    /// Every line lost: `dropped_full + failed`.
    ///
    /// ```
    /// let stats = otel_logging::WriterStats { written: 10, dropped_full: 2, failed: 1 };
    /// assert_eq!(stats.lost(), 3);
    /// ```
    pub fn lost(&self) -> u64 {
        self.dropped_full + self.failed
    }
}

pub(crate) enum Output {
    NonBlocking(non_blocking::NonBlocking),
    Blocking(blocking::Blocking),
}

/// A handle on the output of a [`JsonLayer`](crate::JsonLayer): counts and
/// flushing. Cheap to clone. The background thread stops once the layer and
/// every handle are dropped, after writing what is waiting.
///
/// ```
/// use otel_logging::{JsonLayer, LogTarget, MemoryBuffer};
/// use std::time::Duration;
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let buffer = MemoryBuffer::new();
/// let layer = JsonLayer::builder().target(LogTarget::Memory(buffer.clone())).build()?;
/// let writer = layer.writer().clone();
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
///     tracing::info!("hello");
/// });
/// assert!(writer.flush(Duration::from_secs(5)));
/// assert_eq!(writer.stats().written, 1);
/// assert_eq!(writer.stats().lost(), 0);
/// assert_eq!(buffer.lines().len(), 1);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct LogWriter {
    output: Arc<Output>,
}

impl fmt::Debug for LogWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogWriter")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl LogWriter {
    /// Opens `target` (only [`LogTarget::File`] can fail) and, for
    /// [`Delivery::NonBlocking`], starts the background thread. Usually
    /// [`JsonLayerBuilder::build`](crate::JsonLayerBuilder::build) does this
    /// for you; the writer on its own has no public way to write lines.
    ///
    /// ```
    /// use otel_logging::{Delivery, LogTarget, LogWriter};
    /// let writer = LogWriter::new(LogTarget::Stderr, Delivery::default())?;
    /// assert_eq!(writer.stats().written, 0);
    /// let missing_dir = std::env::temp_dir().join("no-such-dir").join("app.log");
    /// assert!(LogWriter::new(LogTarget::File(missing_dir), Delivery::Blocking).is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(target: LogTarget, delivery: Delivery) -> io::Result<LogWriter> {
        let target = target.open()?;
        let output = Arc::new(match delivery {
            Delivery::NonBlocking { capacity_bytes } => {
                #[cfg(any(unix, windows))]
                at_exit::flush_at_exit();
                Output::NonBlocking(non_blocking::NonBlocking::start(target, capacity_bytes)?)
            }
            Delivery::Blocking => Output::Blocking(blocking::Blocking::new(target)),
        });
        registry::register(&output);
        Ok(LogWriter { output })
    }

    /// Hands one complete line (ending with `\n`) to the target.
    pub(crate) fn write_line(&self, line: &[u8]) {
        match &*self.output {
            Output::NonBlocking(o) => o.push(line),
            Output::Blocking(o) => o.write(line),
        }
    }

    /// Waits until every line accepted so far has been written and the
    /// target flushed, at most `timeout`. Returns whether it finished.
    ///
    /// ```
    /// use otel_logging::{JsonLayer, LogTarget, MemoryBuffer};
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// let buffer = MemoryBuffer::new();
    /// let layer = JsonLayer::builder().target(LogTarget::Memory(buffer.clone())).build()?;
    /// let writer = layer.writer().clone();
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     tracing::info!("one");
    ///     tracing::info!("two");
    /// });
    /// assert!(writer.flush(std::time::Duration::from_secs(5)));
    /// assert_eq!(buffer.lines().len(), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn flush(&self, timeout: Duration) -> bool {
        self.output.flush(timeout)
    }

    /// Lines written and lost so far.
    ///
    /// ```
    /// use otel_logging::{Delivery, JsonLayer, LogTarget};
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// let layer = JsonLayer::builder()
    ///     .target(LogTarget::Writer(Box::new(std::io::sink())))
    ///     .delivery(Delivery::Blocking)
    ///     .build()?;
    /// let writer = layer.writer().clone();
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     tracing::info!("hello");
    /// });
    /// let stats = writer.stats();
    /// assert_eq!((stats.written, stats.lost()), (1, 0));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stats(&self) -> WriterStats {
        match &*self.output {
            Output::NonBlocking(o) => o.stats(),
            Output::Blocking(o) => o.stats(),
        }
    }
}

impl Output {
    fn flush(&self, timeout: Duration) -> bool {
        match self {
            Output::NonBlocking(o) => o.flush(timeout),
            Output::Blocking(o) => o.flush(),
        }
    }
}
