//! The console UART: a PL011 at an MMIO base (QEMU virt: 0x0900_0000),
//! through the `arm-pl011-uart` crate.

use arm_pl011_uart::{PL011Registers, UniqueMmioPointer};
use core::ptr::NonNull;

/// A PL011 UART.
pub struct Uart(arm_pl011_uart::Uart<'static>);

// SAFETY: the UART's registers are MMIO shared by every CPU; the console
// keeps its one `Uart` behind a lock.
unsafe impl Send for Uart {}

impl Uart {
    /// Takes over the PL011 at `base` (physical = virtual, inside the
    /// device map).
    pub fn new(base: usize) -> Option<Self> {
        let p = NonNull::new(base as *mut PL011Registers)?;
        // SAFETY: `base` is the PL011 from the device tree or the platform
        // constants, mapped as device memory; the console lock makes this
        // its only driver.
        Some(Self(arm_pl011_uart::Uart::new(unsafe { UniqueMmioPointer::new(p) })))
    }

    /// Sends a byte, waiting while the FIFO is full.
    pub fn put(&mut self, b: u8) {
        while self.0.is_tx_fifo_full() {
            core::hint::spin_loop();
        }
        self.0.write_word(b);
    }

    /// A received byte, if one is waiting.
    pub fn get(&mut self) -> Option<u8> {
        self.0.read_word().ok().flatten()
    }
}
