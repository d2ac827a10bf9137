//! The console: the 16550 UART at COM1, transmit only, polled (no
//! interrupts, no set-up: the hypervisor's emulation and QEMU's UART need
//! none).
//!
//! Both vCPUs print; a spin lock keeps their lines whole. The exception
//! handler prints without it ([`print_fmt_unlocked`]), as the vCPU it runs
//! on may hold it.

use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::platform::UART_PORT;
use crate::port;

/// Transmit holding register (write).
const THR: u16 = 0;
/// Line status register (read).
const LSR: u16 = 5;
/// Scratch register: a byte the UART only stores.
const SCR: u16 = 7;
/// `LSR.THRE`: the transmit holding register is empty.
pub const LSR_THRE: u8 = 1 << 5;
/// How many times to poll a busy transmitter before sending anyway, so that
/// a stuck flag cannot hang the guest silently.
const TX_POLL_LIMIT: u32 = 1_000_000;

/// The UART at [`UART_PORT`].
pub struct Uart;

impl Uart {
    /// Reads the line status register.
    pub fn line_status(&self) -> u8 {
        // SAFETY: LSR of the 16550 at UART_PORT; reading it has no effect
        // on transmission.
        unsafe { port::inb(UART_PORT + LSR) }
    }

    /// Reads the scratch register.
    pub fn scratch(&self) -> u8 {
        // SAFETY: SCR of the 16550 at UART_PORT, a plain storage byte.
        unsafe { port::inb(UART_PORT + SCR) }
    }

    /// Writes the scratch register.
    pub fn set_scratch(&mut self, value: u8) {
        // SAFETY: SCR of the 16550 at UART_PORT, a plain storage byte.
        unsafe { port::outb(UART_PORT + SCR, value) };
    }

    /// Transmits one byte, waiting (bounded) for the transmitter.
    pub fn put_byte(&mut self, byte: u8) {
        for _ in 0..TX_POLL_LIMIT {
            if self.line_status() & LSR_THRE != 0 {
                break;
            }
            core::hint::spin_loop();
        }
        // SAFETY: THR of the 16550 at UART_PORT (DLAB is never set here).
        unsafe { port::outb(UART_PORT + THR, byte) };
    }
}

impl fmt::Write for Uart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        s.bytes().for_each(|b| self.put_byte(b));
        Ok(())
    }
}

/// Held while a vCPU prints.
static LOCK: AtomicBool = AtomicBool::new(false);

/// Writes formatted text to the UART under the lock; the macros call this.
pub fn print_fmt(args: fmt::Arguments) {
    while LOCK.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
        core::hint::spin_loop();
    }
    print_fmt_unlocked(args);
    LOCK.store(false, Ordering::Release);
}

/// Writes formatted text to the UART without taking the lock (for the
/// exception handler, which does not return).
pub fn print_fmt_unlocked(args: fmt::Arguments) {
    // Uart::write_str never fails.
    let _ = fmt::Write::write_fmt(&mut Uart, args);
}

/// Prints a line (ending in `\n`) to the UART.
macro_rules! println {
    () => { $crate::uart::print_fmt(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::uart::print_fmt(format_args!("{}\n", format_args!($($arg)*))) };
}
