//! Load benchmark: unary gRPC calls over loopback between a tonic server and
//! a tonic client, each on its own one-thread runtime (one core each), under
//! 32 concurrent callers, in ONE run, for:
//!
//! 1. bare tonic,
//! 2. otel-tonic's `OtelServerLayer` + `OtelClientLayer`, sampled (AlwaysOn),
//! 3. the same, unsampled (AlwaysOff),
//! 4. the same, unsampled, with a no-op meter provider (the tracing part alone),
//! 5. the same in an unsampled trace as otel-init sets it up by default: the
//!    global provider with a parent-based, always-on sampler and its
//!    declarations (`otel_http::sampling`: a known drop is made plainly), the
//!    client's calls made in an unsampled trace (nine calls in ten at 10 %
//!    sampling),
//! 6. the same, unsampled as otel-init sets up `OTEL_TRACES_SAMPLER=always_off`:
//!    the global provider with an always-off sampler and its declarations
//!    (every span dropped, made plainly), the client's calls made outside
//!    any trace,
//! 7. the peer: tonic-tracing-opentelemetry 0.42.1 (its server and client
//!    `OtelGrpcLayer`, as its README adds them) + tracing-opentelemetry 0.34,
//!    sampled,
//! 8. bare tonic whose client sends a fresh `traceparent` with every call
//!    (never-indexed, as otel-http's injector sends it) and no
//!    instrumentation: what carrying a context over HTTP/2 costs both ends,
//!    which every instrumentation that propagates pays (HPACK's Huffman
//!    coding of the value, the header's name and value on the server),
//! 9. the API minimum (`support/minimal.rs`): a server and a client layer
//!    that only extract or inject the context with the SDK's
//!    `TraceContextPropagator` and start and end one span with the global
//!    tracer, no attribute, status or metric, on the provider and in the
//!    unsampled trace of case 5: the least an instrumentation written against
//!    the OpenTelemetry API pays to carry that trace through the call,
//! 10. bare tonic again (the baseline is the mean of the two bare runs),
//!
//! every case under the same `tracing` subscriber: a registry with
//! tracing-opentelemetry's layer, filtered at INFO plus `otel::tracing=trace`
//! (the target and level of the peer's spans, as its companion crate
//! init-tracing-opentelemetry sets it), so that only the instrumentation differs.
//!
//! Both instrumentations use the global propagator, set to what otel-init
//! installs by default (W3C Trace Context and Baggage, otel-http's).
//!
//! each reporting calls/s and the CPU per call of the server thread and of
//! the client thread. Spans go to a processor that drops them (the figures
//! are the instrumentation's cost, not an exporter's); our metrics go to an
//! SDK meter provider with a reader (aggregated, never exported here):
//! `support/providers.rs`.
//!
//! `cargo bench -p otel-tonic --bench unary` (LOAD_SECS=N to change the 3 s
//! per case, LOAD_WARMUP=N the 1 s warm-up before each (both may be
//! fractions: many short rounds follow a drifting machine more closely);
//! LOAD_ROUNDS=N rounds, 3 by default, each running bare tonic,
//! every instrumented case (each round starting one case later), then bare
//! tonic again, and the medians of the
//! per-round ratios to the round's bare mean reported; the server's thread
//! is pinned to CPU 1 and the client's to CPU 0 unless LOAD_PIN=0;
//! LOAD_WORKERS=N runs each end on a multi-threaded runtime of N workers
//! instead, as `#[tokio::main]` sets one up, unpinned, each end's CPU
//! that of all its runtime's threads)
//!
//! With `LOAD_CASE=<case> LOAD_CALLS=N` (cases `bare`, `ours-sampled`,
//! `ours-unsampled`, `ours-no-metrics`, `ours-declared`, `ours-off`, `peer`,
//! `bare-traceparent`, `minimal-declared`) the binary runs that one case
//! for exactly N calls, without warm-up or timing, and exits: what
//! `benches/instructions.sh` counts under callgrind.

#[path = "support/load.rs"]
mod load;
#[path = "support/minimal.rs"]
mod minimal;
#[path = "support/providers.rs"]
mod providers;
#[path = "support/threads.rs"]
mod threads;

use load::{Outcome, Until, load, warm_up, with_traceparent};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::Sampler;
use otel_tonic_test_proto::echo_client::EchoClient;
use otel_tonic_test_proto::echo_server::{Echo, EchoServer};
use otel_tonic_test_proto::{EchoReply, EchoRequest};
use providers::{meter_provider, tracer_provider};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tonic::{Request, Response, Status, Streaming};

type ReplyStream =
    Pin<Box<dyn futures_util::Stream<Item = Result<EchoReply, Status>> + Send + 'static>>;

/// A hello-world unary handler (the streaming methods are not called).
struct Hello;

#[tonic::async_trait]
impl Echo for Hello {
    async fn unary(&self, request: Request<EchoRequest>) -> Result<Response<EchoReply>, Status> {
        Ok(Response::new(EchoReply {
            message: request.into_inner().message,
            trace_id: String::new(),
        }))
    }
    type ServerStreamStream = ReplyStream;
    async fn server_stream(
        &self,
        _: Request<EchoRequest>,
    ) -> Result<Response<ReplyStream>, Status> {
        Err(Status::unimplemented(""))
    }
    async fn client_stream(
        &self,
        _: Request<Streaming<EchoRequest>>,
    ) -> Result<Response<EchoReply>, Status> {
        Err(Status::unimplemented(""))
    }
    type BidiStream = ReplyStream;
    async fn bidi(
        &self,
        _: Request<Streaming<EchoRequest>>,
    ) -> Result<Response<ReplyStream>, Status> {
        Err(Status::unimplemented(""))
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Case {
    Bare,
    OursSampled,
    OursUnsampled,
    OursUnsampledNoMetrics,
    OursDeclared,
    OursOff,
    Peer,
    BareTraceparent,
    MinimalDeclared,
}

impl Case {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "bare" => Case::Bare,
            "ours-sampled" => Case::OursSampled,
            "ours-unsampled" => Case::OursUnsampled,
            "ours-no-metrics" => Case::OursUnsampledNoMetrics,
            "ours-declared" => Case::OursDeclared,
            "ours-off" => Case::OursOff,
            "peer" => Case::Peer,
            "bare-traceparent" => Case::BareTraceparent,
            "minimal-declared" => Case::MinimalDeclared,
            _ => return None,
        })
    }

    /// Whether the case's layers use the global provider, which `run`
    /// installs and declares as otel-init would.
    fn global_provider(self) -> bool {
        matches!(
            self,
            Case::OursDeclared | Case::OursOff | Case::MinimalDeclared
        )
    }

    fn label(self) -> &'static str {
        match self {
            Case::Bare => "bare tonic",
            Case::OursSampled => "otel-tonic, sampled",
            Case::OursUnsampled => "otel-tonic, unsampled",
            Case::OursUnsampledNoMetrics => "otel-tonic, unsampled, no-op meter provider",
            Case::OursDeclared => "otel-tonic, unsampled caller, declared",
            Case::OursOff => "otel-tonic, always_off as otel-init declares it",
            Case::Peer => "peer: tonic-tracing-opentelemetry 0.42, sampled",
            Case::BareTraceparent => "bare tonic + a traceparent per call (floor)",
            Case::MinimalDeclared => "API minimum, unsampled caller (support/minimal.rs)",
        }
    }
}

/// The application's subscriber, the same in every case: tracing-opentelemetry
/// on a registry, INFO, and TRACE for the peer's target.
fn dispatch() -> tracing::Dispatch {
    use tracing_subscriber::layer::SubscriberExt;
    let tracer = tracer_provider(Sampler::AlwaysOn).tracer("peer");
    let filter = tracing_subscriber::filter::Targets::new()
        .with_default(tracing::Level::INFO)
        .with_target("otel::tracing", tracing::Level::TRACE);
    let subscriber = tracing_subscriber::registry()
        .with(filter)
        .with(tracing_opentelemetry::layer().with_tracer(tracer));
    tracing::Dispatch::new(subscriber)
}

fn meters(case: Case) -> Box<dyn opentelemetry::metrics::MeterProvider> {
    if case == Case::OursUnsampledNoMetrics {
        Box::new(opentelemetry::metrics::noop::NoopMeterProvider::new())
    } else {
        Box::new(meter_provider())
    }
}

fn sampler(case: Case) -> Sampler {
    if matches!(case, Case::OursUnsampled | Case::OursUnsampledNoMetrics) {
        Sampler::AlwaysOff
    } else {
        Sampler::AlwaysOn
    }
}

/// `ours-declared`: what otel-init installs by default, and declares
/// (`otel_http::sampling`): a global provider with a parent-based, always-on
/// sampler, known to drop the children of unsampled parents, which it makes
/// plainly. Both layers use it; the client's calls are made in an unsampled
/// trace and the server's in the unsampled trace they carry on: nine calls
/// in ten at 10 % sampling.
fn declare_as_otel_init() {
    use otel_http::sampling::{DroppedSpans, KnownDecisions, declare, declare_dropped_spans};
    opentelemetry::global::set_tracer_provider(tracer_provider(Sampler::ParentBased(Box::new(
        Sampler::AlwaysOn,
    ))));
    declare(KnownDecisions::UnsampledParentsDropped);
    declare_dropped_spans(DroppedSpans::Plain);
}

/// `ours-off`: what otel-init installs and declares for
/// `OTEL_TRACES_SAMPLER=always_off`: a global provider that drops every
/// span, declared so, its drops made plainly.
fn declare_always_off_as_otel_init() {
    use otel_http::sampling::{DroppedSpans, KnownDecisions, declare, declare_dropped_spans};
    opentelemetry::global::set_tracer_provider(tracer_provider(Sampler::AlwaysOff));
    declare(KnownDecisions::AllDropped);
    declare_dropped_spans(DroppedSpans::Plain);
}

/// The context of a caller whose trace is not sampled.
fn unsampled_parent() -> opentelemetry::Context {
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
    };
    opentelemetry::Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736_u128),
        SpanId::from(0x00f0_67aa_0ba9_02b7_u64),
        TraceFlags::default(),
        true,
        TraceState::NONE,
    ))
}

async fn serve(
    case: Case,
    listener: tokio::net::TcpListener,
    stop: tokio::sync::oneshot::Receiver<()>,
) {
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    let shutdown = async {
        stop.await.ok();
    };
    let service = EchoServer::new(Hello);
    match case {
        Case::Bare | Case::BareTraceparent => {
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming_shutdown(incoming, shutdown)
                .await
        }
        Case::OursSampled
        | Case::OursUnsampled
        | Case::OursUnsampledNoMetrics
        | Case::OursDeclared
        | Case::OursOff => {
            let meters = meters(case);
            let mut layer = otel_tonic::OtelServerLayer::builder().meter_provider(meters.as_ref());
            // `ours-declared` and `ours-off` use the global provider (`run`).
            if !case.global_provider() {
                layer = layer.tracer_provider(&tracer_provider(sampler(case)));
            }
            tonic::transport::Server::builder()
                .layer(layer.build())
                .add_service(service)
                .serve_with_incoming_shutdown(incoming, shutdown)
                .await
        }
        Case::Peer => {
            tonic::transport::Server::builder()
                .layer(tonic_tracing_opentelemetry::middleware::server::OtelGrpcLayer::default())
                .add_service(service)
                .serve_with_incoming_shutdown(incoming, shutdown)
                .await
        }
        Case::MinimalDeclared => {
            tonic::transport::Server::builder()
                .layer(minimal::MinimalLayer::server())
                .add_service(service)
                .serve_with_incoming_shutdown(incoming, shutdown)
                .await
        }
    }
    .ok();
}

/// One case: for `secs` after the warm-up, or exactly `calls` calls.
fn run(case: Case, secs: f64, calls: Option<u64>) -> Outcome {
    match case {
        Case::OursDeclared | Case::MinimalDeclared => declare_as_otel_init(),
        Case::OursOff => declare_always_off_as_otel_init(),
        _ => {}
    }
    let outcome = run_case(case, secs, calls);
    if case.global_provider() {
        otel_http::sampling::declare(otel_http::sampling::KnownDecisions::Unknown);
        otel_http::sampling::declare_dropped_spans(
            otel_http::sampling::DroppedSpans::ThroughTracer,
        );
    }
    outcome
}

fn run_case(case: Case, secs: f64, calls: Option<u64>) -> Outcome {
    // What otel-init installs by default (OTEL_PROPAGATORS=tracecontext,baggage),
    // used by both instrumentations through the global propagator; set
    // before either end builds its layer, as otel-init sets it before an
    // application builds its own (ours hold it from then on).
    opentelemetry::global::set_text_map_propagator(otel_http::propagation::composite(&[
        otel_http::propagation::PropagatorName::TraceContext,
        otel_http::propagation::PropagatorName::Baggage,
    ]));
    let (addr_tx, addr_rx) = std::sync::mpsc::channel::<SocketAddr>();
    let (cpu_tx, cpu_rx) = std::sync::mpsc::channel::<u64>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (mark_tx, mark_rx) = tokio::sync::oneshot::channel::<()>();
    let workers = threads::workers();
    let pin = workers == 0 && std::env::var("LOAD_PIN").map_or(true, |v| v != "0");
    let server = std::thread::spawn(move || {
        if pin {
            threads::pin_to_cpu(1);
        }
        let dispatch = dispatch();
        let _guard = tracing::dispatcher::set_default(&dispatch);
        let threads = threads::Threads::default();
        let rt = threads.runtime(workers, &dispatch);
        let marked = threads.clone();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            addr_tx.send(listener.local_addr().expect("addr")).ok();
            tokio::spawn(async move {
                if mark_rx.await.is_ok() {
                    cpu_tx.send(marked.cpu_ns()).ok();
                }
            });
            serve(case, listener, stop_rx).await;
        });
        threads.cpu_ns()
    });
    let addr = addr_rx.recv().expect("server address");
    if pin {
        threads::pin_to_cpu(0);
    }

    let dispatch = dispatch();
    let _guard = tracing::dispatcher::set_default(&dispatch);
    let threads = threads::Threads::default();
    let rt = threads.runtime(workers, &dispatch);
    let done = Arc::new(AtomicU64::new(0));
    let counting = Arc::new(AtomicBool::new(false));
    let (calls, seconds, client_cpu_ns) = rt.block_on(async {
        let endpoint =
            tonic::transport::Endpoint::from_shared(format!("http://{addr}")).expect("uri");
        let channel = endpoint.connect().await.expect("connect");
        let until = match calls {
            Some(n) => Until::Calls(Arc::new(AtomicU64::new(n))),
            None => Until::Deadline(Instant::now() + Duration::from_secs_f64(secs + 1.0)),
        };
        let running = {
            let (counting, done) = (counting.clone(), done.clone());
            match case {
                Case::Bare => {
                    tokio::spawn(load(EchoClient::new(channel), until, counting, done, None))
                }
                Case::BareTraceparent => {
                    let channel = tower::ServiceBuilder::new()
                        .map_request(with_traceparent)
                        .service(channel);
                    tokio::spawn(load(EchoClient::new(channel), until, counting, done, None))
                }
                Case::OursSampled
                | Case::OursUnsampled
                | Case::OursUnsampledNoMetrics
                | Case::OursDeclared
                | Case::OursOff => {
                    let meters = meters(case);
                    let mut layer = otel_tonic::OtelClientLayer::builder()
                        .meter_provider(meters.as_ref())
                        .target(endpoint.uri());
                    // `ours-declared`: the global provider, calls in an
                    // unsampled trace; `ours-off`: the global provider,
                    // calls outside any trace.
                    let parent = (case == Case::OursDeclared).then(unsampled_parent);
                    if !case.global_provider() {
                        layer = layer.tracer_provider(&tracer_provider(sampler(case)));
                    }
                    let channel = tower::ServiceBuilder::new()
                        .layer(layer.build())
                        .service(channel);
                    tokio::spawn(load(
                        EchoClient::new(channel),
                        until,
                        counting,
                        done,
                        parent,
                    ))
                }
                Case::Peer => {
                    let channel = tower::ServiceBuilder::new()
                        .layer(tonic_tracing_opentelemetry::middleware::client::OtelGrpcLayer)
                        .service(channel);
                    tokio::spawn(load(EchoClient::new(channel), until, counting, done, None))
                }
                Case::MinimalDeclared => {
                    let channel = tower::ServiceBuilder::new()
                        .layer(minimal::MinimalLayer::client())
                        .service(channel);
                    let parent = Some(unsampled_parent());
                    tokio::spawn(load(
                        EchoClient::new(channel),
                        until,
                        counting,
                        done,
                        parent,
                    ))
                }
            }
        };
        if calls.is_none() {
            tokio::time::sleep(warm_up()).await;
        }
        mark_tx.send(()).ok();
        let client_start = threads.cpu_ns();
        counting.store(true, Ordering::Relaxed);
        let start = Instant::now();
        running.await.ok();
        let seconds = start.elapsed().as_secs_f64();
        (
            done.load(Ordering::Relaxed),
            seconds,
            threads.cpu_ns().saturating_sub(client_start),
        )
    });
    // The client's connection lives in tasks of this runtime, which only run
    // inside `block_on`: dropped here, the connection is closed before the
    // server's graceful shutdown, which waits for open connections.
    drop(rt);
    stop_tx.send(()).ok();
    let cpu_start = cpu_rx.recv().unwrap_or(0);
    let cpu_end = server.join().expect("server thread");
    Outcome {
        calls,
        seconds,
        server_cpu_ns: cpu_end.saturating_sub(cpu_start),
        client_cpu_ns,
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // One case, a fixed number of calls (for callgrind: instructions.sh).
    if let Ok(name) = std::env::var("LOAD_CASE") {
        let Some(case) = Case::from_name(&name) else {
            eprintln!("unknown LOAD_CASE {name:?}");
            std::process::exit(2);
        };
        let calls = std::env::var("LOAD_CALLS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000);
        let o = run(case, 0.0, Some(calls));
        println!("RESULT {} calls", o.calls);
        return;
    }
    if !std::env::args().any(|a| a == "--bench") {
        println!("unary: run with `cargo bench -p otel-tonic --bench unary`");
        return;
    }
    let secs: f64 = std::env::var("LOAD_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3.0);
    let rounds: usize = std::env::var("LOAD_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let instrumented = [
        Case::OursSampled,
        Case::OursUnsampled,
        Case::OursUnsampledNoMetrics,
        Case::OursDeclared,
        Case::OursOff,
        Case::Peer,
        Case::BareTraceparent,
        Case::MinimalDeclared,
    ];
    // Per case, per round: throughput ratio and added server and client CPU
    // against the mean of that round's two bare runs.
    let mut ratios: Vec<Vec<(f64, f64, f64)>> = vec![Vec::new(); instrumented.len()];
    for round in 1..=rounds {
        println!("round {round}/{rounds}");
        let measure = |case: Case| {
            let o = run(case, secs, None);
            let n = o.calls.max(1) as f64;
            let (rps, server, client) = (
                o.calls as f64 / o.seconds,
                o.server_cpu_ns as f64 / 1000.0 / n,
                o.client_cpu_ns as f64 / 1000.0 / n,
            );
            println!(
                "  {:<50} {rps:>8.0} calls/s  server {server:>6.2} µs  client {client:>6.2} µs CPU/call",
                case.label()
            );
            (rps, server, client)
        };
        let first = measure(Case::Bare);
        // Each round starts one case later than the last, so that no case
        // always runs in the same place (first after the bare run, last
        // before the next): a drift within a round favours none of them.
        let shift = (round - 1) % instrumented.len();
        let mut measured: Vec<Option<(f64, f64, f64)>> = vec![None; instrumented.len()];
        for i in (0..instrumented.len()).map(|k| (k + shift) % instrumented.len()) {
            measured[i] = Some(measure(instrumented[i]));
        }
        let measured: Vec<(f64, f64, f64)> = measured.into_iter().flatten().collect();
        let last = measure(Case::Bare);
        let bare = (
            (first.0 + last.0) / 2.0,
            (first.1 + last.1) / 2.0,
            (first.2 + last.2) / 2.0,
        );
        for (i, (rps, server, client)) in measured.into_iter().enumerate() {
            ratios[i].push((rps / bare.0, server - bare.1, client - bare.2));
        }
    }
    // The lower quartile, the median and the upper quartile.
    let quartiles = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let at = |q: usize| v[(v.len() - 1) * q / 4];
        (at(1), at(2), at(3))
    };
    println!(
        "\nmedians of {rounds} rounds, each case against the mean of its round's two bare runs \
         (quartiles in brackets):"
    );
    let mut added = Vec::new();
    for (case, rows) in instrumented.iter().zip(&ratios) {
        let (_, throughput, _) = quartiles(rows.iter().map(|r| r.0).collect());
        let (s1, server, s3) = quartiles(rows.iter().map(|r| r.1).collect());
        let (c1, client, c3) = quartiles(rows.iter().map(|r| r.2).collect());
        println!(
            "{:<50} throughput {throughput:.3} x bare, added CPU server {server:+.2} µs [{s1:+.2}, {s3:+.2}], \
             client {client:+.2} µs [{c1:+.2}, {c3:+.2}] per call",
            case.label()
        );
        added.push((*case, server, client));
    }
    let (peer_s, peer_c) = added
        .iter()
        .find(|r| r.0 == Case::Peer)
        .map(|r| (r.1, r.2))
        .unwrap_or((0.0, 0.0));
    for (case, s, c) in added.iter().filter(|r| r.0 != Case::Peer) {
        println!(
            "{:<50} added CPU / peer's: server {:.2}, client {:.2}, both {:.2}",
            case.label(),
            s / peer_s,
            c / peer_c,
            (s + c) / (peer_s + peer_c)
        );
    }
    // The same ratio taken within each round, where both ran minutes apart
    // at most: a drift between rounds moves it less.
    let peer = instrumented.iter().position(|c| *c == Case::Peer);
    if let Some(peer) = peer {
        println!("\nadded CPU / peer's, both ends, within each round (median [quartiles]):");
        for (i, case) in instrumented.iter().enumerate().filter(|(i, _)| *i != peer) {
            let per_round: Vec<f64> = ratios[i]
                .iter()
                .zip(&ratios[peer])
                .map(|(ours, theirs)| (ours.1 + ours.2) / (theirs.1 + theirs.2))
                .collect();
            let (q1, q2, q3) = quartiles(per_round);
            println!("{:<50} {q2:.2} [{q1:.2}, {q3:.2}]", case.label());
        }
    }
}
