//! Holds the spans of each trace until the trace can be printed whole.
//!
//! Spans reach the sink in the order of the pipeline's batches, not in the
//! order they ended: a span that ended on one thread may still sit in that
//! thread's stage while its root, ended later on another thread, is already
//! exported. So a trace is printed on the pipeline's schedule, not when its
//! root arrives:
//!
//! - **Finished:** its local root (no parent) has arrived and the pipeline has
//!   since taken everything every thread had queued or staged (one whole
//!   scheduled pass started after the root arrived; 200 to 400 ms with the
//!   console's 200 ms schedule). Every span that ended before the root is then
//!   in hand, whatever thread or batch it came from.
//! - **Remote parent:** a root whose parent is remote waits [`REMOTE_ROOT_GRACE`]
//!   more, and no longer counts as a root once its parent arrives (a service
//!   calling itself: the caller's spans end after the callee's).
//! - **Fragment:** spans whose root has not arrived within [`MAX_WAIT`] of the
//!   first of them are printed on the schedule, marked
//!   `incomplete (root not ended)`. So is everything still waiting at flush
//!   and shutdown (traces whose root has arrived print whole).
//! - **Bounded:** at most [`MAX_HELD_TRACES`] traces and [`MAX_HELD_SPANS`]
//!   spans wait at once; past either, the trace waiting longest is printed at
//!   once, as it is (marked incomplete, saying why, if its root has not
//!   arrived). A trace keeps at most [`MAX_SPANS_PER_TRACE`] spans; the header
//!   counts the others. A span that arrives after its trace was printed (it
//!   ended after the root, and after the pass above) is printed in a block
//!   marked `continued`, on the next pass.

use super::super::pipeline::{BatchSink, BoxFuture};
use super::waterfall::{Note, render};
use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::trace::SpanData;
use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Write as _;
use std::time::{Duration, Instant};

/// Traces held at once, at most.
pub(crate) const MAX_HELD_TRACES: usize = 1024;
/// Spans held at once, over all traces, at most.
pub(crate) const MAX_HELD_SPANS: usize = 16_384;
/// Spans kept per trace, at most.
pub(crate) const MAX_SPANS_PER_TRACE: usize = 1000;
/// A trace whose root has not arrived this long after its first span is
/// printed as it is, marked incomplete.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(30);
/// How long a root with a remote parent waits for the rest of its trace.
pub(crate) const REMOTE_ROOT_GRACE: Duration = Duration::from_millis(500);
/// Trace ids remembered after printing, to mark late spans `continued`.
const PRINTED_MEMORY: usize = 4096;

/// A span that may be the trace's local root, as it arrived.
struct RootSeen {
    /// `None` for a span without a parent.
    remote_parent: Option<SpanId>,
    arrived: Instant,
    /// The sink's pass count when it arrived.
    pass: u64,
}

struct Held {
    spans: Vec<SpanData>,
    /// Spans beyond [`MAX_SPANS_PER_TRACE`], not kept.
    not_kept: usize,
    first_seen: Instant,
    roots: Vec<RootSeen>,
    /// The trace was printed before: these spans ended after that.
    continued: bool,
}

impl Held {
    /// Whether the trace can be printed whole at `now`, after `passes`.
    fn finished(&self, now: Instant, passes: u64) -> bool {
        self.roots.iter().any(|r| {
            // One whole scheduled pass started after the root arrived.
            passes > r.pass + 1
                && self.is_root(r)
                && (r.remote_parent.is_none() || now.duration_since(r.arrived) >= REMOTE_ROOT_GRACE)
        })
    }

    /// A span without a parent, or whose remote parent is not in this trace.
    fn is_root(&self, r: &RootSeen) -> bool {
        r.remote_parent.is_none_or(|parent| {
            !self
                .spans
                .iter()
                .any(|s| s.span_context.span_id() == parent)
        })
    }

    fn root_arrived(&self) -> bool {
        self.roots.iter().any(|r| self.is_root(r))
    }
}

/// Buffers spans per trace and prints each trace whole as one waterfall.
pub(crate) struct ConsoleSpanSink {
    held: HashMap<TraceId, Held>,
    held_spans: usize,
    printed: VecDeque<TraceId>,
    printed_set: HashSet<TraceId>,
    /// Scheduled passes so far.
    passes: u64,
    max_wait: Duration,
    ids: bool,
    out: Box<dyn FnMut(&str) + Send>,
}

impl ConsoleSpanSink {
    /// Prints on stderr; `ids` adds each span's ids to the waterfall.
    pub(crate) fn stderr(ids: bool) -> Self {
        Self::with_output(
            Box::new(|s: &str| {
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(s.as_bytes());
            }),
            MAX_WAIT,
            ids,
        )
    }

    pub(crate) fn with_output(
        out: Box<dyn FnMut(&str) + Send>,
        max_wait: Duration,
        ids: bool,
    ) -> Self {
        Self {
            held: HashMap::new(),
            held_spans: 0,
            printed: VecDeque::new(),
            printed_set: HashSet::new(),
            passes: 0,
            max_wait,
            ids,
            out,
        }
    }

    fn accept(&mut self, span: SpanData) {
        let trace_id = span.span_context.trace_id();
        if !self.held.contains_key(&trace_id) {
            while self.held.len() >= MAX_HELD_TRACES {
                self.print_oldest();
            }
        }
        let now = Instant::now();
        let continued = self.printed_set.contains(&trace_id);
        let passes = self.passes;
        let held = self.held.entry(trace_id).or_insert_with(|| Held {
            spans: Vec::new(),
            not_kept: 0,
            first_seen: now,
            // Its root was printed: the trace is finished once this pass is
            // done.
            roots: if continued {
                vec![RootSeen {
                    remote_parent: None,
                    arrived: now,
                    pass: passes,
                }]
            } else {
                Vec::new()
            },
            continued,
        });
        if span.parent_span_id == SpanId::INVALID || span.parent_span_is_remote {
            held.roots.push(RootSeen {
                remote_parent: (span.parent_span_id != SpanId::INVALID)
                    .then_some(span.parent_span_id),
                arrived: now,
                pass: passes,
            });
        }
        if held.spans.len() < MAX_SPANS_PER_TRACE {
            held.spans.push(span);
            self.held_spans += 1;
        } else {
            held.not_kept += 1;
        }
        while self.held_spans > MAX_HELD_SPANS {
            self.print_oldest();
        }
    }

    /// Prints what is finished, and fragments older than the wait.
    fn print_due(&mut self) {
        let now = Instant::now();
        let mut due: Vec<(Instant, TraceId)> = self
            .held
            .iter()
            .filter(|(_, t)| {
                t.finished(now, self.passes) || now.duration_since(t.first_seen) >= self.max_wait
            })
            .map(|(id, t)| (t.first_seen, *id))
            .collect();
        due.sort_unstable_by_key(|(first_seen, _)| *first_seen);
        for (_, id) in due {
            self.print(id, Note::RootNotEnded);
        }
    }

    fn print_oldest(&mut self) {
        let oldest = self
            .held
            .iter()
            .min_by_key(|(_, t)| t.first_seen)
            .map(|(id, _)| *id);
        if let Some(id) = oldest {
            self.print(id, Note::TooManyWaiting);
        }
    }

    /// Prints a held trace; `if_no_root` says why when its root has not arrived.
    fn print(&mut self, id: TraceId, if_no_root: Note) {
        let Some(t) = self.held.remove(&id) else {
            return;
        };
        self.held_spans -= t.spans.len();
        let note = if t.continued {
            Note::Continued
        } else if t.root_arrived() {
            Note::None
        } else {
            if_no_root
        };
        (self.out)(&render(&t.spans, note, t.not_kept, self.ids));
        if self.printed_set.insert(id) {
            self.printed.push_back(id);
            if self.printed.len() > PRINTED_MEMORY
                && let Some(old) = self.printed.pop_front()
            {
                self.printed_set.remove(&old);
            }
        }
    }

    fn print_all(&mut self) {
        let mut all: Vec<(Instant, TraceId)> = self
            .held
            .iter()
            .map(|(id, t)| (t.first_seen, *id))
            .collect();
        all.sort_unstable_by_key(|(first_seen, _)| *first_seen);
        for (_, id) in all {
            self.print(id, Note::RootNotEnded);
        }
    }
}

impl BatchSink<SpanData> for ConsoleSpanSink {
    fn export(&mut self, batch: Vec<SpanData>) -> BoxFuture<'_, Result<(), String>> {
        for span in batch {
            self.accept(span);
        }
        Box::pin(async { Ok(()) })
    }

    /// The pipeline has just taken everything queued and staged: print all.
    fn flush(&mut self) {
        self.print_all();
    }

    fn tick(&mut self) {
        self.passes += 1;
        self.print_due();
    }
}

#[cfg(test)]
#[path = "assemble_tests.rs"]
mod tests;
