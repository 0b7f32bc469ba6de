//! `latency`: Handoff against two baselines under the same load, each server in a process of
//! its own, the load generator (`load`) in this one. Per run: Handoff (the release binary, fresh
//! database), then the bare relay, then the durable relay (`relay`), each with the same traffic.
//! With `--runs N` the whole sequence repeats N times and the summary gives ranges.
use crate::load::{self, Outcome, Shape};
use crate::process::{raise_fd_limit, Server};
use crate::stats::{fmt_ms, ms, range};

#[derive(Clone, Copy, PartialEq)]
enum Target {
    Handoff,
    /// Handoff with the visitors also typing (`--typing`).
    HandoffTyping,
    Bare,
    Durable,
}

impl Target {
    fn name(self, postgres: bool) -> &'static str {
        match self {
            Target::Handoff if postgres => "Handoff (PostgreSQL)",
            Target::Handoff => "Handoff (SQLite)",
            Target::HandoffTyping if postgres => "Handoff + typing (PG)",
            Target::HandoffTyping => "Handoff + typing (SQLite)",
            Target::Bare => "bare relay",
            Target::Durable => "durable relay",
        }
    }
}

pub struct Options {
    pub shape: Shape,
    pub runs: usize,
    pub postgres: bool,
    /// Only Handoff, no baselines (for profiling).
    pub handoff_only: bool,
    /// Handoff without and with visitors typing (no baselines): what typing frames cost.
    pub typing: bool,
}

pub async fn latency(o: &Options) {
    let fds = raise_fd_limit();
    let s = o.shape;
    println!(
        "latency: {} conversations × {} msg/s from visitors (agents answer at a fifth of that over HTTP), {} agent \
         sockets, {} s measured after {} s warm-up, {} run(s); open-file limit {fds}",
        s.conversations, s.rate, s.agents, s.seconds, s.warmup, o.runs
    );
    let targets: &[Target] = if o.typing {
        &[Target::Handoff, Target::HandoffTyping]
    } else if o.handoff_only {
        &[Target::Handoff]
    } else {
        &[Target::Handoff, Target::Bare, Target::Durable]
    };
    let mut results: Vec<Vec<Outcome>> = vec![Vec::new(); targets.len()];
    for run in 1..=o.runs {
        for (t, &target) in targets.iter().enumerate() {
            println!("\nrun {run}/{} — {}", o.runs, target.name(o.postgres));
            let tag = format!("{run}");
            let server = match target {
                Target::Handoff | Target::HandoffTyping => Server::handoff(o.postgres, &tag).await,
                Target::Bare => Server::relay(false, &tag).await,
                Target::Durable => Server::relay(true, &tag).await,
            };
            let shape = Shape { typing: target == Target::HandoffTyping, ..s };
            let outcome =
                load::run(&server.base, server.pid, shape, target != Target::Bare && target != Target::Durable).await;
            server.stop().await;
            print_outcome(&outcome, s);
            results[t].push(outcome);
        }
        if o.typing {
            let (h, t) = (&results[0][run - 1], &results[1][run - 1]);
            println!("\n  visitor→agent p99 with typing / without: {:.2}", ratio(&t.v2a, &h.v2a));
        }
        if targets.len() == 3 {
            let (h, b, d) = (&results[0][run - 1], &results[1][run - 1], &results[2][run - 1]);
            println!(
                "\n  p99 ratio Handoff / bare relay: visitor→agent {:.1}, agent→visitor {:.1}; \
                 Handoff / durable relay: visitor→agent {:.1}, agent→visitor {:.1}",
                ratio(&h.v2a, &b.v2a),
                ratio(&h.a2v, &b.a2v),
                ratio(&h.v2a, &d.v2a),
                ratio(&h.a2v, &d.a2v)
            );
        }
    }
    summary(o, targets, &results);
}

fn ratio(project: &crate::stats::Samples, baseline: &crate::stats::Samples) -> f64 {
    project.quantile(0.99).as_secs_f64() / baseline.quantile(0.99).as_secs_f64().max(1e-6)
}

fn print_outcome(r: &Outcome, s: Shape) {
    r.v2a.print("visitor→agent");
    r.a2v.print("agent→visitor");
    r.claims.print("handoff claim");
    println!(
        "  messages: visitors sent {} (acknowledged {}, refused {}), agents sent {} (failed {}); \
         lost visitor→agent {}, agent→visitor {}; sequence gaps {}, duplicates {}; claims failed {}",
        r.visitor_sent,
        r.visitor_acked,
        r.visitor_rejected,
        r.agent_sent,
        r.agent_failed,
        r.v2a_lost,
        r.a2v_lost,
        r.gaps,
        r.duplicates,
        r.claims_failed
    );
    let sent = (r.visitor_sent + r.agent_sent).max(1) as f64;
    println!(
        "  frames received per message sent: {:.1} by the agent sockets, {:.1} by the visitor sockets",
        r.agent_frames as f64 / sent,
        r.visitor_frames as f64 / sent
    );
    let secs = r.measured.as_secs_f64().max(1e-9);
    let messages = s.conversations as f64 * s.rate * secs * (1.0 + 1.0 / 5.0);
    println!(
        "  CPU over the {secs:.1} measured s: server {:.2} s ({:.0}% of one core; {:.2} ms per message), \
         generator {:.2} s; senders late p99 {} ms, max {} ms",
        r.server_cpu.as_secs_f64(),
        r.server_cpu.as_secs_f64() / secs * 100.0,
        r.server_cpu.as_secs_f64() * 1000.0 / messages.max(1.0),
        r.generator_cpu.as_secs_f64(),
        fmt_ms(ms(r.lateness.quantile(0.99))),
        fmt_ms(ms(r.lateness.quantile(1.0)))
    );
    if let Some(l) = r.lists {
        println!(
            "  agents' lists: {} sockets, {} rows compared with the server's: {} stale; {} conversations missing; \
             {} live summaries older than the row they replaced",
            l.agents, l.rows, l.stale, l.missing, l.backwards
        );
    }
}

/// Ranges over the runs, one line per server.
fn summary(o: &Options, targets: &[Target], results: &[Vec<Outcome>]) {
    if o.runs < 2 {
        return;
    }
    println!("\nsummary over {} runs (min–max), milliseconds:", o.runs);
    println!(
        "  {:<22} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14}",
        "", "v→a p50", "v→a p99", "v→a max", "a→v p50", "a→v p99", "a→v max"
    );
    for (t, target) in targets.iter().enumerate() {
        let col = |f: &dyn Fn(&Outcome) -> f64| range(&results[t].iter().map(f).collect::<Vec<_>>(), fmt_ms);
        println!(
            "  {:<22} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14}",
            target.name(o.postgres),
            col(&|r| r.v2a.summary_ms()[0]),
            col(&|r| r.v2a.summary_ms()[1]),
            col(&|r| r.v2a.summary_ms()[2]),
            col(&|r| r.a2v.summary_ms()[0]),
            col(&|r| r.a2v.summary_ms()[1]),
            col(&|r| r.a2v.summary_ms()[2]),
        );
    }
    let h = &results[0];
    let col = |f: &dyn Fn(&Outcome) -> f64| range(&h.iter().map(f).collect::<Vec<_>>(), fmt_ms);
    println!(
        "  Handoff's claims: p50 {} ms, p99 {} ms; server CPU {} s per measured second",
        col(&|r| r.claims.summary_ms()[0]),
        col(&|r| r.claims.summary_ms()[1]),
        range(&h.iter().map(|r| r.server_cpu.as_secs_f64() / r.measured.as_secs_f64()).collect::<Vec<_>>(), |v| {
            format!("{v:.2}")
        })
    );
    let lost: u64 = results.iter().flatten().map(|r| r.v2a_lost + r.a2v_lost + r.gaps).sum();
    let dup: u64 = results.iter().flatten().map(|r| r.duplicates).sum();
    let wrong: usize = h.iter().filter_map(|r| r.lists).map(|l| l.stale + l.missing).sum();
    println!("  all runs: lost or skipped {lost}, duplicated {dup}; stale or missing list rows {wrong}");
    if o.typing {
        let with = &results[1];
        let quantile = |q: usize| {
            let v: Vec<f64> =
                h.iter().zip(with).map(|(x, y)| y.v2a.summary_ms()[q] / x.v2a.summary_ms()[q].max(1e-6)).collect();
            range(&v, |v| format!("{v:.2}"))
        };
        println!("  visitor→agent with typing / without: p50 {}, p99 {}", quantile(0), quantile(1));
    }
    if targets.len() == 3 {
        for (b, name) in [(1, "bare relay"), (2, "durable relay")] {
            let ratios = |f: fn(&Outcome) -> &crate::stats::Samples| {
                let v: Vec<f64> = h.iter().zip(&results[b]).map(|(x, y)| ratio(f(x), f(y))).collect();
                range(&v, |v| format!("{v:.1}"))
            };
            println!(
                "  p99 ratio Handoff / {name}: visitor→agent {}, agent→visitor {}",
                ratios(|r| &r.v2a),
                ratios(|r| &r.a2v)
            );
        }
    }
}
