//! The distributor frame: [`Distributor`], the MMIO device, and its
//! control, identification and routing registers (the interrupt registers
//! are in [`irqregs`](super::irqregs)).

use alloc::sync::Arc;

use axerrno::AxResult;
use axvcpu::AccessWidth;

use super::Vgic;
use super::irqregs::{Bank, is_reg32, reg64_window};
use super::regs::{GICD_SIZE, ID_FIRST, ID_LAST, IIDR_VALUE, NR_PRIVATE, REG64, gicd, id_register};
use super::state::{NO_VCPU, Op};
use crate::{BaseDeviceOps, DeviceRange};

/// The distributor's device name, for logs.
const NAME: &str = "vgic-gicd";

/// The distributor frame of a [`Vgic`], as an MMIO device.
pub(super) struct Distributor {
    /// The model it serves.
    pub(super) vgic: Arc<Vgic>,
}

impl BaseDeviceOps for Distributor {
    fn name(&self) -> &str {
        NAME
    }

    fn address_range(&self) -> DeviceRange {
        DeviceRange::Mmio {
            base: self.vgic.layout.gicd_base,
            size: GICD_SIZE,
        }
    }

    fn handle_read(&self, offset: usize, width: AccessWidth) -> AxResult<u64> {
        Ok(self.vgic.gicd_read(offset, width).unwrap_or_else(|| {
            self.vgic.gicd_log.read(NAME, offset, width);
            0
        }))
    }

    fn handle_write(&self, offset: usize, width: AccessWidth, value: u64) -> AxResult {
        if !self.vgic.gicd_write(offset, width, value) {
            self.vgic.gicd_log.write(NAME, offset, width, value);
        }
        Ok(())
    }

    fn is_interrupt_controller(&self) -> bool {
        true
    }
}

/// The `IROUTER` register an offset falls in: `(INTID, byte in it)`, for
/// INTIDs from 32.
fn irouter(offset: usize) -> Option<(u32, usize)> {
    let rel = offset.checked_sub(gicd::IROUTER)?;
    let intid = u32::try_from(rel / REG64).ok()?;
    (offset < gicd::IROUTER_END && intid >= NR_PRIVATE).then_some((intid, rel % REG64))
}

impl Vgic {
    /// `GICD_TYPER`: the implemented INTIDs, 10 INTID bits, no LPIs, no
    /// security extensions.
    fn gicd_typer(&self) -> u32 {
        let lines = (NR_PRIVATE + self.layout.nr_spis).div_ceil(32).saturating_sub(1);
        (lines & gicd::TYPER_ITLINES_MASK) | (gicd::TYPER_IDBITS << gicd::TYPER_IDBITS_SHIFT)
    }

    /// Reads the distributor register at `offset`; `None` when the access
    /// is not handled.
    pub(super) fn gicd_read(&self, offset: usize, width: AccessWidth) -> Option<u64> {
        if let Some((intid, byte)) = irouter(offset) {
            let window = reg64_window(byte, width)?;
            return axsync::lock(&self.state)
                .irq(0, intid)
                .map(|irq| window.read(irq.route));
        }
        let reg32 = is_reg32(offset, width);
        let value = match offset {
            gicd::CTLR if reg32 => axsync::lock(&self.state).ctlr | gicd::CTLR_ARE | gicd::CTLR_DS,
            gicd::TYPER if reg32 => self.gicd_typer(),
            gicd::IIDR if reg32 => IIDR_VALUE,
            gicd::TYPER2 | gicd::STATUSR | gicd::SGIR if reg32 => 0,
            ID_FIRST..=ID_LAST if reg32 => id_register(offset),
            _ => axsync::lock(&self.state).read_irq_reg(Bank::Shared, offset, width)?,
        };
        Some(u64::from(value))
    }

    /// Writes the distributor register at `offset`; false when the access
    /// is not handled.
    pub(super) fn gicd_write(&self, offset: usize, width: AccessWidth, value: u64) -> bool {
        if let Some((intid, byte)) = irouter(offset) {
            let Some(window) = reg64_window(byte, width) else {
                return false;
            };
            return self.with_state(|s| {
                let Some(old) = s.irq(0, intid).map(|irq| irq.route) else {
                    return false;
                };
                let route = window.write(old, value) & gicd::IROUTER_MASK;
                let target = self.route_target(route);
                s.update(0, intid, Op::Route { route, target });
                true
            });
        }
        let reg32 = is_reg32(offset, width);
        // Only 1- and 4-byte accesses are handled below; the value fits.
        let value = u32::try_from(value & u64::from(u32::MAX)).unwrap_or(0);
        match offset {
            gicd::CTLR if reg32 => {
                self.with_state(|s| s.set_ctlr(value));
                true
            }
            gicd::STATUSR | gicd::SGIR if reg32 => true,
            gicd::TYPER | gicd::IIDR | gicd::TYPER2 => false,
            ID_FIRST..=ID_LAST => false,
            _ => self.with_state(|s| s.write_irq_reg(Bank::Shared, offset, width, value)),
        }
    }

    /// The vCPU an `IROUTER` value selects, as stored in an interrupt.
    fn route_target(&self, route: u64) -> u8 {
        let vcpu = if route & gicd::IROUTER_IRM != 0 {
            Some(0)
        } else {
            self.vcpu_of_affinity(route)
        };
        vcpu.and_then(|v| u8::try_from(v).ok()).unwrap_or(NO_VCPU)
    }
}
