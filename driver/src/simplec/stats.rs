//! `simple build --stats`: what was compiled and reused, and where the time
//! went.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::session::CacheLoad;

pub struct Stats {
    started: Instant,
    last: Instant,
    stages: Vec<(&'static str, Duration)>,
    pub cache: CacheLoad,
    /// Functions compiled (and stored in the cache) by this build.
    pub compiled: usize,
}

impl Stats {
    pub fn start() -> Stats {
        let now = Instant::now();
        Stats { started: now, last: now, stages: Vec::new(), cache: CacheLoad::default(), compiled: 0 }
    }

    /// Ends the current stage.
    pub fn stage(&mut self, name: &'static str) {
        let now = Instant::now();
        self.stages.push((name, now - self.last));
        self.last = now;
    }

    /// The time from the start to the end of the last stage.
    pub fn elapsed(&self) -> Duration {
        self.last - self.started
    }

    /// What was compiled and reused, then the stages.
    pub fn report(&self, functions: usize) -> String {
        let CacheLoad { reused, damaged } = self.cache;
        let mut out = format!("{functions} functions: {} compiled, {reused} reused from the cache", self.compiled);
        if damaged > 0 {
            let _ = write!(out, " ({damaged} damaged cache entries rebuilt)");
        }
        out.push('\n');
        out + &self.stages()
    }

    /// One line per stage, then the total.
    pub fn stages(&self) -> String {
        let mut out = String::new();
        let total = ("total", self.elapsed());
        for (name, time) in self.stages.iter().chain([&total]) {
            let _ = writeln!(out, "  {name:<16}{:>9.1} ms", time.as_secs_f64() * 1e3);
        }
        out
    }
}
