//! [`Pl011`]: a model of the ARM PrimeCell UART (PL011).
//!
//! # What is modelled
//!
//! - **Transmit.** A write to `DR` hands its low byte to the VM's
//!   [`ConsoleSink`] at once; the transmit FIFO is therefore always empty
//!   (`FR.TXFE` set, `TXFF` and `BUSY` clear).
//! - **Receive.** A FIFO of [`FIFO_DEPTH`](regs::FIFO_DEPTH) bytes (one byte
//!   while `LCR_H.FEN` is clear, as in the hardware), fed by the host with
//!   [`Pl011::push_rx`], which refuses a byte when the FIFO is full so that
//!   the host keeps it (no overrun is ever raised). A read of `DR` pops the
//!   oldest byte, or returns 0 when the FIFO is empty.
//! - **Interrupts.** `RIS`, `IMSC`, `MIS = RIS & IMSC` and `ICR` for three
//!   sources:
//!   - `RX` is raised when a byte arrives and the FIFO holds at least the
//!     `IFLS.RXIFLSEL` trigger level (one byte with FIFOs off), and is
//!     cleared when reads bring the FIFO below the level, or by `ICR`;
//!   - `RT` (receive timeout) is raised when a byte arrives: the model has
//!     no character clock, so the 32-bit-period timeout counts as elapsed at
//!     once; this wakes a guest waiting for fewer bytes than the trigger
//!     level. It is cleared when the FIFO empties, or by `ICR`;
//!   - `TX` is raised after each transmitted byte (the FIFO drained through
//!     its trigger level; like the hardware, not at reset) and cleared by
//!     `ICR`.
//!
//!   The UART's interrupt line ([`Pl011::irq`]) is high while `MIS` is
//!   non-zero ([`Pl011::pending_irq`]). Once [`Pl011::connect_irq`] has
//!   given it an [`IrqSink`] (the VM's vGIC), the model drives the line
//!   there itself: after every register access and every
//!   [`Pl011::push_rx`], it reports the level when it changed.
//! - **Identification.** `PeriphID0..3` / `PCellID0..3` read as a real
//!   PL011 (`0x11 0x10 0x14 0x00` / `0x0D 0xF0 0x05 0xB1`).
//! - `IBRD`, `FBRD`, `LCR_H`, `CR`, `IFLS`, `ILPR` and `DMACR` are stored
//!   (masked to their defined bits) and read back. The enables in `CR` are
//!   not enforced (QEMU's model does the same: guests that never enable the
//!   UART still print); loopback, modem lines, errors and DMA are not
//!   modelled.
//!
//! # Accesses
//!
//! A register is accessed at its word-aligned offset with 1, 2 or 4 bytes;
//! a read returns the low bytes of the register, a write stores the value
//! zero-extended from its width (APB has no byte strobes). Any other access
//! (8 bytes, an offset that is not a multiple of 4, an offset with no
//! register, a write to a read-only register) reads as zero and is ignored;
//! the first is logged.
//!
//! # Locks
//!
//! The interrupt sink is called with the UART's lock held, so that the
//! levels reach the sink in the order the UART's state changed (called
//! after the unlock, two CPUs could report in the opposite order and leave
//! the line wrong). The lock order is therefore UART, then sink; the vGIC
//! never calls back into a device.

mod irq_out;
pub mod regs;

#[cfg(test)]
mod tests;

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::sync::Arc;

use axerrno::AxResult;
use axvcpu::{AccessWidth, GuestPhysAddr};
use kspin::SpinNoIrq;

use crate::{BaseDeviceOps, ConsoleSink, DeviceContext, DeviceRange, IrqSink, UnhandledAccessLog};
use irq_out::IrqOutput;
use regs::{Control, DmaControl, Flags, Interrupts, LineControl};

/// The size of the PL011's register block in bytes.
pub const PL011_SIZE: usize = 0x1000;

/// The registers and FIFO of the UART.
#[derive(Debug)]
struct Pl011State {
    rx: VecDeque<u8>,
    ris: Interrupts,
    imsc: Interrupts,
    ilpr: u32,
    ibrd: u32,
    fbrd: u32,
    lcr_h: LineControl,
    cr: Control,
    ifls: u32,
    dmacr: DmaControl,
    irq_out: IrqOutput,
}

impl Pl011State {
    /// The state after reset.
    fn new() -> Self {
        Self {
            rx: VecDeque::with_capacity(regs::FIFO_DEPTH),
            ris: Interrupts::empty(),
            imsc: Interrupts::empty(),
            ilpr: 0,
            ibrd: 0,
            fbrd: 0,
            lcr_h: LineControl::empty(),
            cr: regs::CR_RESET,
            ifls: regs::IFLS_RESET,
            dmacr: DmaControl::empty(),
            irq_out: IrqOutput::new(),
        }
    }

    /// The bytes the receive side holds: the FIFO depth, or one (the
    /// holding register) with FIFOs off.
    fn rx_capacity(&self) -> usize {
        if self.lcr_h.contains(LineControl::FEN) {
            regs::FIFO_DEPTH
        } else {
            1
        }
    }

    /// The receive FIFO level that raises `RX`.
    fn rx_trigger(&self) -> usize {
        if !self.lcr_h.contains(LineControl::FEN) {
            return 1;
        }
        let select = regs::IFLS_RXIFLSEL.get(self.ifls);
        usize::try_from(select)
            .ok()
            .and_then(|i| regs::RX_TRIGGER_LEVELS.get(i).copied())
            .unwrap_or(regs::FIFO_DEPTH / 2)
    }

    /// The level of the interrupt output: `UARTMIS != 0`.
    fn irq_level(&self) -> bool {
        self.ris.intersects(self.imsc)
    }

    /// `UARTFR`.
    fn flags(&self) -> Flags {
        let mut flags = Flags::TXFE;
        if self.rx.is_empty() {
            flags |= Flags::RXFE;
        }
        if self.rx.len() >= self.rx_capacity() {
            flags |= Flags::RXFF;
        }
        flags
    }

    /// Reads `DR`: pops the oldest received byte and updates `RX`/`RT`.
    fn pop_rx(&mut self) -> u32 {
        let byte = self.rx.pop_front();
        if self.rx.len() < self.rx_trigger() {
            self.ris.remove(Interrupts::RX);
        }
        if self.rx.is_empty() {
            self.ris.remove(Interrupts::RT);
        }
        byte.map_or(0, u32::from)
    }

    /// The register at `offset`, or `None` for an offset with no readable
    /// register. Reading `DR` pops the receive FIFO.
    fn read(&mut self, offset: usize) -> Option<u32> {
        let value = match offset {
            regs::DR => self.pop_rx(),
            regs::RSR_ECR => 0,
            regs::FR => self.flags().bits(),
            regs::ILPR => self.ilpr,
            regs::IBRD => self.ibrd,
            regs::FBRD => self.fbrd,
            regs::LCR_H => self.lcr_h.bits(),
            regs::CR => self.cr.bits(),
            regs::IFLS => self.ifls,
            regs::IMSC => self.imsc.bits(),
            regs::RIS => self.ris.bits(),
            regs::MIS => (self.ris & self.imsc).bits(),
            regs::ICR => 0,
            regs::DMACR => self.dmacr.bits(),
            regs::ID_FIRST..=regs::ID_LAST => {
                let index = offset.checked_sub(regs::ID_FIRST)? / regs::REG_SIZE;
                *regs::ID_VALUES.get(index)?
            }
            _ => return None,
        };
        Some(value)
    }

    /// Writes the register at `offset` (other than `DR`); false for an
    /// offset with no writable register.
    fn write(&mut self, offset: usize, value: u32) -> bool {
        match offset {
            regs::RSR_ECR => {} // Clears receive errors; none are modelled.
            regs::ILPR => self.ilpr = value & regs::ILPR_MASK,
            regs::IBRD => self.ibrd = value & regs::IBRD_MASK,
            regs::FBRD => self.fbrd = value & regs::FBRD_MASK,
            regs::LCR_H => self.lcr_h = LineControl::from_bits_truncate(value),
            regs::CR => self.cr = Control::from_bits_truncate(value),
            regs::IFLS => self.ifls = value & regs::IFLS_MASK,
            regs::IMSC => self.imsc = Interrupts::from_bits_truncate(value),
            regs::ICR => self.ris.remove(Interrupts::from_bits_truncate(value)),
            regs::DMACR => self.dmacr = DmaControl::from_bits_truncate(value),
            _ => return false,
        }
        true
    }
}

/// An emulated PL011 UART; see the [module docs](self).
pub struct Pl011 {
    name: String,
    base: GuestPhysAddr,
    irq: Option<usize>,
    vm_name: String,
    console: Arc<dyn ConsoleSink>,
    state: SpinNoIrq<Pl011State>,
    unhandled: UnhandledAccessLog,
}

impl Pl011 {
    /// A UART named `name` at `base`, raising interrupt `irq` (`None` for
    /// none), printing to `ctx.console` as the VM `ctx.name`.
    pub fn new(name: impl Into<String>, base: GuestPhysAddr, irq: Option<usize>, ctx: &DeviceContext) -> Self {
        Self {
            name: name.into(),
            base,
            irq,
            vm_name: ctx.name.clone(),
            console: ctx.console.clone(),
            state: SpinNoIrq::new(Pl011State::new()),
            unhandled: UnhandledAccessLog::new(),
        }
    }

    /// The interrupt the VM layer injects while [`pending_irq`](Self::pending_irq)
    /// holds (a GIC INTID on aarch64), if the configuration gave one.
    pub fn irq(&self) -> Option<usize> {
        self.irq
    }

    /// Connects the UART's interrupt output to `sink` (the VM's interrupt
    /// controller), replacing an earlier one, and reports its current
    /// level there. From then on every change of the level is reported
    /// with [`IrqSink::set_level`] for interrupt [`irq`](Self::irq); a UART
    /// without an interrupt number reports nothing.
    pub fn connect_irq(&self, sink: Arc<dyn IrqSink>) {
        let intid = self.intid();
        let mut state = self.state.lock();
        let level = state.irq_level();
        state.irq_out.connect(sink, intid, level);
    }

    /// Offers a byte from the host console to the guest. Returns false, and
    /// keeps nothing, when the receive FIFO is full: the caller holds the
    /// byte and offers it again later.
    pub fn push_rx(&self, byte: u8) -> bool {
        self.with_state(|state| {
            if state.rx.len() >= state.rx_capacity() {
                return false;
            }
            state.rx.push_back(byte);
            if state.rx.len() >= state.rx_trigger() {
                state.ris.insert(Interrupts::RX);
            }
            state.ris.insert(Interrupts::RT);
            true
        })
    }

    /// Whether an unmasked interrupt is raised (`UARTMIS != 0`): the UART's
    /// interrupt line is high while this holds.
    pub fn pending_irq(&self) -> bool {
        self.state.lock().irq_level()
    }

    /// The interrupt number as the sink takes it, if there is one.
    fn intid(&self) -> Option<u32> {
        self.irq.and_then(|irq| u32::try_from(irq).ok())
    }

    /// Runs `f` on the state, then drives the interrupt output to its new
    /// level, still under the lock (see [Locks](self#locks)).
    fn with_state<R>(&self, f: impl FnOnce(&mut Pl011State) -> R) -> R {
        let mut state = self.state.lock();
        let result = f(&mut state);
        let level = state.irq_level();
        state.irq_out.drive(self.intid(), level);
        result
    }

    /// The register offset an access at `offset` of `width` addresses, when
    /// it is a register-aligned access of at most 4 bytes.
    fn register(offset: usize, width: AccessWidth) -> Option<usize> {
        let aligned = offset.is_multiple_of(regs::REG_SIZE);
        (aligned && width.size() <= regs::REG_SIZE).then_some(offset)
    }

    /// Transmits the byte written to `DR` and raises `TX`.
    fn transmit(&self, data: u32) {
        self.with_state(|state| state.ris.insert(Interrupts::TX));
        // Outside the lock: the sink may take the host console's lock.
        let [byte, ..] = (data & regs::DR_DATA_MASK).to_le_bytes();
        self.console.write_bytes(&self.vm_name, &[byte]);
    }
}

impl BaseDeviceOps for Pl011 {
    fn name(&self) -> &str {
        &self.name
    }

    fn address_range(&self) -> DeviceRange {
        DeviceRange::Mmio {
            base: self.base,
            size: PL011_SIZE,
        }
    }

    fn handle_read(&self, offset: usize, width: AccessWidth) -> AxResult<u64> {
        let value = Self::register(offset, width).and_then(|reg| self.with_state(|state| state.read(reg)));
        Ok(match value {
            Some(value) => u64::from(value) & width.mask(),
            None => {
                self.unhandled.read(&self.name, offset, width);
                0
            }
        })
    }

    fn handle_write(&self, offset: usize, width: AccessWidth, value: u64) -> AxResult {
        let reg = Self::register(offset, width);
        // `register` admits accesses of at most 4 bytes, so the masked value fits.
        let data = u32::try_from(value & width.mask()).ok();
        let handled = match (reg, data) {
            (Some(regs::DR), Some(data)) => {
                self.transmit(data);
                true
            }
            (Some(reg), Some(data)) => self.with_state(|state| state.write(reg, data)),
            _ => false,
        };
        if !handled {
            self.unhandled.write(&self.name, offset, width, value);
        }
        Ok(())
    }
}
