//! The `log` backend of the host kernel.
//!
//! Owns: the line format (`[ seconds.micros cpu LEVEL target] message`, coloured
//! by level), the run-time level filter (`LOG=` of the Makefile), and keeping
//! lines from different CPUs whole (one lock around each line).
//!
//! Does not own: the console, the clock or the CPU id. Those come from the
//! host through the [`LogIf`] interface (a `crate_interface` hook), so this
//! crate has no dependency on `axhal` and is tested on the build machine.
//!
//! Uses the `log` crate's facade, `crate_interface` for the hook and `kspin`
//! for the line lock.

#![cfg_attr(not(test), no_std)]

mod format;

use core::fmt::{self, Write};
use core::str::FromStr;

pub use format::{Colour, LineHeader, format_line};
pub use log::{Level, LevelFilter, debug, error, info, trace, warn};

/// What the logger needs from the host. Implemented once, by `axruntime`.
#[crate_interface::def_interface]
pub trait LogIf {
    /// Writes a string to the console, unbuffered.
    fn console_write_str(s: &str);
    /// Nanoseconds since boot (monotonic).
    fn current_time_nanos() -> u64;
    /// Logical id of the CPU running this code, or `None` before per-CPU
    /// data is set up.
    fn current_cpu_id() -> Option<usize>;
}

static PRINT_LOCK: kspin::SpinNoIrq<()> = kspin::SpinNoIrq::new(());

struct ConsoleWriter;

impl Write for ConsoleWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        crate_interface::call_interface!(LogIf::console_write_str(s));
        Ok(())
    }
}

/// Prints formatted text to the console with no header, as one unit.
pub fn print_fmt(args: fmt::Arguments) {
    let _guard = PRINT_LOCK.lock();
    let _ = ConsoleWriter.write_fmt(args);
}

/// Prints to the console, like `std::print!`.
#[macro_export]
macro_rules! ax_print {
    ($($arg:tt)*) => { $crate::print_fmt(format_args!($($arg)*)) };
}

/// Prints a line to the console, like `std::println!`.
#[macro_export]
macro_rules! ax_println {
    () => { $crate::print_fmt(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::print_fmt(format_args!("{}\n", format_args!($($arg)*))) };
}

struct Logger;

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let header = LineHeader {
            nanos: crate_interface::call_interface!(LogIf::current_time_nanos()),
            cpu: crate_interface::call_interface!(LogIf::current_cpu_id()),
            level: record.level(),
            target: record.target(),
        };
        let _guard = PRINT_LOCK.lock();
        let _ = format_line(&mut ConsoleWriter, &header, Colour::On, *record.args());
    }

    fn flush(&self) {}
}

/// Installs the logger. Safe to call more than once; later calls do nothing.
pub fn init() {
    let _ = log::set_logger(&Logger);
    log::set_max_level(LevelFilter::Warn);
}

/// Sets the level filter from a name (`off`, `error`, `warn`, `info`,
/// `debug`, `trace`, any case). Returns the filter it set, or `None` (and
/// changes nothing) for an unknown name.
pub fn set_max_level(name: &str) -> Option<LevelFilter> {
    let filter = LevelFilter::from_str(name).ok()?;
    log::set_max_level(filter);
    Some(filter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_names_parse_and_unknown_is_rejected() {
        assert_eq!(set_max_level("DEBUG"), Some(LevelFilter::Debug));
        assert_eq!(log::max_level(), LevelFilter::Debug);
        assert_eq!(set_max_level("verbose"), None);
        assert_eq!(log::max_level(), LevelFilter::Debug, "an unknown name changes nothing");
        assert_eq!(set_max_level("off"), Some(LevelFilter::Off));
    }
}
