//! The redistributor frames: [`Redistributors`], one MMIO device for all
//! of them, and the `RD_base` registers (the `SGI_base` interrupt
//! registers are in [`irqregs`](super::irqregs)).

use alloc::sync::Arc;

use axerrno::AxResult;
use axvcpu::AccessWidth;

use super::Vgic;
use super::irqregs::{Bank, is_reg32, reg64_window};
use super::regs::{
    AFF3_SHIFT, AFF210_MASK, GICR_SGI_BASE, GICR_STRIDE, ID_FIRST, ID_LAST, IIDR_VALUE, PACKED_AFF3_SHIFT, REG64, gicr,
    id_register, sgi1r,
};
use crate::width::Window;
use crate::{BaseDeviceOps, DeviceRange};

/// The redistributors' device name, for logs.
const NAME: &str = "vgic-gicr";

/// Every redistributor of a [`Vgic`], as one MMIO device.
pub(super) struct Redistributors {
    /// The model it serves.
    pub(super) vgic: Arc<Vgic>,
}

impl BaseDeviceOps for Redistributors {
    fn name(&self) -> &str {
        NAME
    }

    fn address_range(&self) -> DeviceRange {
        DeviceRange::Mmio {
            base: self.vgic.layout.gicr_base,
            // `Vgic::new` checked that the product fits.
            size: self.vgic.layout.gicr_size().unwrap_or(GICR_STRIDE),
        }
    }

    fn handle_read(&self, offset: usize, width: AccessWidth) -> AxResult<u64> {
        Ok(self.vgic.gicr_read(offset, width).unwrap_or_else(|| {
            self.vgic.gicr_log.read(NAME, offset, width);
            0
        }))
    }

    fn handle_write(&self, offset: usize, width: AccessWidth, value: u64) -> AxResult {
        if !self.vgic.gicr_write(offset, width, value) {
            self.vgic.gicr_log.write(NAME, offset, width, value);
        }
        Ok(())
    }

    fn is_interrupt_controller(&self) -> bool {
        true
    }
}

/// The part of the 64-bit register at `base` that an access of `width` at
/// `offset` covers, if it is a valid access to it.
fn reg64_at(offset: usize, base: usize, width: AccessWidth) -> Option<Window> {
    let byte = offset.checked_sub(base).filter(|&b| b < REG64)?;
    reg64_window(byte, width)
}

/// A redistributor frame and the offset in it.
enum Frame {
    /// `RD_base` of this vCPU.
    Rd(usize, usize),
    /// `SGI_base` of this vCPU.
    Sgi(usize, usize),
}

impl Vgic {
    /// The frame an offset into the redistributor block falls in.
    fn frame(&self, offset: usize) -> Option<Frame> {
        let vcpu = offset / GICR_STRIDE;
        if vcpu >= self.layout.nr_vcpus {
            return None;
        }
        let rel = offset % GICR_STRIDE;
        Some(match rel.checked_sub(GICR_SGI_BASE) {
            Some(sgi) => Frame::Sgi(vcpu, sgi),
            None => Frame::Rd(vcpu, rel),
        })
    }

    /// `GICR_TYPER` of `vcpu`: its affinity, its processor number, `Last`
    /// on the last one; no LPIs.
    fn gicr_typer(&self, vcpu: usize) -> u64 {
        let mpidr = Self::mpidr_of(vcpu);
        let aff3 = (mpidr >> AFF3_SHIFT) & sgi1r::AFF_LEVEL_MASK;
        let affinity = (mpidr & AFF210_MASK) | (aff3 << PACKED_AFF3_SHIFT);
        let number = u64::try_from(vcpu).unwrap_or(0) & 0xFFFF;
        let last = if vcpu.saturating_add(1) == self.layout.nr_vcpus {
            gicr::TYPER_LAST
        } else {
            0
        };
        (affinity << gicr::TYPER_AFFINITY_SHIFT) | (number << gicr::TYPER_PROCESSOR_SHIFT) | last
    }

    /// Reads the redistributor register at `offset` from the start of the
    /// block; `None` when the access is not handled.
    pub(super) fn gicr_read(&self, offset: usize, width: AccessWidth) -> Option<u64> {
        let (vcpu, offset) = match self.frame(offset)? {
            Frame::Sgi(vcpu, offset) => {
                let value = axsync::lock(&self.state).read_irq_reg(Bank::Private(vcpu), offset, width)?;
                return Some(u64::from(value));
            }
            Frame::Rd(vcpu, offset) => (vcpu, offset),
        };
        if let Some(window) = reg64_at(offset, gicr::TYPER, width) {
            return Some(window.read(self.gicr_typer(vcpu)));
        }
        if reg64_at(offset, gicr::PROPBASER, width)
            .or_else(|| reg64_at(offset, gicr::PENDBASER, width))
            .is_some()
        {
            return Some(0);
        }
        if !is_reg32(offset, width) {
            return None;
        }
        let value = match offset {
            gicr::CTLR | gicr::STATUSR => 0,
            gicr::IIDR => IIDR_VALUE,
            gicr::WAKER => {
                let asleep = axsync::lock(&self.state).cpus.get(vcpu).is_some_and(|cpu| cpu.asleep);
                if asleep {
                    gicr::WAKER_PROCESSOR_SLEEP | gicr::WAKER_CHILDREN_ASLEEP
                } else {
                    0
                }
            }
            ID_FIRST..=ID_LAST => id_register(offset),
            _ => return None,
        };
        Some(u64::from(value))
    }

    /// Writes the redistributor register at `offset` from the start of the
    /// block; false when the access is not handled.
    pub(super) fn gicr_write(&self, offset: usize, width: AccessWidth, value: u64) -> bool {
        // Only 1- and 4-byte accesses reach a 32-bit register; the value fits.
        let value32 = u32::try_from(value & u64::from(u32::MAX)).unwrap_or(0);
        let (vcpu, offset) = match self.frame(offset) {
            Some(Frame::Sgi(vcpu, offset)) => {
                return self.with_state(|s| s.write_irq_reg(Bank::Private(vcpu), offset, width, value32));
            }
            Some(Frame::Rd(vcpu, offset)) => (vcpu, offset),
            None => return false,
        };
        if reg64_at(offset, gicr::PROPBASER, width)
            .or_else(|| reg64_at(offset, gicr::PENDBASER, width))
            .is_some()
        {
            return true;
        }
        if !is_reg32(offset, width) {
            return false;
        }
        match offset {
            gicr::CTLR | gicr::STATUSR => true,
            gicr::WAKER => {
                let mut state = axsync::lock(&self.state);
                if let Some(cpu) = state.cpus.get_mut(vcpu) {
                    cpu.asleep = value32 & gicr::WAKER_PROCESSOR_SLEEP != 0;
                }
                true
            }
            _ => false,
        }
    }
}
