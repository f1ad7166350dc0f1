//! Latency samples in microseconds, bounded in number per client (a long run keeps the
//! latest [`MAX_SAMPLES`]).

/// At most this many samples are kept per client.
const MAX_SAMPLES: usize = 1 << 16;

/// One client's latencies.
#[derive(Default)]
pub struct Recorder {
    samples: Vec<u32>,
    seen: u64,
}

impl Recorder {
    /// Records one latency; past [`MAX_SAMPLES`] it overwrites the oldest, so memory stays
    /// bounded whatever the run's length.
    pub fn record(&mut self, micros: u64) {
        let value = u32::try_from(micros).unwrap_or(u32::MAX);
        if self.samples.len() < MAX_SAMPLES {
            self.samples.push(value);
        } else {
            self.samples[(self.seen % MAX_SAMPLES as u64) as usize] = value;
        }
        self.seen += 1;
    }

    /// Requests recorded.
    pub fn count(&self) -> u64 {
        self.seen
    }

    /// Merges `other` into `self`.
    pub fn merge(&mut self, other: Recorder) {
        self.seen += other.seen;
        self.samples.extend(other.samples);
    }

    /// The `p`-th percentile (nearest rank), in ms; NaN without samples.
    pub fn percentile_ms(&mut self, p: f64) -> f64 {
        if self.samples.is_empty() {
            return f64::NAN;
        }
        self.samples.sort_unstable();
        let rank = ((p / 100.0) * self.samples.len() as f64).ceil() as usize;
        f64::from(self.samples[rank.clamp(1, self.samples.len()) - 1]) / 1e3
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let mut r = Recorder::default();
        for us in (1..=100).rev() {
            r.record(us * 1000);
        }
        assert_eq!(r.count(), 100);
        assert_eq!(r.percentile_ms(50.0), 50.0);
        assert_eq!(r.percentile_ms(99.0), 99.0);
        assert!(Recorder::default().percentile_ms(50.0).is_nan());
    }
}
