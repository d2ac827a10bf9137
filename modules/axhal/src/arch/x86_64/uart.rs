//! The console UART: a 16550 at an I/O port base (COM1 on a PC), through
//! the `uart_16550` crate.

use uart_16550::SerialPort;

/// A 16550 UART.
pub struct Uart(SerialPort);

impl Uart {
    /// Takes over the 16550 at I/O port `base` and sets it to 8-N-1.
    pub fn new(base: usize) -> Option<Self> {
        let port = u16::try_from(base).ok()?;
        // SAFETY: `base` is the console UART's port from the platform
        // constants (COM1); the console lock makes this its only driver.
        let mut serial = unsafe { SerialPort::new(port) };
        serial.init();
        Some(Self(serial))
    }

    /// Sends a byte, waiting while the transmitter is busy.
    pub fn put(&mut self, b: u8) {
        self.0.send_raw(b);
    }

    /// A received byte, if one is waiting.
    pub fn get(&mut self) -> Option<u8> {
        self.0.try_receive().ok()
    }
}
