//! The progress line of `rasp verify` on stderr: a bar with throughput and
//! time left when stderr is a terminal, a plain line every half minute when
//! it is not (a log then shows the run is alive without filling up).

use rasp::VerifyProgress;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often the bar is redrawn on a terminal.
const REDRAW: Duration = Duration::from_millis(200);
/// How long a run must last before anything is drawn (short runs stay quiet).
const QUIET_START: Duration = Duration::from_millis(500);
/// How often a plain line is printed when stderr is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(30);
/// Characters of the bar itself.
const BAR_WIDTH: usize = 24;

/// Counts inputs as the verifier runs them and shows how far it has got.
pub struct ProgressLine {
    start: Instant,
    total: u64,
    how: &'static str,
    terminal: bool,
    last_shown: Option<Instant>,
    drawn: bool,
}

impl ProgressLine {
    /// A progress line on stderr, drawn as a bar when stderr is a terminal.
    pub fn on_stderr() -> ProgressLine {
        ProgressLine::new(std::io::stderr().is_terminal())
    }

    fn new(terminal: bool) -> ProgressLine {
        ProgressLine { start: Instant::now(), total: 0, how: "", terminal, last_shown: None, drawn: false }
    }

    /// The text shown after `done` inputs, `elapsed` into the run.
    fn line(&self, done: u64, length: usize, elapsed: Duration) -> String {
        let fraction = if self.total == 0 { 1.0 } else { done as f64 / self.total as f64 };
        let rate = done as f64 / elapsed.as_secs_f64().max(1e-9);
        let left = if rate > 0.0 { self.total.saturating_sub(done) as f64 / rate } else { f64::INFINITY };
        if self.terminal {
            let filled = ((fraction * BAR_WIDTH as f64) as usize).min(BAR_WIDTH);
            format!(
                "[{}{}] {:>3.0}% {done}/{} {} length {length}, {}/s, ETA {}",
                "#".repeat(filled),
                "-".repeat(BAR_WIDTH - filled),
                fraction * 100.0,
                self.total,
                self.how,
                short_count(rate),
                clock(left)
            )
        } else {
            format!(
                "verify: {done} of {} inputs ({:.0}%, {}, now at length {length}), {} inputs/s, about {} left",
                self.total,
                fraction * 100.0,
                self.how,
                short_count(rate),
                clock(left)
            )
        }
    }
}

impl VerifyProgress for ProgressLine {
    fn start(&mut self, total: u64, exhaustive: bool) {
        self.start = Instant::now();
        self.total = total;
        self.how = if exhaustive { "exhaustive" } else { "sampled" };
    }

    fn advance(&mut self, done: u64, length: usize) {
        let now = Instant::now();
        let elapsed = now - self.start;
        let due = match self.last_shown {
            None if self.terminal => elapsed >= QUIET_START,
            None => elapsed >= PLAIN_EVERY,
            Some(last) => now - last >= if self.terminal { REDRAW } else { PLAIN_EVERY },
        };
        if !due {
            return;
        }
        self.last_shown = Some(now);
        let line = self.line(done, length, elapsed);
        let mut err = std::io::stderr().lock();
        // A failed write to stderr only loses the progress line.
        let _ = if self.terminal {
            self.drawn = true;
            write!(err, "\r\x1b[K{line}")
        } else {
            writeln!(err, "{line}")
        };
        let _ = err.flush();
    }

    fn finish(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }
}

/// 950, 12.3k, 4.5M.
fn short_count(value: f64) -> String {
    if value >= 1e6 {
        format!("{:.1}M", value / 1e6)
    } else if value >= 1e4 {
        format!("{:.0}k", value / 1e3)
    } else if value >= 1e3 {
        format!("{:.1}k", value / 1e3)
    } else {
        format!("{value:.0}")
    }
}

/// Seconds as m:ss or h:mm:ss (`?` when unknown).
fn clock(seconds: f64) -> String {
    if !seconds.is_finite() || seconds > 1e8 {
        return "?".to_string();
    }
    let whole = seconds.round() as u64;
    let (hours, minutes, secs) = (whole / 3600, whole / 60 % 60, whole % 60);
    if hours > 0 { format!("{hours}:{minutes:02}:{secs:02}") } else { format!("{minutes}:{secs:02}") }
}

#[cfg(test)]
mod tests {
    use super::{ProgressLine, clock, short_count};
    use rasp::VerifyProgress;
    use std::time::Duration;

    #[test]
    fn the_bar_shows_share_rate_and_time_left() {
        let mut bar = ProgressLine::new(true);
        bar.start(1000, false);
        // 250 of 1000 in 5 s: 50 inputs/s, 750 left take 15 s.
        let line = bar.line(250, 7, Duration::from_secs(5));
        assert_eq!(line, "[######------------------]  25% 250/1000 sampled length 7, 50/s, ETA 0:15");
        let mut plain = ProgressLine::new(false);
        plain.start(4_000_000, true);
        let line = plain.line(1_000_000, 9, Duration::from_secs(100));
        assert_eq!(
            line,
            "verify: 1000000 of 4000000 inputs (25%, exhaustive, now at length 9), 10k inputs/s, about 5:00 left"
        );
    }

    #[test]
    fn counts_and_clocks_read_short() {
        assert_eq!(short_count(950.0), "950");
        assert_eq!(short_count(1234.0), "1.2k");
        assert_eq!(short_count(4_500_000.0), "4.5M");
        assert_eq!(clock(59.4), "0:59");
        assert_eq!(clock(3725.0), "1:02:05");
        assert_eq!(clock(f64::INFINITY), "?");
    }
}
