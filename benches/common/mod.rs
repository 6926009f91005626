//! Shared helpers of the report benches: alternating timing loops and a small table printer.
//!
//! Every report bench measures all sides of a comparison in the same run, alternately
//! (round-robin over short batches), and reports the median time per iteration of each side.
//! Knobs (environment variables):
//!
//! - `REPORT_ROUNDS` (default 15): batches per side;
//! - `REPORT_BATCH_MS` (default 20): target length of one batch, in milliseconds;
//! - `REPORT_ONLY=1`: print the ratio report and skip the criterion groups;
//! - `PROFILE_CASE=<text>`: only run the cases whose name contains `<text>`, in a loop for
//!   `PROFILE_SECS` seconds (default 5), and exit: a clean target for `perf record` or
//!   `valgrind --tool=callgrind`.
//!
//! Without `--bench` on the command line (e.g. `cargo test --benches`) everything runs once,
//! as a smoke test.
#![allow(dead_code)]

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Whether the binary was started by `cargo bench` (criterion's convention).
pub fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One side of a comparison: a name and the code to time.
pub struct Case<'a> {
    pub name: String,
    pub f: Box<dyn FnMut() + 'a>,
}

impl<'a> Case<'a> {
    pub fn new(name: impl Into<String>, f: impl FnMut() + 'a) -> Self {
        Case {
            name: name.into(),
            f: Box::new(f),
        }
    }
}

/// Median seconds per iteration of every case, measured alternately in the same run.
pub fn measure(cases: &mut [Case<'_>]) -> Vec<f64> {
    if let Ok(filter) = std::env::var("PROFILE_CASE") {
        let secs = env_or("PROFILE_SECS", 5);
        for c in cases.iter_mut().filter(|c| c.name.contains(&filter)) {
            println!("profiling `{}` for {secs} s", c.name);
            let (start, mut n) = (Instant::now(), 0u64);
            while start.elapsed() < Duration::from_secs(secs) {
                (c.f)();
                n += 1;
            }
            // With `perf stat -e cycles:u`, cycles / iterations is a per-iteration cost that
            // does not depend on what else the machine runs.
            println!("profiled `{}`: {n} iterations", c.name);
        }
        return vec![f64::NAN; cases.len()];
    }
    let full = bench_mode();
    let rounds = if full {
        env_or("REPORT_ROUNDS", 15) as usize
    } else {
        1
    };
    let batch = Duration::from_millis(if full {
        env_or("REPORT_BATCH_MS", 20)
    } else {
        0
    });
    // Warm up and calibrate: iterations per batch so that one batch lasts about `batch`.
    let iters: Vec<u64> = cases
        .iter_mut()
        .map(|c| {
            if !full {
                return 1;
            }
            let start = Instant::now();
            let mut n = 0u64;
            while start.elapsed() < batch || n < 2 {
                (c.f)();
                n += 1;
            }
            let per = start.elapsed().as_secs_f64() / n as f64;
            ((batch.as_secs_f64() / per).ceil() as u64).max(1)
        })
        .collect();
    let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); cases.len()];
    for _ in 0..rounds {
        for ((c, &n), s) in cases.iter_mut().zip(&iters).zip(&mut samples) {
            let start = Instant::now();
            for _ in 0..n {
                (c.f)();
            }
            s.push(start.elapsed().as_secs_f64() / n as f64);
        }
    }
    samples
        .into_iter()
        .map(|mut s| {
            s.sort_by(f64::total_cmp);
            s[s.len() / 2]
        })
        .collect()
}

/// Runs `f` and hides the result from the optimiser.
pub fn sink<T>(x: T) {
    black_box(x);
}

/// A time in adaptive units.
pub fn fmt_time(secs: f64) -> String {
    if secs >= 1.0 {
        format!("{secs:.3} s")
    } else if secs >= 1e-3 {
        format!("{:.3} ms", secs * 1e3)
    } else if secs >= 1e-6 {
        format!("{:.3} µs", secs * 1e6)
    } else {
        format!("{:.1} ns", secs * 1e9)
    }
}

/// Prints the absolute times of a measurement.
pub fn print_times(title: &str, cases: &[Case<'_>], times: &[f64]) {
    println!("\n== {title}");
    for (c, t) in cases.iter().zip(times) {
        println!("  {:<52} {:>14}", c.name, fmt_time(*t));
    }
}

/// `value ≤ target` (or `≥` when `at_least`), as a table row with the verdict.
pub fn ratio_row(what: &str, value: f64, target: f64, at_least: bool) {
    let ok = if at_least {
        value >= target
    } else {
        value <= target
    };
    let op = if at_least { "≥" } else { "≤" };
    println!(
        "  RATIO {:<58} {:>8.3}   target {op} {:<6} {}",
        what,
        value,
        target,
        if ok { "met" } else { "MISSED" }
    );
}

/// A ratio without a target (informational).
pub fn info_row(what: &str, value: f64) {
    println!("  RATIO {what:<58} {value:>8.3}");
}

/// Criterion with the modest settings of every group (20 samples, 3 s).
pub fn criterion() -> criterion::Criterion {
    criterion::Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args()
}

/// Whether to run the criterion groups after the report.
pub fn run_criterion() -> bool {
    std::env::var_os("REPORT_ONLY").is_none()
}
pub mod mlp;
#[path = "../../examples/support/model.rs"]
pub mod model;
