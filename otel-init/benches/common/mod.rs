//! What the benches of this crate share: CPU time per thread, read from
//! `/proc`, with the in-process receiver's threads told apart by name.

#![allow(dead_code)] // each bench uses its own part

use std::path::Path;
use std::time::Duration;

/// Name prefix of the receiver runtime's threads (at most 15 bytes in `comm`).
pub const RECEIVER_THREADS: &str = "bench-receiver";

/// CPU time of one thread: schedstat (ns) if available, else stat ticks.
pub fn task_cpu(task: &Path) -> Option<Duration> {
    if let Ok(s) = std::fs::read_to_string(task.join("schedstat"))
        && let Some(ns) = s.split_whitespace().next().and_then(|v| v.parse().ok())
    {
        return Some(Duration::from_nanos(ns));
    }
    let stat = std::fs::read_to_string(task.join("stat")).ok()?;
    stat_ticks(&stat).map(|t| Duration::from_millis(t * 10))
}

/// utime + stime (clock ticks) of a `stat` line.
pub fn stat_ticks(stat: &str) -> Option<u64> {
    // Fields after the command, which is in parentheses and may hold spaces:
    // state is field 3, utime field 14 and stime field 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Sum of CPU time of a process's live threads: the receiver's (named
/// [`RECEIVER_THREADS`]…) and the others.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu {
    /// Every other thread: the bench thread, `otel-export`, ...
    pub sdk: Duration,
    /// The in-process receiver's runtime threads.
    pub receiver: Duration,
}

impl std::ops::Sub for Cpu {
    type Output = Cpu;
    fn sub(self, rhs: Cpu) -> Cpu {
        Cpu {
            sdk: self.sdk.saturating_sub(rhs.sdk),
            receiver: self.receiver.saturating_sub(rhs.receiver),
        }
    }
}

/// CPU time of process `pid`'s live threads.
pub fn process_cpu(pid: &str) -> Cpu {
    let mut cpu = Cpu::default();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return cpu;
    };
    for task in tasks.flatten() {
        let path = task.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        let Some(t) = task_cpu(&path) else { continue };
        if comm.trim().starts_with(RECEIVER_THREADS) {
            cpu.receiver += t;
        } else {
            cpu.sdk += t;
        }
    }
    cpu
}

/// This process's CPU time so far.
pub fn self_cpu() -> Cpu {
    process_cpu("self")
}

/// CPU time so far of this process's live threads named `name`.
pub fn named_threads_cpu(name: &str) -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    tasks
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm")).is_ok_and(|c| c.trim() == name)
        })
        .filter_map(|task| task_cpu(&task.path()))
        .sum()
}

/// `builder` with `exporters` set (by `set`) to OTLP/gRPC towards
/// `endpoint`, or to none when there is no endpoint; built.
pub fn build_exporting(
    builder: otel_init::TelemetryBuilder,
    endpoint: Option<&str>,
    set: impl Fn(otel_init::TelemetryBuilder, &[otel_init::ExporterKind]) -> otel_init::TelemetryBuilder,
) -> otel_init::TelemetryGuard {
    let builder = match endpoint {
        None => set(builder, &[]),
        Some(url) => set(builder, &[otel_init::ExporterKind::Otlp])
            .otlp_protocol(otel_init::Protocol::Grpc)
            .otlp_endpoint(url),
    };
    builder.build().expect("valid bench pipeline")
}

/// The in-process receiver, on a two-thread runtime whose threads are named
/// [`RECEIVER_THREADS`] (so that their CPU is told apart); keep the runtime
/// as long as the receiver.
pub fn start_receiver() -> (tokio::runtime::Runtime, otel_testing::OtlpReceiver) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(RECEIVER_THREADS)
        .enable_all()
        .build()
        .expect("receiver runtime");
    let receiver = runtime
        .block_on(otel_testing::OtlpReceiver::start())
        .expect("start the in-process OTLP receiver");
    (runtime, receiver)
}
