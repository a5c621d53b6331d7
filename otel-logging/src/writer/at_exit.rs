//! A last flush when the process exits normally (`main` returns or
//! `std::process::exit`), so that the lines logged just before exit, often
//! the ones that say why, are not lost in a non-blocking buffer. Applications
//! should still flush explicitly ([`flush_all`](super::flush_all)); this is
//! the safety net. It does not run on a crash, an abort or a kill signal.

use std::sync::Once;
use std::time::Duration;

/// How long exit may wait for waiting lines.
const EXIT_FLUSH_TIMEOUT: Duration = Duration::from_secs(1);

/// Registers the exit flush, once per process.
pub(super) fn flush_at_exit() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // SAFETY: `atexit` only records the function pointer. `flush` is an
        // `extern "C"` function that does not unwind (a panic in it would
        // abort), and it only takes locks that are never held across I/O,
        // so it cannot deadlock with the threads still running at exit.
        unsafe {
            libc::atexit(flush);
        }
    });
}

extern "C" fn flush() {
    let _ = super::flush_all(EXIT_FLUSH_TIMEOUT);
}
