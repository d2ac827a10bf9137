//! The console: the PL011 UART the hypervisor emulates. Transmit, and
//! polled receive for the console input step (no interrupts).
//!
//! No lock: the vCPUs take turns by protocol (vCPU 0 does not print while
//! it waits for vCPU 1), because a spinlock would need exclusives that the
//! MMU-off memory type does not promise (see [`crate::shared`]).

use core::fmt;

use crate::mmio::{self, Load, Width};
use crate::platform::UART_BASE;

/// Data register: a write transmits its low byte; a read pops the oldest
/// received byte (bits \[7:0\]; the error flags above them are ignored).
const UARTDR: usize = 0x00;
/// `UARTDR` bits that hold the received byte.
const UARTDR_DATA: u64 = 0xFF;
/// Flag register.
const UARTFR: usize = 0x18;
/// `UARTFR.RXFE`: the receive FIFO is empty.
const UARTFR_RXFE: u64 = 1 << 4;
/// `UARTFR.TXFF`: the transmit FIFO is full.
const UARTFR_TXFF: u64 = 1 << 5;
/// Line control register.
const UARTLCR_H: usize = 0x2C;
/// `UARTLCR_H.FEN`: the FIFOs are on. While it is clear the receive side
/// holds a single byte.
const UARTLCR_H_FEN: u64 = 1 << 4;
/// How many times to poll a full FIFO before sending anyway, so that a
/// stuck flag cannot hang the guest silently.
const TX_POLL_LIMIT: u32 = 1_000_000;

/// The UART at [`UART_BASE`].
pub struct Uart;

impl Uart {
    /// Reads the flag register.
    fn flags(&self) -> u64 {
        // SAFETY: UARTFR of the PL011 at UART_BASE, a 32-bit register read
        // with a 32-bit aligned load.
        unsafe { mmio::load(UART_BASE + UARTFR, Load::U32) }
    }

    /// Transmits one byte, waiting (bounded) for room in the FIFO.
    pub fn put_byte(&mut self, byte: u8) {
        for _ in 0..TX_POLL_LIMIT {
            if self.flags() & UARTFR_TXFF == 0 {
                break;
            }
            core::hint::spin_loop();
        }
        // SAFETY: UARTDR of the PL011 at UART_BASE, written with a 32-bit
        // aligned store.
        unsafe { mmio::store(UART_BASE + UARTDR, Width::W32, u64::from(byte)) };
    }

    /// Turns the FIFOs on (`UARTLCR_H.FEN`), keeping the other line
    /// settings, so that the receive side holds 16 bytes instead of one.
    pub fn enable_fifos(&mut self) {
        // SAFETY: UARTLCR_H of the PL011 at UART_BASE, a 32-bit register
        // read with a 32-bit aligned load.
        let line = unsafe { mmio::load(UART_BASE + UARTLCR_H, Load::U32) };
        // SAFETY: the same register, written with a 32-bit aligned store;
        // only FEN changes.
        unsafe { mmio::store(UART_BASE + UARTLCR_H, Width::W32, line | UARTLCR_H_FEN) };
    }

    /// Returns the oldest received byte, or `None` at once when the
    /// receive FIFO is empty (`UARTFR.RXFE`). Does not wait.
    pub fn try_get_byte(&mut self) -> Option<u8> {
        if self.flags() & UARTFR_RXFE != 0 {
            return None;
        }
        // SAFETY: UARTDR of the PL011 at UART_BASE, a 32-bit register read
        // with a 32-bit aligned load; the read pops one received byte.
        let data = unsafe { mmio::load(UART_BASE + UARTDR, Load::U32) };
        // The mask keeps the value within a byte.
        Some((data & UARTDR_DATA) as u8)
    }
}

impl fmt::Write for Uart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        s.bytes().for_each(|b| self.put_byte(b));
        Ok(())
    }
}

/// Writes formatted text to the UART; the macros call this.
pub fn print_fmt(args: fmt::Arguments) {
    // Uart::write_str never fails.
    let _ = fmt::Write::write_fmt(&mut Uart, args);
}

/// Prints a line (ending in `\n`) to the UART.
macro_rules! println {
    () => { $crate::uart::print_fmt(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::uart::print_fmt(format_args!("{}\n", format_args!($($arg)*))) };
}
