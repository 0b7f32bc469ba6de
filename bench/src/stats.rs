//! Latency samples and their quantiles, and ranges over repeated runs.
use std::time::Duration;

#[derive(Clone, Default)]
pub struct Samples {
    values: Vec<Duration>,
}

impl Samples {
    pub fn add(&mut self, d: Duration) {
        self.values.push(d);
    }

    pub fn quantile(&self, q: f64) -> Duration {
        if self.values.is_empty() {
            return Duration::ZERO;
        }
        let mut v = self.values.clone();
        v.sort_unstable();
        let i = ((v.len() - 1) as f64 * q).round() as usize;
        v[i]
    }

    /// p50, p99 and max, in milliseconds.
    pub fn summary_ms(&self) -> [f64; 3] {
        [ms(self.quantile(0.5)), ms(self.quantile(0.99)), ms(self.quantile(1.0))]
    }

    pub fn print(&self, what: &str) {
        let [p50, p99, max] = self.summary_ms();
        println!(
            "  {what:<18} n={:<7} p50 {:>8} ms  p99 {:>8} ms  max {:>8} ms",
            self.values.len(),
            fmt_ms(p50),
            fmt_ms(p99),
            fmt_ms(max)
        );
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Milliseconds with the precision that matters at their size.
pub fn fmt_ms(v: f64) -> String {
    match v {
        v if v < 10.0 => format!("{v:.2}"),
        v if v < 100.0 => format!("{v:.1}"),
        v => format!("{v:.0}"),
    }
}

/// `min–max` of values (one value when they agree at the printed precision).
pub fn range(values: &[f64], fmt: impl Fn(f64) -> String) -> String {
    if values.is_empty() {
        return "—".into();
    }
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (a, b) = (fmt(min), fmt(max));
    if a == b {
        a
    } else {
        format!("{a}–{b}")
    }
}
