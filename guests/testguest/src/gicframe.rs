//! Accesses of any width at any aligned offset of the virtual GIC's
//! frames, for the check that feeds the GIC bad input: reserved offsets,
//! registers of INTIDs it does not implement, wrong widths. Unlike the
//! driver in `gic`, nothing here knows what is at an offset; an abort is
//! caught and returned, never fatal.
//!
//! Each access is one `LDR`/`STR` (`B`, `H`, `W` or `X`) addressing
//! `[Xn]` ([`mmio`]), so the hypervisor traps it with a valid syndrome.

use crate::mmio::{self, Load, Width};
use crate::platform::{GICD_BASE, GICD_SIZE, GICR_BASE, GICR_STRIDE};
use crate::{cpu, exception};

/// A frame of the virtual GIC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame {
    /// The distributor.
    Distributor,
    /// This vCPU's redistributor: its `RD_base` frame, then its `SGI_base`
    /// frame 64 KiB up.
    Redistributor,
}

impl Frame {
    /// The frame's first byte.
    fn base(self) -> usize {
        match self {
            Frame::Distributor => GICD_BASE,
            // The boot code parks vCPUs beyond NUM_VCPUS, whose
            // redistributors the VM has.
            Frame::Redistributor => GICR_BASE + cpu::index() as usize * GICR_STRIDE,
        }
    }

    /// The frame's size in bytes.
    fn size(self) -> usize {
        match self {
            Frame::Distributor => GICD_SIZE,
            Frame::Redistributor => GICR_STRIDE,
        }
    }

    /// The address of an access of `width` at `offset`.
    fn addr(self, offset: usize, width: Width) -> Result<usize, AccessError> {
        let end = offset.checked_add(width.bytes()).ok_or(AccessError::OutsideFrame)?;
        if end > self.size() {
            return Err(AccessError::OutsideFrame);
        }
        if !offset.is_multiple_of(width.bytes()) {
            return Err(AccessError::Misaligned);
        }
        Ok(self.base() + offset)
    }
}

/// Why an access did not happen or did not complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessError {
    /// The access would reach past the frame (a bug in the caller).
    OutsideFrame,
    /// The offset is not a multiple of the width (a bug in the caller).
    Misaligned,
    /// The hypervisor answered it with an abort.
    Aborted,
}

/// Performs `load` at `offset` of `frame`.
pub fn load(frame: Frame, offset: usize, load: Load) -> Result<u64, AccessError> {
    let addr = frame.addr(offset, load.width())?;
    exception::expect_abort(addr);
    // SAFETY: an aligned access inside a frame of the virtual GIC, which
    // the hypervisor emulates (no memory of this program is there); the
    // GIC state a read can change (none outside the ICC registers) is the
    // caller's to judge; an abort is skipped by the handler, armed above.
    let value = unsafe { mmio::load(addr, load) };
    match exception::take_record().count {
        0 => Ok(value),
        _ => Err(AccessError::Aborted),
    }
}

/// Stores the low `width` bytes of `value` at `offset` of `frame`.
pub fn store(frame: Frame, offset: usize, width: Width, value: u64) -> Result<(), AccessError> {
    let addr = frame.addr(offset, width)?;
    exception::expect_abort(addr);
    // SAFETY: as in `load`: an emulated frame, no memory of this program;
    // the caller owns whatever GIC state the write changes; an abort is
    // skipped by the handler, armed above.
    unsafe { mmio::store(addr, width, value) };
    match exception::take_record().count {
        0 => Ok(()),
        _ => Err(AccessError::Aborted),
    }
}
