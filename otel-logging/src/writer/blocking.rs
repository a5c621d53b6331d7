//! [`Delivery::Blocking`](super::Delivery::Blocking): the caller writes.

use super::WriterStats;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

pub(crate) struct Blocking {
    target: Mutex<Box<dyn Write + Send>>,
    written: AtomicU64,
    failed: AtomicU64,
}

impl Blocking {
    pub(crate) fn new(target: Box<dyn Write + Send>) -> Self {
        Self {
            target: Mutex::new(target),
            written: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }
    }

    pub(crate) fn write(&self, line: &[u8]) {
        let mut target = self.target.lock().unwrap_or_else(PoisonError::into_inner);
        let counter = match target.write_all(line) {
            Ok(()) => &self.written,
            Err(_) => &self.failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn flush(&self) -> bool {
        let mut target = self.target.lock().unwrap_or_else(PoisonError::into_inner);
        target.flush().is_ok()
    }

    pub(crate) fn stats(&self) -> WriterStats {
        WriterStats {
            written: self.written.load(Ordering::Relaxed),
            dropped_full: 0,
            failed: self.failed.load(Ordering::Relaxed),
        }
    }
}
