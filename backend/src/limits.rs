//! In-memory rate limits for what cannot be counted in the database without storing more than
//! we want to (e.g. visitors' IP addresses). Each server process keeps its own windows: with N
//! processes behind a balancer a client gets at most N times the limit, which still bounds abuse.
//! (Sign-in failures are counted in the database instead: [`crate::signin`].)
//!
//! Keys are bounded: client addresses go through [`client_key`] (an IPv6 client is one /64), and
//! a window table keeps at most `MAX_KEYS` keys; when it is full, the keys idle the longest are
//! dropped, so a flood of new keys cannot lock everyone out.
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys kept at most (the oldest windows are dropped first when there are more).
const MAX_KEYS: usize = 100_000;

/// The key a client address is limited by: an IPv4 address itself (also when written as
/// IPv4-mapped IPv6), an IPv6 address's /64 network (what one subscriber gets; changing the low
/// 64 bits must not buy new attempts).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

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
        self.hit_at_bounded(key, now, MAX_KEYS)
    }

    fn hit_at_bounded(&self, key: &K, now: Instant, max_keys: usize) -> Result<(), Duration> {
        if self.max == 0 {
            return Ok(());
        }
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        if hits.len() >= max_keys && !hits.contains_key(key) {
            let window = self.window;
            hits.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
            if hits.len() >= max_keys {
                evict_oldest(&mut hits, max_keys);
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

/// Drops the keys whose last event is oldest: an eighth of the table, so that a flood of new keys
/// pays for the scan once per many keys.
fn evict_oldest<K: Eq + Hash + Clone>(hits: &mut HashMap<K, VecDeque<Instant>>, max_keys: usize) {
    let mut last: Vec<Instant> = hits.values().filter_map(|q| q.back().copied()).collect();
    let drop = (max_keys / 8).max(1).min(last.len());
    if drop == 0 {
        return;
    }
    let (_, cut, _) = last.select_nth_unstable(drop - 1);
    let cut = *cut;
    let mut dropped = 0;
    hits.retain(|_, q| {
        let old = dropped < drop && q.back().is_none_or(|t| *t <= cut);
        dropped += usize::from(old);
        !old
    });
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
    fn a_full_table_drops_the_oldest_keys_instead_of_refusing_newcomers() {
        let w = RateWindow::new(1, Duration::from_secs(3600));
        let t0 = Instant::now();
        for i in 0..8u32 {
            assert!(w.hit_at_bounded(&i, t0 + Duration::from_secs(u64::from(i)), 8).is_ok());
        }
        let t = t0 + Duration::from_secs(60);
        assert!(w.hit_at_bounded(&100, t, 8).is_ok(), "a newcomer is let in");
        assert!(w.hit_at_bounded(&7, t, 8).is_err(), "recent keys keep their window");
        assert!(w.hit_at_bounded(&0, t, 8).is_ok(), "the oldest key was dropped");
    }

    #[test]
    fn clients_are_keyed_by_ipv4_address_or_ipv6_64_block() {
        let key = |s: &str| client_key(s.parse().unwrap()).to_string();
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
        assert_eq!(key("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::");
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
    }

    #[test]
    fn waits_in_words() {
        assert_eq!(wait_words(Duration::from_millis(1500)), "2 s");
        assert_eq!(wait_words(Duration::from_secs(59)), "59 s");
        assert_eq!(wait_words(Duration::from_secs(600)), "10 min");
    }
}
