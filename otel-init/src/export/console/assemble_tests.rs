use super::super::waterfall::tests::{span, span_of};
use super::*;
use crate::config::{BatchConfig, Signal};
use crate::export::pipeline::Pipeline;
use crate::export::runtime::ExportRuntime;
use crate::export::stats::SignalStats;
use std::sync::{Arc, Mutex};

/// What a sink printed, one entry per block.
#[derive(Clone, Default)]
struct Printed(Arc<Mutex<Vec<String>>>);

impl Printed {
    fn sink(&self, max_wait: Duration) -> ConsoleSpanSink {
        let store = self.0.clone();
        ConsoleSpanSink::with_output(
            Box::new(move |s: &str| {
                if let Ok(mut p) = store.lock() {
                    p.push(s.to_owned());
                }
            }),
            max_wait,
            false,
        )
    }

    fn blocks(&self) -> Vec<String> {
        self.0.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// The printed blocks of trace `trace`.
    fn of(&self, trace: u128) -> Vec<String> {
        let header = format!("trace {} ", TraceId::from(trace));
        self.blocks()
            .into_iter()
            .filter(|b| b.starts_with(&header))
            .collect()
    }

    /// Waits up to 5 s for a block of trace `trace`.
    fn wait_for(&self, trace: u128) -> Vec<String> {
        let start = Instant::now();
        while self.of(trace).is_empty() && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(5));
        }
        self.of(trace)
    }
}

fn pipeline(
    sink: ConsoleSpanSink,
    schedule_delay: Duration,
    batch: usize,
) -> (ExportRuntime, Arc<Pipeline<SpanData>>) {
    let rt = ExportRuntime::start().expect("runtime");
    let config = BatchConfig {
        schedule_delay,
        export_timeout: Duration::from_secs(5),
        max_queue_size: 1000,
        max_export_batch_size: batch,
    };
    let stats = Arc::new(SignalStats::new(Signal::Traces));
    let p = Arc::new(Pipeline::start(&rt, config, Box::new(sink), stats));
    (rt, p)
}

/// Pushes the spans of trace 7 from three threads: two children stay in their
/// threads' stages (and five more go out in a batch of their own), while the
/// root, ended last, goes out at once in a full batch with three one-span
/// traces. The threads live until all is pushed (an ended thread's stage
/// passes to the next thread).
fn push_trace_7_from_three_threads(p: &Arc<Pipeline<SpanData>>) {
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let done_rx = Arc::new(Mutex::new(done_rx));
    let (pushed_tx, pushed_rx) = std::sync::mpsc::channel::<()>();
    let thread = |spans: Vec<SpanData>| {
        let (p, pushed, done) = (p.clone(), pushed_tx.clone(), done_rx.clone());
        std::thread::spawn(move || {
            spans.into_iter().for_each(|s| p.push(s));
            let _ = pushed.send(());
            // Returns when the sender is dropped.
            let _ = done.lock().map(|d| d.recv());
        })
    };
    let a = thread((10..16).map(|id| span(id, 2, "SELECT", 2, 3)).collect());
    let b = thread(vec![span(2, 1, "GET /stock", 1, 8)]);
    for _ in 0..2 {
        pushed_rx.recv().expect("pushed");
    }
    let c = thread(vec![
        span(1, 0, "POST /checkout", 0, 10),
        span_of(100, 1, 0, "GET /a", 0, 1),
        span_of(101, 1, 0, "GET /b", 0, 1),
        span_of(102, 1, 0, "GET /c", 0, 1),
    ]);
    pushed_rx.recv().expect("pushed");
    drop(done_tx);
    for t in [a, b, c] {
        t.join().expect("thread");
    }
}

#[test]
fn spans_of_one_trace_from_several_threads_and_batches_print_as_one_block() {
    // No schedule: only the full batches and the shutdown export anything.
    let printed = Printed::default();
    let (_rt, p) = pipeline(printed.sink(MAX_WAIT), Duration::from_secs(3600), 4);
    push_trace_7_from_three_threads(&p);
    p.shutdown(Duration::from_secs(5)).expect("shutdown");
    let blocks = printed.of(7);
    assert_eq!(blocks.len(), 1, "{blocks:#?}");
    assert!(blocks[0].contains("· 8 spans · 10.0 ms\n"), "{}", blocks[0]);
    assert!(blocks[0].contains("\n    GET /stock"), "{}", blocks[0]);
    assert!(blocks[0].contains("\n      SELECT"), "{}", blocks[0]);
    assert_eq!(printed.blocks().len(), 4, "{:#?}", printed.blocks());
}

#[test]
fn a_finished_trace_is_printed_whole_on_the_schedule() {
    let printed = Printed::default();
    let (_rt, p) = pipeline(printed.sink(MAX_WAIT), Duration::from_millis(50), 4);
    push_trace_7_from_three_threads(&p);
    let blocks = printed.wait_for(7);
    assert_eq!(blocks.len(), 1, "printed before shutdown: {blocks:#?}");
    assert!(blocks[0].contains("· 8 spans ·"), "{}", blocks[0]);
    assert!(!blocks[0].contains("incomplete"), "{}", blocks[0]);
    p.shutdown(Duration::from_secs(5)).expect("shutdown");
    assert_eq!(printed.of(7).len(), 1, "{:#?}", printed.blocks());
}

#[test]
fn a_fragment_whose_root_never_ends_is_printed_by_the_timer() {
    let printed = Printed::default();
    let (_rt, p) = pipeline(
        printed.sink(Duration::from_millis(300)),
        Duration::from_millis(20),
        512,
    );
    p.push(span_of(8, 5, 4, "SELECT", 0, 1));
    // Nothing else arrives: only the schedule can print it.
    let blocks = printed.wait_for(8);
    assert_eq!(blocks.len(), 1, "{blocks:#?}");
    assert!(
        blocks[0].starts_with(
            "trace 00000000000000000000000000000008 · 1 span · 1.0 ms · incomplete (root not ended)\n"
        ),
        "{}",
        blocks[0]
    );
    p.shutdown(Duration::from_secs(5)).expect("shutdown");
    assert_eq!(printed.of(8).len(), 1);
}

#[test]
fn at_shutdown_a_fragment_is_printed_incomplete_and_a_finished_trace_whole() {
    let printed = Printed::default();
    let (_rt, p) = pipeline(printed.sink(MAX_WAIT), Duration::from_millis(20), 512);
    p.push(span_of(8, 5, 4, "SELECT", 0, 1));
    std::thread::sleep(Duration::from_millis(200));
    assert!(printed.of(8).is_empty(), "waits for its root");
    p.push(span(2, 1, "GET /stock", 1, 2));
    p.push(span(1, 0, "GET /checkout", 0, 3));
    p.shutdown(Duration::from_secs(5)).expect("shutdown");
    let fragment = printed.of(8);
    assert_eq!(fragment.len(), 1, "{:#?}", printed.blocks());
    assert!(
        fragment[0].contains("· incomplete (root not ended)\n"),
        "{}",
        fragment[0]
    );
    let whole = printed.of(7);
    assert_eq!(whole.len(), 1, "{:#?}", printed.blocks());
    assert!(whole[0].contains("· 2 spans · 3.0 ms\n"), "{}", whole[0]);
}

#[test]
fn a_root_waits_for_one_whole_pass_after_it_arrived() {
    let printed = Printed::default();
    let mut sink = printed.sink(MAX_WAIT);
    sink.accept(span(1, 0, "GET /checkout", 0, 10));
    sink.tick(); // this pass may have started before the root arrived
    assert!(printed.blocks().is_empty());
    sink.accept(span(2, 1, "GET /stock", 1, 8)); // taken by that pass
    sink.tick();
    let blocks = printed.of(7);
    assert_eq!(blocks.len(), 1);
    assert!(blocks[0].contains("· 2 spans ·"), "{}", blocks[0]);
}

#[test]
fn a_service_calling_itself_prints_one_trace() {
    let printed = Printed::default();
    let mut sink = printed.sink(MAX_WAIT);
    // The callee's server span (remote parent: the client span 2) ends first.
    let mut callee = span(3, 2, "POST /payments", 5, 10);
    callee.parent_span_is_remote = true;
    sink.accept(callee);
    for _ in 0..3 {
        sink.tick();
    }
    assert!(printed.blocks().is_empty(), "waits for the caller");
    sink.accept(span(2, 1, "POST", 4, 11));
    // Its parent has arrived: the callee is no longer a root, however long
    // it waited.
    std::thread::sleep(REMOTE_ROOT_GRACE);
    for _ in 0..3 {
        sink.tick();
    }
    assert!(printed.blocks().is_empty(), "waits for the caller's root");
    sink.accept(span(1, 0, "GET /checkout", 0, 12));
    sink.tick();
    sink.tick();
    let p = printed.blocks();
    assert_eq!(p.len(), 1, "{p:#?}");
    assert!(p[0].contains("3 spans"), "{}", p[0]);
    assert!(!p[0].contains("incomplete"), "{}", p[0]);
    assert!(
        p[0].contains("      POST /payments"),
        "nested under the client span: {}",
        p[0]
    );
}

#[test]
fn a_root_with_a_remote_parent_prints_after_its_grace() {
    let printed = Printed::default();
    let mut sink = printed.sink(MAX_WAIT);
    let mut root = span(1, 9, "GET /checkout", 0, 12);
    root.parent_span_is_remote = true;
    sink.accept(root);
    sink.tick();
    sink.tick();
    assert!(printed.blocks().is_empty(), "within the grace");
    std::thread::sleep(REMOTE_ROOT_GRACE);
    sink.tick();
    let p = printed.of(7);
    assert_eq!(p.len(), 1, "{p:#?}");
    assert!(!p[0].contains("incomplete"), "{}", p[0]);
}

#[test]
fn spans_that_end_after_their_trace_was_printed_are_marked_continued() {
    let printed = Printed::default();
    let mut sink = printed.sink(MAX_WAIT);
    sink.accept(span(1, 0, "GET /checkout", 0, 10));
    sink.tick();
    sink.tick();
    sink.accept(span(2, 1, "send email", 5, 50));
    sink.tick();
    sink.tick();
    let p = printed.of(7);
    assert_eq!(p.len(), 2, "{p:#?}");
    assert!(
        p[1].contains("· continued (spans that ended after the trace was printed)\n"),
        "{}",
        p[1]
    );
}

#[test]
fn past_the_trace_limit_the_oldest_prints_at_once_saying_why() {
    let printed = Printed::default();
    let mut sink = printed.sink(MAX_WAIT);
    for trace in 0..MAX_HELD_TRACES as u128 {
        sink.accept(span_of(1000 + trace, 2, 1, "child", 0, 1));
    }
    assert!(printed.blocks().is_empty());
    sink.accept(span_of(1, 2, 1, "child", 0, 1));
    let p = printed.blocks();
    assert_eq!(p.len(), 1, "{p:#?}");
    assert!(
        p[0].starts_with(&format!("trace {} ", TraceId::from(1000u128))),
        "{}",
        p[0]
    );
    assert!(
        p[0].contains("· incomplete (root not ended; too many traces waiting)\n"),
        "{}",
        p[0]
    );
    assert_eq!(sink.held.len(), MAX_HELD_TRACES);
}

#[test]
fn spans_are_bounded_per_trace_and_overall() {
    let printed = Printed::default();
    let mut sink = printed.sink(MAX_WAIT);
    for id in 0..MAX_SPANS_PER_TRACE as u64 + 5 {
        sink.accept(span(100 + id, 1, "child", 0, 1));
    }
    assert_eq!(sink.held_spans, MAX_SPANS_PER_TRACE);
    let traces = MAX_HELD_SPANS / MAX_SPANS_PER_TRACE;
    for trace in 0..traces as u128 {
        for id in 0..MAX_SPANS_PER_TRACE as u64 {
            sink.accept(span_of(1000 + trace, 100 + id, 1, "child", 0, 1));
        }
    }
    assert!(sink.held_spans <= MAX_HELD_SPANS, "{}", sink.held_spans);
    let first = printed.of(7);
    assert_eq!(first.len(), 1, "the oldest trace was printed");
    assert!(
        first[0].contains("· 1000 spans · 1.0 ms · 5 more not shown · incomplete"),
        "{}",
        first[0].lines().next().unwrap_or_default()
    );
}
