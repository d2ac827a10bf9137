//! The console: the PL011 UART the hypervisor emulates, transmit only.
//!
//! No lock: the vCPUs take turns by protocol (vCPU 0 does not print while
//! it waits for vCPU 1), because a spinlock would need exclusives that the
//! MMU-off memory type does not promise (see [`crate::shared`]).

use core::fmt;

use crate::mmio::{self, Load, Width};
use crate::platform::UART_BASE;

/// Data register: a write transmits its low byte.
const UARTDR: usize = 0x00;
/// Flag register.
const UARTFR: usize = 0x18;
/// `UARTFR.TXFF`: the transmit FIFO is full.
const UARTFR_TXFF: u64 = 1 << 5;
/// How many times to poll a full FIFO before sending anyway, so that a
/// stuck flag cannot hang the guest silently.
const TX_POLL_LIMIT: u32 = 1_000_000;

/// The UART at [`UART_BASE`].
pub struct Uart;

impl Uart {
    /// Transmits one byte, waiting (bounded) for room in the FIFO.
    pub fn put_byte(&mut self, byte: u8) {
        for _ in 0..TX_POLL_LIMIT {
            // SAFETY: UARTFR of the PL011 at UART_BASE, a 32-bit register
            // read with a 32-bit aligned load.
            let flags = unsafe { mmio::load(UART_BASE + UARTFR, Load::U32) };
            if flags & UARTFR_TXFF == 0 {
                break;
            }
            core::hint::spin_loop();
        }
        // SAFETY: UARTDR of the PL011 at UART_BASE, written with a 32-bit
        // aligned store.
        unsafe { mmio::store(UART_BASE + UARTDR, Width::W32, u64::from(byte)) };
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
