//! Latency samples and their quantiles, and the pacing of generated traffic.
use std::time::{Duration, Instant};

/// Calls `send(n)` for n = 0, 1, … every `period`, the first after `offset`, until `until` has
/// passed since `start` or `send` returns false (its connection is gone).
pub async fn paced(
    start: Instant,
    offset: Duration,
    period: Duration,
    until: Duration,
    mut send: impl AsyncFnMut(u64) -> bool,
) {
    tokio::time::sleep(offset).await;
    let mut tick = tokio::time::interval(period);
    let mut n = 0;
    while start.elapsed() < until {
        tick.tick().await;
        if !send(n).await {
            return;
        }
        n += 1;
    }
}

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

    pub fn print(&self, what: &str) {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "  {what:<32} n={:<8} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>8.2} ms",
            self.values.len(),
            ms(self.quantile(0.5)),
            ms(self.quantile(0.99)),
            ms(self.quantile(1.0))
        );
    }
}
