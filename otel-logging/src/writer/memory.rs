//! [`MemoryBuffer`]: a target that keeps the lines, for tests.

use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Lines kept in memory. Clones share the same buffer.
///
/// ```
/// use std::io::Write;
/// let buffer = otel_logging::MemoryBuffer::new();
/// buffer.clone().write_all(b"{\"a\":1}\n{\"a\":2}\n")?;
/// assert_eq!(buffer.lines(), ["{\"a\":1}", "{\"a\":2}"]);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryBuffer {
    bytes: Arc<Mutex<Vec<u8>>>,
}

impl MemoryBuffer {
    /// An empty buffer.
    ///
    /// ```
    /// let buffer = otel_logging::MemoryBuffer::new();
    /// assert!(buffer.lines().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        self.bytes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Everything written so far (invalid UTF-8 is replaced).
    ///
    /// ```
    /// use std::io::Write;
    /// let buffer = otel_logging::MemoryBuffer::new();
    /// buffer.clone().write_all(b"{\"a\":1}\n{\"a\":")?;
    /// assert_eq!(buffer.contents(), "{\"a\":1}\n{\"a\":");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.lock()).into_owned()
    }

    /// The complete lines written so far, without their `\n`.
    ///
    /// ```
    /// use std::io::Write;
    /// let buffer = otel_logging::MemoryBuffer::new();
    /// buffer.clone().write_all(b"{\"a\":1}\n{\"a\":")?; // the second line is not complete yet
    /// assert_eq!(buffer.lines(), ["{\"a\":1}"]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn lines(&self) -> Vec<String> {
        let contents = self.contents();
        let complete = contents.rfind('\n').map_or("", |end| &contents[..end]);
        complete
            .split('\n')
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Forgets everything written so far.
    ///
    /// ```
    /// use std::io::Write;
    /// let buffer = otel_logging::MemoryBuffer::new();
    /// buffer.clone().write_all(b"{\"a\":1}\n")?;
    /// buffer.clear();
    /// assert!(buffer.contents().is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn clear(&self) {
        self.lock().clear();
    }
}

impl io::Write for MemoryBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.lock().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
