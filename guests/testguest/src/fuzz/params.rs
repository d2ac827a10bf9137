//! The run's parameters, read as one line from the console:
//! `SEED OPS [CLASSES]`.
//!
//! - `SEED`: the PRNG seed (decimal or `0x` hex);
//! - `OPS`: operations per vCPU;
//! - `CLASSES`: `default` (today every class, as `all`), `all`, or a
//!   comma-separated list of class
//!   names, each optionally prefixed by `-` to take it out of what the
//!   list has so far (`all,-dc_zva`); a list that starts with a name
//!   starts from nothing, one that starts with `-` from the default.
//!
//! Without a line within [`WAIT_MS`], the defaults below are used.

use crate::timer;
use crate::uart::Uart;

use super::class::{self, Class};

/// How long to wait for the first byte of the line.
const WAIT_MS: u64 = 10_000;
/// How long to wait for each further byte.
const BYTE_WAIT_MS: u64 = 2_000;
/// The longest line kept (the rest is dropped).
const LINE_MAX: usize = 160;
/// The seed without a parameter line.
const DEFAULT_SEED: u64 = 1;
/// Operations per vCPU without a parameter line.
const DEFAULT_OPS: u64 = 1_000;

/// A run's parameters.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// The PRNG seed.
    pub seed: u64,
    /// Operations per vCPU.
    pub ops: u64,
    /// The classes that run, one bit each ([`Class::bit`]).
    pub classes: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            seed: DEFAULT_SEED,
            ops: DEFAULT_OPS,
            classes: class::default_mask(),
        }
    }
}

/// Parses a decimal or `0x` hexadecimal number.
fn number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// Parses a class list (see the module doc); `None` names the first word
/// it does not know.
fn classes(text: &str) -> Result<u64, &str> {
    let mut mask = if text.starts_with('-') {
        class::default_mask()
    } else {
        0
    };
    for word in text.split(',').filter(|w| !w.is_empty()) {
        let (remove, name) = match word.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, word),
        };
        let bits = match name {
            "all" => class::all_mask(),
            "default" => class::default_mask(),
            _ => Class::from_name(name).map(Class::bit).ok_or(word)?,
        };
        if remove { mask &= !bits } else { mask |= bits }
    }
    Ok(mask)
}

/// Parses a parameter line; the error says what is wrong.
pub fn parse(line: &str) -> Result<Params, &str> {
    let mut words = line.split_ascii_whitespace();
    let mut params = Params::default();
    params.seed = words.next().and_then(number).ok_or("SEED is not a number")?;
    params.ops = words.next().and_then(number).ok_or("OPS is not a number")?;
    if let Some(list) = words.next() {
        params.classes = classes(list).map_err(|_| "unknown class in CLASSES")?;
    }
    Ok(params)
}

/// Reads one line from the console (without its end), waiting at most
/// [`WAIT_MS`] for it to start; `None` if nothing came.
fn read_line(buf: &mut [u8; LINE_MAX]) -> Option<&str> {
    let mut uart = Uart;
    uart.enable_fifos();
    let mut len = 0;
    let mut wait = WAIT_MS;
    loop {
        let mut byte = None;
        timer::wait_ms(wait, || {
            byte = uart.try_get_byte();
            byte.is_some()
        });
        let b = match byte {
            Some(b'\n' | b'\r') if len > 0 => break,
            Some(b'\n' | b'\r') => continue,
            Some(b) => b,
            None if len > 0 => break,
            None => return None,
        };
        if let Some(slot) = buf.get_mut(len) {
            *slot = b;
            len += 1;
        }
        wait = BYTE_WAIT_MS;
    }
    core::str::from_utf8(buf.get(..len)?).ok()
}

/// Prompts for the parameter line and reads it; the defaults if none
/// comes or it does not parse (the reason is printed).
pub fn read() -> Params {
    println!("fuzz: parameters? (SEED OPS [CLASSES])");
    let mut buf = [0; LINE_MAX];
    match read_line(&mut buf) {
        None => {
            println!("fuzz: no parameter line; the defaults");
            Params::default()
        }
        Some(line) => parse(line).unwrap_or_else(|e| {
            println!("fuzz: bad parameter line ({}); the defaults", e);
            Params::default()
        }),
    }
}
