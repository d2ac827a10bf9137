//! The console: the board's UART (`arch::uart`: the PL011 the device tree
//! names on aarch64, QEMU virt 0x0900_0000; the 16550 at COM1 on x86_64).
//!
//! Output is unbuffered and goes out whole per call (one lock). A panic or
//! fatal exception report can still print when another CPU died holding the
//! lock: [`print_fmt_emergency`] takes the lock by force after a bounded wait.

use crate::arch::uart::Uart;
use core::fmt::{self, Write};
use kspin::SpinNoIrq;

struct Console(Uart);

static CONSOLE: SpinNoIrq<Option<Console>> = SpinNoIrq::new(None);

/// Takes the UART at `base` (an MMIO address inside the device map, or an
/// I/O port on x86_64) as the console. Called once by the boot CPU, first
/// thing after the MMU.
pub(crate) fn init(base: usize) {
    if let Some(uart) = Uart::new(base) {
        *CONSOLE.lock() = Some(Console(uart));
    }
}

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                self.put(b'\r');
            }
            self.put(b);
        }
        Ok(())
    }
}

impl Console {
    fn put(&mut self, b: u8) {
        self.0.put(b);
    }
}

/// Writes a string.
pub fn write_str(s: &str) {
    if let Some(c) = CONSOLE.lock().as_mut() {
        let _ = c.write_str(s);
    }
}

/// Writes formatted text as one unit.
pub fn print_fmt(args: fmt::Arguments) {
    if let Some(c) = CONSOLE.lock().as_mut() {
        let _ = c.write_fmt(args);
    }
}

/// Like [`print_fmt`], for panics and fatal reports: if the lock stays held
/// (its holder may be the code that crashed), it is broken after a bounded
/// wait so the report still comes out.
pub fn print_fmt_emergency(args: fmt::Arguments) {
    const TRIES: usize = 1 << 20;
    for _ in 0..TRIES {
        if let Some(mut g) = CONSOLE.try_lock() {
            if let Some(c) = g.as_mut() {
                let _ = c.write_fmt(args);
            }
            return;
        }
        core::hint::spin_loop();
    }
    // SAFETY: the machine is about to stop; the worst a concurrent holder
    // can see is interleaved characters.
    unsafe { CONSOLE.force_unlock() };
    print_fmt(args);
}

/// Reads a byte if one is waiting and the console is free. While another
/// CPU prints (a VM's line can take a while on a real UART), `None`: the
/// byte stays in the UART for the next poll, and the caller (CPU 0's loop,
/// which also runs vCPUs) does not wait for that CPU.
pub fn getchar() -> Option<u8> {
    CONSOLE.try_lock()?.as_mut().and_then(|c| c.0.get())
}
