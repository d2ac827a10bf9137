//! Console input: a prompt, then whatever line arrives on the PL011's
//! receive side within [`TIMEOUT_S`] seconds of counter time.
//!
//! Not a pass/fail check: only the VM with the hypervisor's console focus
//! gets host input, so nothing arriving is no failure. It prints
//! `testguest: type a line`, then `testguest: console input: <text>` with
//! the bytes read before the first `\n` or `\r` (at most [`MAX_BYTES`]), or
//! `testguest: console input: none` when there are none. The bytes are not
//! echoed as they arrive.
//!
//! The hypervisor moves host input into the UART's receive FIFO about every
//! 10 ms and drops what does not fit, so the FIFOs are switched on (16 bytes
//! rather than one) and the FIFO is polled in a tight loop.

use core::fmt;

use crate::timer;
use crate::uart::Uart;

/// The longest line kept, in bytes.
const MAX_BYTES: usize = 64;
/// How long to wait for a line, in seconds of counter time.
const TIMEOUT_S: u64 = 2;

/// Reads bytes into `buf` until a `\n` or `\r` (not stored), a full `buf`,
/// or [`TIMEOUT_S`] seconds from now; returns how many were stored.
fn read_line(uart: &mut Uart, buf: &mut [u8]) -> usize {
    let deadline = timer::counter().saturating_add(timer::ticks_per_second().saturating_mul(TIMEOUT_S));
    let mut len = 0;
    while len < buf.len() && timer::counter() < deadline {
        match uart.try_get_byte() {
            Some(b'\n' | b'\r') => break,
            Some(byte) => {
                buf[len] = byte;
                len += 1;
            }
            None => core::hint::spin_loop(),
        }
    }
    len
}

/// Received bytes shown as text: printable ASCII as it is, any other byte
/// as `\xNN`, so that control bytes cannot disturb the console.
struct Text<'a>(&'a [u8]);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &byte in self.0 {
            if byte == b' ' || byte.is_ascii_graphic() {
                write!(f, "{}", char::from(byte))?;
            } else {
                write!(f, "\\x{:02x}", byte)?;
            }
        }
        Ok(())
    }
}

/// Prompts for a line and prints what arrived.
pub fn run() {
    let mut uart = Uart;
    uart.enable_fifos();
    println!("testguest: type a line");
    let mut buf = [0; MAX_BYTES];
    let len = read_line(&mut uart, &mut buf);
    match &buf[..len] {
        [] => println!("testguest: console input: none"),
        line => println!("testguest: console input: {}", Text(line)),
    }
}
