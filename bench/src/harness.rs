//! Side-by-side timing: ours and the peer's code, warmed up, then measured in alternating
//! rounds (ours, peer, ours, peer, ...) so that whatever else the machine does falls on both.
//! Each side's figure is the median of its rounds; the ratio is ours / peer.

use std::time::{Duration, Instant};

/// How long the measurements run.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Alternating rounds per figure.
    pub rounds: usize,
    /// Target length of one timed batch.
    pub batch: Duration,
}

impl Plan {
    /// The full run: 15 rounds of about 40 ms batches.
    pub const FULL: Plan = Plan {
        rounds: 15,
        batch: Duration::from_millis(40),
    };
    /// `--quick`: 5 rounds of about 10 ms (the harness works; the figures are rough).
    pub const QUICK: Plan = Plan {
        rounds: 5,
        batch: Duration::from_millis(10),
    };
}

/// The unit a figure is printed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Nanoseconds per operation.
    Ns,
    /// Microseconds per operation.
    Us,
    /// Milliseconds per operation.
    Ms,
    /// Seconds (a whole run).
    S,
    /// Kibibytes (memory).
    KiB,
}

impl Unit {
    /// The printed name.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Ns => "ns",
            Unit::Us => "µs",
            Unit::Ms => "ms",
            Unit::S => "s",
            Unit::KiB => "KiB",
        }
    }

    /// Converts nanoseconds into this unit (other units pass through).
    pub fn of_ns(self, ns: f64) -> f64 {
        match self {
            Unit::Ns => ns,
            Unit::Us => ns / 1e3,
            Unit::Ms => ns / 1e6,
            Unit::S => ns / 1e9,
            Unit::KiB => ns,
        }
    }
}

/// One measured figure.
#[derive(Clone, Debug)]
pub struct Figure {
    /// The figure's name (stable: CI and BENCHMARKS.md refer to it).
    pub name: String,
    /// Our value, in `unit`.
    pub ours: f64,
    /// The peer's value, if there is a peer.
    pub peer: Option<f64>,
    /// What the peer is.
    pub peer_name: &'static str,
    /// The unit of both values.
    pub unit: Unit,
    /// How the value was taken ("median of 15 rounds", "p99 of 200 logins", ...).
    pub how: String,
}

impl Figure {
    /// ours / peer.
    pub fn ratio(&self) -> Option<f64> {
        self.peer.map(|p| self.ours / p)
    }

    /// The line `cargo xtask bench` prints:
    /// `NAME ours=VALUE peer=VALUE ratio=OURS/PEER (UNIT, HOW; peer: WHO)`.
    pub fn line(&self) -> String {
        let fmt = |v: f64| format_value(v);
        match (self.peer, self.ratio()) {
            (Some(peer), Some(ratio)) => format!(
                "{} ours={} peer={} ratio={:.2} ({}, {}; peer: {})",
                self.name,
                fmt(self.ours),
                fmt(peer),
                ratio,
                self.unit.name(),
                self.how,
                self.peer_name
            ),
            _ => format!(
                "{} ours={} peer=- ratio=- ({}, {})",
                self.name,
                fmt(self.ours),
                self.unit.name(),
                self.how
            ),
        }
    }

    /// The figure as JSON (for `BENCHMARKS.md` and the plots).
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "ours": self.ours,
            "peer": self.peer,
            "peer_name": self.peer_name,
            "ratio": self.ratio(),
            "unit": self.unit.name(),
            "how": self.how,
        })
    }
}

/// Three significant digits, without exponent notation for the usual ranges.
fn format_value(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// A routine measured over `iters` iterations; returns the time those iterations took
/// (criterion's `iter_custom`: a routine that times only part of its work returns that part).
pub trait Routine {
    /// Runs `iters` iterations and returns their total time.
    fn run(&mut self, iters: u64) -> Duration;
}

/// A plain closure: every iteration is timed whole.
pub struct Whole<F>(pub F);

impl<F: FnMut()> Routine for Whole<F> {
    fn run(&mut self, iters: u64) -> Duration {
        let start = Instant::now();
        for _ in 0..iters {
            (self.0)();
        }
        start.elapsed()
    }
}

/// A closure that times its own iteration (to leave out work that is not the figure's).
pub struct SelfTimed<F>(pub F);

impl<F: FnMut() -> Duration> Routine for SelfTimed<F> {
    fn run(&mut self, iters: u64) -> Duration {
        (0..iters).map(|_| (self.0)()).sum()
    }
}

/// How many iterations fill one batch of `plan.batch` (at least 1).
fn calibrate(routine: &mut impl Routine, plan: Plan) -> u64 {
    let mut iters = 1u64;
    loop {
        let took = routine.run(iters);
        if took >= plan.batch / 4 || iters >= 1 << 30 {
            let per = took.as_secs_f64() / iters as f64;
            return ((plan.batch.as_secs_f64() / per.max(1e-12)) as u64).max(1);
        }
        iters *= 4;
    }
}

/// The median of `values` (which it sorts).
pub fn median(values: &mut [f64]) -> f64 {
    percentile(values, 50.0)
}

/// The `p`-th percentile (nearest rank) of `values` (which it sorts).
pub fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

/// Measures ours and the peer alternately: calibration, a warm-up batch each, then
/// `plan.rounds` rounds of one batch each. Returns the two medians, in ns per iteration.
pub fn alternate(plan: Plan, ours: &mut impl Routine, peer: &mut impl Routine) -> (f64, f64) {
    let ours_iters = calibrate(ours, plan);
    let peer_iters = calibrate(peer, plan);
    ours.run(ours_iters);
    peer.run(peer_iters);
    let mut o = Vec::with_capacity(plan.rounds);
    let mut p = Vec::with_capacity(plan.rounds);
    for round in 0..plan.rounds {
        // Alternate who goes first, so neither always runs on a cache the other warmed.
        let mut ours_round = || ours.run(ours_iters).as_nanos() as f64 / ours_iters as f64;
        if round % 2 == 0 {
            o.push(ours_round());
            p.push(peer.run(peer_iters).as_nanos() as f64 / peer_iters as f64);
        } else {
            p.push(peer.run(peer_iters).as_nanos() as f64 / peer_iters as f64);
            o.push(ours_round());
        }
    }
    (median(&mut o), median(&mut p))
}

/// A figure from [`alternate`].
pub fn compare(
    plan: Plan,
    name: &str,
    unit: Unit,
    peer_name: &'static str,
    ours: &mut impl Routine,
    peer: &mut impl Routine,
) -> Figure {
    let (o, p) = alternate(plan, ours, peer);
    Figure {
        name: name.into(),
        ours: unit.of_ns(o),
        peer: Some(unit.of_ns(p)),
        peer_name,
        unit,
        how: format!("median of {} alternating rounds", plan.rounds),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let mut v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&mut v, 50.0), 50.0);
        assert_eq!(percentile(&mut v, 99.0), 99.0);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
    }
}
