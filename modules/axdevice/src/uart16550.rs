//! [`Uart16550`]: a 16550A UART on eight x86 I/O ports (COM1 is at
//! `0x3F8`), the x86 VM's console.
//!
//! # Registers (offset from the first port)
//!
//! | offset | DLAB = 0 read | DLAB = 0 write | DLAB = 1 |
//! |--------|---------------|----------------|----------|
//! | 0 | RBR: the next received byte (0 when none) | THR: transmit to the console | DLL |
//! | 1 | IER | IER (low 4 bits) | DLM |
//! | 2 | IIR: the highest pending interrupt, FIFOs on | FCR (clears the FIFOs on request) | as DLAB = 0 |
//! | 3 | LCR | LCR (bit 7 is DLAB) | |
//! | 4 | MCR | MCR (low 5 bits) | |
//! | 5 | LSR: THRE and TEMT always, DR while input waits | ignored | |
//! | 6 | MSR: CTS, DSR and DCD asserted (loopback: from MCR) | ignored | |
//! | 7 | SCR | SCR | |
//!
//! Transmission is immediate, so the transmitter is always empty. Input
//! comes from the host ([`Uart16550::push_rx`]) into a bounded FIFO. The
//! model has no interrupt line (the x86 VM has no I/O APIC or PIC yet), but
//! IIR reports what would be pending, so a polling driver works. Only
//! byte accesses are registers; wider ones read zero and are ignored
//! (logged once).

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::sync::Arc;

use axerrno::AxResult;
use axvcpu::{AccessWidth, Port};
use bitflags::bitflags;
use kspin::SpinNoIrq;

use crate::{BaseDeviceOps, ConsoleSink, DeviceContext, DeviceRange, UnhandledAccessLog};

/// The number of ports the UART takes.
pub const UART16550_PORTS: usize = 8;
/// Bytes of input the receive FIFO holds (the 16550A's FIFO depth).
pub const UART16550_RX_FIFO: usize = 16;

/// Register offsets.
pub mod regs {
    /// RBR (read) / THR (write) / DLL (DLAB = 1).
    pub const DATA: usize = 0;
    /// IER / DLM (DLAB = 1).
    pub const IER: usize = 1;
    /// IIR (read) / FCR (write).
    pub const IIR_FCR: usize = 2;
    /// Line control.
    pub const LCR: usize = 3;
    /// Modem control.
    pub const MCR: usize = 4;
    /// Line status.
    pub const LSR: usize = 5;
    /// Modem status.
    pub const MSR: usize = 6;
    /// Scratch.
    pub const SCR: usize = 7;
}

bitflags! {
    /// Interrupt enable register.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Ier: u8 {
        /// Received data available.
        const RX_AVAILABLE = 1 << 0;
        /// Transmitter holding register empty.
        const THR_EMPTY = 1 << 1;
        /// Receiver line status.
        const LINE_STATUS = 1 << 2;
        /// Modem status.
        const MODEM_STATUS = 1 << 3;
    }

    /// Line status register.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Lsr: u8 {
        /// Data ready: a received byte waits in RBR.
        const DATA_READY = 1 << 0;
        /// Transmitter holding register empty.
        const THR_EMPTY = 1 << 5;
        /// Transmitter empty (holding and shift registers).
        const TX_EMPTY = 1 << 6;
    }

    /// Modem control register.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Mcr: u8 {
        /// Data terminal ready.
        const DTR = 1 << 0;
        /// Request to send.
        const RTS = 1 << 1;
        /// Output 1.
        const OUT1 = 1 << 2;
        /// Output 2 (gates the interrupt line on a PC).
        const OUT2 = 1 << 3;
        /// Loopback.
        const LOOP = 1 << 4;
    }
}

/// LCR bit 7: the divisor latch is visible at offsets 0 and 1.
const LCR_DLAB: u8 = 1 << 7;
/// FCR: FIFO enable, clear receive FIFO, clear transmit FIFO.
const FCR_ENABLE: u8 = 1 << 0;
const FCR_CLEAR_RX: u8 = 1 << 1;
/// IIR values: no interrupt pending, transmitter empty, data available;
/// bits 6-7 set while the FIFOs are on.
const IIR_NONE: u8 = 0x01;
const IIR_THR_EMPTY: u8 = 0x02;
const IIR_RX_AVAILABLE: u8 = 0x04;
const IIR_FIFOS_ON: u8 = 0xc0;
/// MSR: clear to send, data set ready, data carrier detect (and, in
/// loopback, ring indicator from OUT1).
const MSR_CTS: u8 = 1 << 4;
const MSR_DSR: u8 = 1 << 5;
const MSR_RI: u8 = 1 << 6;
const MSR_DCD: u8 = 1 << 7;

/// The registers and the receive FIFO.
#[derive(Debug)]
struct State {
    ier: Ier,
    lcr: u8,
    mcr: Mcr,
    scr: u8,
    dll: u8,
    dlm: u8,
    fifos_on: bool,
    /// The "transmitter empty" interrupt is pending: set when THR empties
    /// (always at once here) or THRE is enabled, cleared by reading IIR
    /// when it is the highest, or by writing THR.
    thre_pending: bool,
    rx: VecDeque<u8>,
}

impl State {
    fn new() -> Self {
        Self {
            ier: Ier::empty(),
            lcr: 0,
            mcr: Mcr::empty(),
            scr: 0,
            // 115200 baud from the 1.8432 MHz clock.
            dll: 1,
            dlm: 0,
            fifos_on: false,
            thre_pending: false,
            rx: VecDeque::new(),
        }
    }

    fn dlab(&self) -> bool {
        self.lcr & LCR_DLAB != 0
    }

    fn lsr(&self) -> Lsr {
        let mut lsr = Lsr::THR_EMPTY | Lsr::TX_EMPTY;
        if !self.rx.is_empty() {
            lsr |= Lsr::DATA_READY;
        }
        lsr
    }

    fn iir(&mut self) -> u8 {
        let fifo = if self.fifos_on { IIR_FIFOS_ON } else { 0 };
        let id = if self.ier.contains(Ier::RX_AVAILABLE) && !self.rx.is_empty() {
            IIR_RX_AVAILABLE
        } else if self.ier.contains(Ier::THR_EMPTY) && self.thre_pending {
            // Reading IIR acknowledges the transmitter interrupt.
            self.thre_pending = false;
            IIR_THR_EMPTY
        } else {
            IIR_NONE
        };
        fifo | id
    }

    fn msr(&self) -> u8 {
        if self.mcr.contains(Mcr::LOOP) {
            let mut msr = 0;
            for (from, to) in [
                (Mcr::RTS, MSR_CTS),
                (Mcr::DTR, MSR_DSR),
                (Mcr::OUT1, MSR_RI),
                (Mcr::OUT2, MSR_DCD),
            ] {
                if self.mcr.contains(from) {
                    msr |= to;
                }
            }
            msr
        } else {
            MSR_CTS | MSR_DSR | MSR_DCD
        }
    }

    fn read(&mut self, reg: usize) -> u8 {
        match reg {
            regs::DATA if self.dlab() => self.dll,
            regs::DATA => self.rx.pop_front().unwrap_or(0),
            regs::IER if self.dlab() => self.dlm,
            regs::IER => self.ier.bits(),
            regs::IIR_FCR => self.iir(),
            regs::LCR => self.lcr,
            regs::MCR => self.mcr.bits(),
            regs::LSR => self.lsr().bits(),
            regs::MSR => self.msr(),
            _ => self.scr,
        }
    }

    /// Writes a register; returns the byte to transmit, if any.
    fn write(&mut self, reg: usize, value: u8) -> Option<u8> {
        match reg {
            regs::DATA if self.dlab() => self.dll = value,
            regs::DATA => {
                // Sent at once: the holding register is empty again.
                self.thre_pending = true;
                return Some(value);
            }
            regs::IER if self.dlab() => self.dlm = value,
            regs::IER => {
                let ier = Ier::from_bits_truncate(value);
                if ier.contains(Ier::THR_EMPTY) && !self.ier.contains(Ier::THR_EMPTY) {
                    self.thre_pending = true;
                }
                self.ier = ier;
            }
            regs::IIR_FCR => {
                self.fifos_on = value & FCR_ENABLE != 0;
                if value & FCR_CLEAR_RX != 0 {
                    self.rx.clear();
                }
            }
            regs::LCR => self.lcr = value,
            regs::MCR => self.mcr = Mcr::from_bits_truncate(value),
            regs::SCR => self.scr = value,
            // LSR and MSR are read-only.
            _ => {}
        }
        None
    }
}

/// An emulated 16550A UART on port I/O; see the [module docs](self).
pub struct Uart16550 {
    name: String,
    base: Port,
    vm_name: String,
    console: Arc<dyn ConsoleSink>,
    state: SpinNoIrq<State>,
    unhandled: UnhandledAccessLog,
}

impl Uart16550 {
    /// A UART named `name` on ports `base..base + 8`, printing to
    /// `ctx.console` as the VM `ctx.name`.
    pub fn new(name: impl Into<String>, base: Port, ctx: &DeviceContext) -> Self {
        Self {
            name: name.into(),
            base,
            vm_name: ctx.name.clone(),
            console: ctx.console.clone(),
            state: SpinNoIrq::new(State::new()),
            unhandled: UnhandledAccessLog::new(),
        }
    }

    /// Offers a byte from the host console to the guest. False, keeping
    /// nothing, when the receive FIFO is full.
    pub fn push_rx(&self, byte: u8) -> bool {
        let mut state = self.state.lock();
        if state.rx.len() >= UART16550_RX_FIFO {
            return false;
        }
        state.rx.push_back(byte);
        true
    }

    /// The last port of the range, or `None` when the range would pass
    /// port 0xFFFF.
    fn last_port(&self) -> Option<u16> {
        self.base.number().checked_add(UART16550_PORTS as u16 - 1)
    }
}

impl BaseDeviceOps for Uart16550 {
    fn name(&self) -> &str {
        &self.name
    }

    fn address_range(&self) -> DeviceRange {
        // A base too high makes a reversed range, which registration
        // refuses.
        DeviceRange::Port {
            first: self.base,
            last: Port::new(self.last_port().unwrap_or(0)),
        }
    }

    fn handle_read(&self, offset: usize, width: AccessWidth) -> AxResult<u64> {
        if width != AccessWidth::Byte || offset >= UART16550_PORTS {
            self.unhandled.read(&self.name, offset, width);
            return Ok(0);
        }
        Ok(u64::from(self.state.lock().read(offset)))
    }

    fn handle_write(&self, offset: usize, width: AccessWidth, value: u64) -> AxResult {
        if width != AccessWidth::Byte || offset >= UART16550_PORTS {
            self.unhandled.write(&self.name, offset, width, value);
            return Ok(());
        }
        let [byte, ..] = value.to_le_bytes();
        let sent = self.state.lock().write(offset, byte);
        // Outside the lock: the sink may take the host console's lock.
        if let Some(b) = sent {
            self.console.write_bytes(&self.vm_name, &[b]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Captured(Mutex<Vec<u8>>);
    impl ConsoleSink for Captured {
        fn write_bytes(&self, _vm: &str, bytes: &[u8]) {
            self.0.lock().unwrap().extend_from_slice(bytes);
        }
    }

    fn uart() -> (Uart16550, Arc<Captured>) {
        let sink = Arc::new(Captured::default());
        let ctx = DeviceContext::new("vm", sink.clone());
        (Uart16550::new("com1", Port::new(0x3f8), &ctx), sink)
    }

    fn rd(u: &Uart16550, reg: usize) -> u8 {
        u.handle_read(reg, AccessWidth::Byte).unwrap() as u8
    }

    fn wr(u: &Uart16550, reg: usize, v: u8) {
        u.handle_write(reg, AccessWidth::Byte, u64::from(v)).unwrap();
    }

    #[test]
    fn transmits_to_the_console_and_is_always_empty() {
        let (u, sink) = uart();
        assert_eq!(rd(&u, regs::LSR), 0x60);
        wr(&u, regs::DATA, b'h');
        wr(&u, regs::DATA, b'i');
        assert_eq!(&*sink.0.lock().unwrap(), b"hi");
        assert_eq!(rd(&u, regs::LSR) & 0x60, 0x60);
    }

    #[test]
    fn receives_what_the_host_pushes_in_order_and_bounded() {
        let (u, _) = uart();
        assert_eq!(rd(&u, regs::LSR) & 1, 0);
        assert_eq!(rd(&u, regs::DATA), 0);
        for i in 0..UART16550_RX_FIFO {
            assert!(u.push_rx(b'a' + i as u8));
        }
        assert!(!u.push_rx(b'!'));
        assert_eq!(rd(&u, regs::LSR) & 1, 1);
        assert_eq!(rd(&u, regs::DATA), b'a');
        assert_eq!(rd(&u, regs::DATA), b'b');
        // FCR with "clear receive FIFO".
        wr(&u, regs::IIR_FCR, FCR_ENABLE | FCR_CLEAR_RX);
        assert_eq!(rd(&u, regs::LSR) & 1, 0);
    }

    #[test]
    fn divisor_latch_hides_data_and_ier() {
        let (u, sink) = uart();
        wr(&u, regs::IER, 0x0f);
        wr(&u, regs::LCR, 0x80 | 0x03);
        wr(&u, regs::DATA, 3); // DLL, not transmitted
        wr(&u, regs::IER, 0); // DLM
        assert_eq!(rd(&u, regs::DATA), 3);
        assert_eq!(rd(&u, regs::IER), 0);
        wr(&u, regs::LCR, 0x03);
        assert_eq!(rd(&u, regs::IER), 0x0f);
        assert_eq!(rd(&u, regs::LCR), 0x03);
        assert!(sink.0.lock().unwrap().is_empty());
    }

    #[test]
    fn scratch_mcr_and_msr() {
        let (u, _) = uart();
        wr(&u, regs::SCR, 0x5a);
        assert_eq!(rd(&u, regs::SCR), 0x5a);
        wr(&u, regs::MCR, 0xff);
        assert_eq!(rd(&u, regs::MCR), 0x1f);
        // Loopback with every output up: every input up.
        assert_eq!(rd(&u, regs::MSR), 0xf0);
        wr(&u, regs::MCR, 0x03);
        assert_eq!(rd(&u, regs::MSR), MSR_CTS | MSR_DSR | MSR_DCD);
        // Read-only registers ignore writes.
        wr(&u, regs::LSR, 0);
        assert_eq!(rd(&u, regs::LSR), 0x60);
    }

    #[test]
    fn iir_reports_data_then_thr_empty() {
        let (u, _) = uart();
        assert_eq!(rd(&u, regs::IIR_FCR), IIR_NONE);
        wr(&u, regs::IIR_FCR, FCR_ENABLE);
        wr(&u, regs::IER, (Ier::RX_AVAILABLE | Ier::THR_EMPTY).bits());
        u.push_rx(b'x');
        assert_eq!(rd(&u, regs::IIR_FCR), IIR_FIFOS_ON | IIR_RX_AVAILABLE);
        rd(&u, regs::DATA);
        assert_eq!(rd(&u, regs::IIR_FCR), IIR_FIFOS_ON | IIR_THR_EMPTY);
        // Acknowledged by that read.
        assert_eq!(rd(&u, regs::IIR_FCR), IIR_FIFOS_ON | IIR_NONE);
    }

    #[test]
    fn wide_and_outside_accesses_are_ignored() {
        let (u, sink) = uart();
        assert_eq!(u.handle_read(0, AccessWidth::Word), Ok(0));
        assert_eq!(u.handle_write(0, AccessWidth::Dword, 0x41), Ok(()));
        assert_eq!(u.handle_read(8, AccessWidth::Byte), Ok(0));
        assert!(sink.0.lock().unwrap().is_empty());
    }

    #[test]
    fn range_is_eight_ports_and_a_base_too_high_is_refused() {
        let (u, _) = uart();
        assert_eq!(u.address_range().bounds(), Ok((0x3f8, 0x3ff)));
        let ctx = DeviceContext::new("vm", Arc::new(Captured::default()));
        let high = Uart16550::new("x", Port::new(0xfffc), &ctx);
        assert!(high.address_range().bounds().is_err());
    }
}
