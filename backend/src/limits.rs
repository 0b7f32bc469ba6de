//! In-memory rate limits for what cannot be counted in the database without storing more than
//! we want to (e.g. visitors' IP addresses). Each server process keeps its own windows: with N
//! processes behind a balancer a client gets at most N times the limit, which still bounds abuse.
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys kept at most (the oldest windows are dropped first when there are more).
const MAX_KEYS: usize = 100_000;

/// At most `max` events per key within any `window`.
pub struct RateWindow<K> {
    window: Duration,
    max: u32,
    hits: Mutex<HashMap<K, VecDeque<Instant>>>,
}

impl<K: Eq + Hash + Clone> RateWindow<K> {
    /// `max` 0 means unlimited.
    pub fn new(max: u32, window: Duration) -> Self {
        Self { window, max, hits: Mutex::new(HashMap::new()) }
    }

    /// Records an event for `key` now, or refuses it with how long to wait.
    pub fn hit(&self, key: &K) -> Result<(), Duration> {
        self.hit_at(key, Instant::now())
    }

    /// Whether an event for `key` would be refused now (how long to wait), without recording one.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        let now = Instant::now();
        if self.max == 0 {
            return Ok(());
        }
        let hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        let Some(queue) = hits.get(key) else { return Ok(()) };
        let recent: Vec<&Instant> = queue.iter().filter(|t| now.duration_since(**t) < self.window).collect();
        match recent.first() {
            Some(oldest) if recent.len() as u32 >= self.max => Err(self.window - now.duration_since(**oldest)),
            _ => Ok(()),
        }
    }

    /// Forgets `key`'s events (e.g. after a successful sign-in).
    pub fn clear(&self, key: &K) {
        self.hits.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }

    fn hit_at(&self, key: &K, now: Instant) -> Result<(), Duration> {
        if self.max == 0 {
            return Ok(());
        }
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        if hits.len() >= MAX_KEYS && !hits.contains_key(key) {
            let window = self.window;
            hits.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
            if hits.len() >= MAX_KEYS {
                return Err(self.window);
            }
        }
        let queue = hits.entry(key.clone()).or_default();
        while queue.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
            queue.pop_front();
        }
        if queue.len() as u32 >= self.max {
            let oldest = *queue.front().expect("full queue");
            return Err(self.window - now.duration_since(oldest));
        }
        queue.push_back(now);
        Ok(())
    }
}

/// "12 s", "3 min": a wait in words for error messages (rounded up).
pub fn wait_words(wait: Duration) -> String {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    if secs < 120 {
        format!("{} s", secs.max(1))
    } else {
        format!("{} min", secs.div_ceil(60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_key_within_the_window() {
        let w = RateWindow::new(2, Duration::from_secs(10));
        let t0 = Instant::now();
        assert!(w.hit_at(&"a", t0).is_ok());
        assert!(w.hit_at(&"a", t0 + Duration::from_secs(1)).is_ok());
        assert_eq!(w.hit_at(&"a", t0 + Duration::from_secs(2)), Err(Duration::from_secs(8)));
        assert!(w.hit_at(&"b", t0 + Duration::from_secs(2)).is_ok(), "keys are separate");
        assert!(w.hit_at(&"a", t0 + Duration::from_secs(10)).is_ok(), "the first hit left the window");
        assert!(RateWindow::new(0, Duration::from_secs(1)).hit(&1).is_ok(), "0 = unlimited");
        let w = RateWindow::new(2, Duration::from_secs(60));
        assert!(w.check(&"a").is_ok());
        w.hit(&"a").unwrap();
        assert!(w.check(&"a").is_ok(), "check records nothing");
        w.hit(&"a").unwrap();
        assert!(w.check(&"a").unwrap_err() > Duration::from_secs(58));
        w.clear(&"a");
        assert!(w.check(&"a").is_ok());
    }

    #[test]
    fn waits_in_words() {
        assert_eq!(wait_words(Duration::from_millis(1500)), "2 s");
        assert_eq!(wait_words(Duration::from_secs(59)), "59 s");
        assert_eq!(wait_words(Duration::from_secs(600)), "10 min");
    }
}
