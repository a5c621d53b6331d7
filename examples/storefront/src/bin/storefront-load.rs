//! The storefront demo's load generator: virtual users in closed loops
//! (send a checkout, wait for the answer, think, again), ramped through the
//! stages of a profile, as k6 does. The profiles of the source documents,
//! scaled to a small machine (each run under a minute):
//!
//! | profile | virtual users         | default duration |
//! |---------|-----------------------|------------------|
//! | smoke   | 1                     | 10 s             |
//! | load    | 5 -> 20 -> 50         | 40 s             |
//! | spike   | 5 -> 50 -> 5 -> 75    | 30 s             |
//!
//! ```text
//! storefront-load load [--url http://127.0.0.1:8080] [--duration 40] [--think-ms 500]
//! ```
//!
//! It prints a progress line every 5 s on standard error and, at the end,
//! the requests, the errors by status and the p50/p95/p99 latencies of
//! `POST /checkout` on standard output. Every tenth iteration a user also
//! calls `/healthz` (not counted), as a load balancer would.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use storefront::{CATALOG, CartItem, CheckoutRequest, SCARCE_SKU};

const USAGE: &str = "\
usage: storefront-load [smoke|load|spike] [--url URL] [--duration SECONDS] [--think-ms MS]

  smoke   1 virtual user                      (default 10 s)
  load    ramp 5 -> 20 -> 50 virtual users    (default 40 s)
  spike   5 -> 50 -> 5 -> 75 virtual users    (default 30 s)

  --url        the storefront (default $STOREFRONT_URL or http://127.0.0.1:8080)
  --duration   the run's length in seconds; the stages keep their proportions
  --think-ms   each user's pause between two checkouts (default 500, jittered +-50%)";

/// A profile: its stages as (share of the run, users at the end of the
/// stage), ramped linearly from the previous stage's users, like k6 stages.
struct Profile {
    name: &'static str,
    default_duration: Duration,
    stages: &'static [(f64, usize)],
}

const PROFILES: &[Profile] = &[
    Profile {
        name: "smoke",
        default_duration: Duration::from_secs(10),
        stages: &[(0.0, 1), (1.0, 1)],
    },
    Profile {
        name: "load",
        default_duration: Duration::from_secs(40),
        stages: &[
            (0.10, 5),
            (0.15, 5),
            (0.15, 20),
            (0.15, 20),
            (0.15, 50),
            (0.30, 50),
        ],
    },
    Profile {
        name: "spike",
        default_duration: Duration::from_secs(30),
        stages: &[
            (0.10, 5),
            (0.10, 5),
            (0.05, 50),
            (0.20, 50),
            (0.05, 5),
            (0.15, 5),
            (0.05, 75),
            (0.30, 75),
        ],
    },
];

impl Profile {
    /// Users wanted at `elapsed` (a share of the run from 0 to 1).
    fn users_at(&self, share: f64) -> usize {
        let mut start = 0.0;
        let mut from = 0usize;
        for &(length, to) in self.stages {
            let end = start + length;
            if share < end && length > 0.0 {
                let progress = (share - start) / length;
                return (from as f64 + (to as f64 - from as f64) * progress).round() as usize;
            }
            start = end;
            from = to;
        }
        from
    }

    fn max_users(&self) -> usize {
        self.stages.iter().map(|s| s.1).max().unwrap_or(1)
    }
}

struct Options {
    profile: &'static Profile,
    url: String,
    duration: Duration,
    think: Duration,
}

fn parse_args() -> Result<Option<Options>, String> {
    let mut profile = &PROFILES[0];
    let mut url = std::env::var("STOREFRONT_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
    let mut duration = None;
    let mut think = Duration::from_millis(500);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--url" => url = value("--url")?,
            "--duration" => {
                let v = value("--duration")?;
                let seconds: f64 = v
                    .trim_end_matches('s')
                    .parse()
                    .ok()
                    .filter(|s: &f64| *s > 0.0 && *s <= 3600.0)
                    .ok_or(format!("invalid --duration {v:?}: seconds, e.g. 20"))?;
                duration = Some(Duration::from_secs_f64(seconds));
            }
            "--think-ms" => {
                let v = value("--think-ms")?;
                think = Duration::from_millis(
                    v.parse().map_err(|_| format!("invalid --think-ms {v:?}"))?,
                );
            }
            name => {
                profile = PROFILES
                    .iter()
                    .find(|p| p.name == name)
                    .ok_or(format!("unknown argument {name:?}"))?;
            }
        }
    }
    Ok(Some(Options {
        profile,
        url: url.trim_end_matches('/').to_owned(),
        duration: duration.unwrap_or(profile.default_duration),
        think,
    }))
}

/// One finished checkout: its latency and status (0: no response).
#[derive(Clone, Copy)]
struct Sample {
    at: Duration,
    latency: Duration,
    status: u16,
}

struct Shared {
    client: reqwest::Client,
    url: String,
    think: Duration,
    start: Instant,
    wanted: AtomicUsize,
    stop: AtomicBool,
    samples: Mutex<Vec<Sample>>,
}

use otel_reqwest::reqwest;

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("storefront-load: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match storefront::start_runtime("storefront-load") {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    runtime.block_on(run(options))
}

async fn run(options: Options) -> ExitCode {
    let client = match otel_reqwest::reqwest_client_builder()
        .timeout(Duration::from_secs(60))
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            eprintln!("storefront-load: cannot build the HTTP client: {e}");
            return ExitCode::FAILURE;
        }
    };
    let profile = options.profile;
    println!(
        "storefront-load: profile {}, {:.0} s, up to {} virtual users, think {} ms, {}/checkout",
        profile.name,
        options.duration.as_secs_f64(),
        profile.max_users(),
        options.think.as_millis(),
        options.url
    );
    let shared = Arc::new(Shared {
        client,
        url: options.url,
        think: options.think,
        start: Instant::now(),
        wanted: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        samples: Mutex::new(Vec::new()),
    });
    let users: Vec<_> = (0..profile.max_users())
        .map(|index| tokio::spawn(virtual_user(shared.clone(), index)))
        .collect();
    let mut last_report = Duration::ZERO;
    loop {
        let elapsed = shared.start.elapsed();
        if elapsed >= options.duration {
            break;
        }
        let share = elapsed.as_secs_f64() / options.duration.as_secs_f64();
        shared
            .wanted
            .store(profile.users_at(share), Ordering::Relaxed);
        if elapsed >= last_report + Duration::from_secs(5) {
            progress(&shared, last_report, elapsed);
            last_report = elapsed;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shared.stop.store(true, Ordering::Relaxed);
    // Requests in flight finish (a starved one can take seconds).
    for user in users {
        let _ = tokio::time::timeout(Duration::from_secs(60), user).await;
    }
    let samples = shared.samples.lock().map(|s| s.clone()).unwrap_or_default();
    summary(&samples, options.duration)
}

async fn virtual_user(shared: Arc<Shared>, index: usize) {
    let mut iteration = 0u64;
    while !shared.stop.load(Ordering::Relaxed) {
        if index >= shared.wanted.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        iteration += 1;
        let seed = mix(index as u64, iteration);
        if iteration.is_multiple_of(10) {
            let _ = shared
                .client
                .get(format!("{}/healthz", shared.url))
                .send()
                .await;
        }
        let cart = cart_for(index, iteration, seed);
        let sent = Instant::now();
        let status = match shared
            .client
            .post(format!("{}/checkout", shared.url))
            .json(&cart)
            .send()
            .await
        {
            Ok(response) => {
                let status = response.status().as_u16();
                let _ = response.bytes().await;
                status
            }
            Err(_) => 0,
        };
        let sample = Sample {
            at: shared.start.elapsed(),
            latency: sent.elapsed(),
            status,
        };
        if let Ok(mut samples) = shared.samples.lock() {
            samples.push(sample);
        }
        if status == 0 {
            // No answer: do not spin on a dead server.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // Think time, jittered between 50% and 150%.
        let jitter = 0.5 + (seed % 1000) as f64 / 1000.0;
        tokio::time::sleep(shared.think.mul_f64(jitter)).await;
    }
}

/// A deterministic cart: one to three products, and now and then two of the
/// scarce product (the inventory has one), which is refused with 400.
fn cart_for(user: usize, iteration: u64, seed: u64) -> CheckoutRequest {
    let regular: Vec<_> = CATALOG.iter().filter(|p| p.sku != SCARCE_SKU).collect();
    let lines = 1 + (seed % 3) as usize;
    let mut items: Vec<CartItem> = Vec::new();
    for line in 0..lines {
        let product = regular[(seed as usize / 3 + line * 5) % regular.len()];
        if !items.iter().any(|i| i.sku == product.sku) {
            items.push(CartItem {
                sku: product.sku.to_owned(),
                quantity: 1 + ((seed >> 8) % 2) as i64,
            });
        }
    }
    if (seed >> 16).is_multiple_of(16) {
        items.push(CartItem {
            sku: SCARCE_SKU.to_owned(),
            quantity: 2,
        });
    }
    CheckoutRequest {
        cart_id: format!("cart-{user}-{iteration}"),
        items,
    }
}

/// A small integer hash (splitmix64's finaliser).
fn mix(a: u64, b: u64) -> u64 {
    let mut z = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_add(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn progress(shared: &Shared, from: Duration, to: Duration) {
    let window: Vec<Sample> = shared
        .samples
        .lock()
        .map(|s| {
            s.iter()
                .filter(|x| x.at >= from && x.at < to)
                .copied()
                .collect()
        })
        .unwrap_or_default();
    let mut latencies: Vec<Duration> = window.iter().map(|s| s.latency).collect();
    latencies.sort();
    let seconds = (to - from).as_secs_f64().max(0.001);
    eprintln!(
        "  t={:>3.0}s  users {:>3}  {:>6.1} req/s  p95 {:>6} ms",
        to.as_secs_f64(),
        shared.wanted.load(Ordering::Relaxed),
        window.len() as f64 / seconds,
        percentile(&latencies, 95.0).as_millis(),
    );
}

fn summary(samples: &[Sample], duration: Duration) -> ExitCode {
    let mut latencies: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
    latencies.sort();
    let errors: Vec<&Sample> = samples
        .iter()
        .filter(|s| !(200..300).contains(&s.status))
        .collect();
    let mut by_status: Vec<(u16, usize)> = Vec::new();
    for e in &errors {
        match by_status.iter_mut().find(|(s, _)| *s == e.status) {
            Some((_, n)) => *n += 1,
            None => by_status.push((e.status, 1)),
        }
    }
    by_status.sort();
    let breakdown: Vec<String> = by_status
        .iter()
        .map(|(s, n)| {
            if *s == 0 {
                format!("no answer x {n}")
            } else {
                format!("{s} x {n}")
            }
        })
        .collect();
    println!(
        "requests  {} ({:.1}/s)",
        samples.len(),
        samples.len() as f64 / duration.as_secs_f64()
    );
    println!(
        "errors    {} ({:.1}%){}{}",
        errors.len(),
        100.0 * errors.len() as f64 / samples.len().max(1) as f64,
        if breakdown.is_empty() { "" } else { ": " },
        breakdown.join(", ")
    );
    println!(
        "latency   p50 {} ms  p95 {} ms  p99 {} ms  max {} ms",
        percentile(&latencies, 50.0).as_millis(),
        percentile(&latencies, 95.0).as_millis(),
        percentile(&latencies, 99.0).as_millis(),
        latencies.last().copied().unwrap_or_default().as_millis()
    );
    if samples.is_empty() || samples.iter().all(|s| s.status == 0) {
        eprintln!("storefront-load: no checkout got an answer: is the storefront running?");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_ramp_linearly() {
        let load = &PROFILES[1];
        assert_eq!(load.users_at(0.0), 0);
        assert_eq!(load.users_at(0.05), 3);
        assert_eq!(load.users_at(0.2), 5);
        assert_eq!(load.users_at(0.5), 20);
        assert_eq!(load.users_at(0.99), 50);
        assert_eq!(PROFILES[0].users_at(0.5), 1);
        assert_eq!(PROFILES[2].max_users(), 75);
        for p in PROFILES {
            let total: f64 = p.stages.iter().map(|s| s.0).sum();
            assert!((total - 1.0).abs() < 1e-9, "{}", p.name);
        }
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&v, 95.0), Duration::from_millis(95));
        assert_eq!(percentile(&[], 95.0), Duration::ZERO);
    }

    #[test]
    fn carts_are_deterministic_and_sometimes_short_of_stock() {
        let a = cart_for(3, 7, mix(3, 7));
        assert_eq!(a, cart_for(3, 7, mix(3, 7)));
        let scarce = (0..2000u64)
            .filter(|i| {
                cart_for(0, *i, mix(0, *i))
                    .items
                    .iter()
                    .any(|x| x.sku == SCARCE_SKU)
            })
            .count();
        assert!((60..200).contains(&scarce), "{scarce}");
    }
}
