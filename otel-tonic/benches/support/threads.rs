//! The threads of each end of the unary bench: how many workers its runtime
//! has, which threads' CPU time is its, and the CPU its thread is pinned to.

use std::sync::Arc;

/// Worker threads of each end's runtime: `LOAD_WORKERS=N` gives the server
/// and the client a multi-threaded runtime of N workers each (as
/// `#[tokio::main]` sets one up, and this crate's README), not pinned; 0, the
/// default, a one-thread runtime each.
pub fn workers() -> usize {
    std::env::var("LOAD_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The threads of one end: the thread that runs its runtime and, on a
/// multi-threaded runtime, every thread the runtime starts.
#[derive(Clone, Default)]
pub struct Threads(Arc<std::sync::Mutex<Vec<libc::pid_t>>>);

impl Threads {
    fn add_current(&self) {
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        self.0.lock().expect("threads").push(tid);
    }

    /// Their CPU time so far, in nanoseconds.
    pub fn cpu_ns(&self) -> u64 {
        let tids = self.0.lock().expect("threads").clone();
        tids.iter()
            .filter_map(|tid| {
                std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")).ok()
            })
            .filter_map(|s| {
                s.split_whitespace()
                    .next()
                    .and_then(|v| v.parse::<u64>().ok())
            })
            .sum()
    }

    /// A runtime for this end (see [`workers`]), run by the calling thread,
    /// whose threads all have `dispatch` as their `tracing` subscriber (the
    /// calling thread's is set by the caller).
    pub fn runtime(&self, workers: usize, dispatch: &tracing::Dispatch) -> tokio::runtime::Runtime {
        thread_local! {
            static SUBSCRIBED: std::cell::RefCell<Option<tracing::dispatcher::DefaultGuard>> =
                const { std::cell::RefCell::new(None) };
        }
        self.add_current();
        let mut builder = if workers == 0 {
            tokio::runtime::Builder::new_current_thread()
        } else {
            let (threads, dispatch) = (self.clone(), dispatch.clone());
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder
                .worker_threads(workers)
                .on_thread_start(move || {
                    threads.add_current();
                    let guard = tracing::dispatcher::set_default(&dispatch);
                    SUBSCRIBED.with(|s| *s.borrow_mut() = Some(guard));
                })
                .on_thread_stop(|| drop(SUBSCRIBED.with(|s| s.borrow_mut().take())));
            builder
        };
        builder.enable_all().build().expect("rt")
    }
}

/// Pins the calling thread to one CPU: the server's runtime thread to CPU 1
/// and the client's to CPU 0 (`LOAD_PIN=0` leaves them to the scheduler,
/// whose moves add their own noise on a 2-core machine).
pub fn pin_to_cpu(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the calls only read it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}
