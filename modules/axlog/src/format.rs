//! The log line format, kept free of I/O so it is tested on the build machine.

use core::fmt::{self, Write};
use log::Level;

/// Whether a line carries ANSI colour escapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Colour {
    /// Level and message coloured, for a terminal.
    On,
    /// Plain text.
    Off,
}

/// Everything printed before the message.
#[derive(Clone, Copy, Debug)]
pub struct LineHeader<'a> {
    /// Nanoseconds since boot.
    pub nanos: u64,
    /// Logical CPU id, `None` before per-CPU data exists (printed as `-`).
    pub cpu: Option<usize>,
    /// Severity.
    pub level: Level,
    /// Module path of the caller.
    pub target: &'a str,
}

const RESET: &str = "\x1b[0m";
const DIM: &str = "\x1b[90m";

fn level_colour(level: Level) -> &'static str {
    match level {
        Level::Error => "\x1b[31m",
        Level::Warn => "\x1b[93m",
        Level::Info => "\x1b[32m",
        Level::Debug => "\x1b[36m",
        Level::Trace => "\x1b[90m",
    }
}

struct Cpu(Option<usize>);

impl fmt::Display for Cpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, "{id}"),
            None => f.write_str("-"),
        }
    }
}

/// Writes one log line, newline included:
/// `[   1.234567 0 INFO  axhal::mem] message`.
pub fn format_line(w: &mut impl Write, h: &LineHeader, colour: Colour, message: fmt::Arguments) -> fmt::Result {
    let secs = h.nanos / 1_000_000_000;
    let micros = (h.nanos % 1_000_000_000) / 1_000;
    let cpu = Cpu(h.cpu);
    match colour {
        Colour::Off => writeln!(w, "[{secs:4}.{micros:06} {cpu} {:<5} {}] {message}", h.level, h.target),
        Colour::On => {
            let c = level_colour(h.level);
            writeln!(
                w,
                "{DIM}[{secs:4}.{micros:06} {cpu}{RESET} {c}{:<5}{RESET} {DIM}{}]{RESET} {c}{message}{RESET}",
                h.level, h.target
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(h: &LineHeader, colour: Colour, msg: &str) -> String {
        let mut s = String::new();
        format_line(&mut s, h, colour, format_args!("{msg}")).unwrap();
        s
    }

    #[test]
    fn plain_line_has_time_cpu_level_target_message() {
        let h = LineHeader {
            nanos: 1_234_567_890,
            cpu: Some(3),
            level: Level::Info,
            target: "axhal::mem",
        };
        assert_eq!(
            line(&h, Colour::Off, "hello"),
            "[   1.234567 3 INFO  axhal::mem] hello\n"
        );
    }

    #[test]
    fn unknown_cpu_prints_dash_and_time_pads() {
        let h = LineHeader {
            nanos: 5_000,
            cpu: None,
            level: Level::Error,
            target: "t",
        };
        assert_eq!(line(&h, Colour::Off, "x"), "[   0.000005 - ERROR t] x\n");
        let h = LineHeader {
            nanos: 12_345_000_000_000,
            cpu: Some(0),
            level: Level::Warn,
            target: "t",
        };
        assert_eq!(line(&h, Colour::Off, "y"), "[12345.000000 0 WARN  t] y\n");
    }

    #[test]
    fn colour_wraps_level_and_message_and_resets() {
        let h = LineHeader {
            nanos: 0,
            cpu: Some(1),
            level: Level::Error,
            target: "m",
        };
        let s = line(&h, Colour::On, "bad");
        assert!(s.contains("\x1b[31mERROR\x1b[0m"), "{s:?}");
        assert!(s.ends_with("\x1b[31mbad\x1b[0m\n"), "{s:?}");
        let d = line(
            &LineHeader {
                level: Level::Debug,
                ..h
            },
            Colour::On,
            "d",
        );
        assert!(d.contains("\x1b[36mDEBUG"), "{d:?}");
    }
}
