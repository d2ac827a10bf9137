//! Tests of the vGIC: its registers as a guest driver sees them
//! ([`registers`]), the list-register passes as the vCPU loop drives them
//! ([`delivery`]), and hostile accesses ([`hostile`]), with the helpers they
//! share.

mod delivery;
mod hostile;
mod registers;

use std::sync::Arc;
use std::vec::Vec;

use axvcpu::virq::lr;
use axvcpu::{AccessWidth, GuestPhysAddr, ListRegs};

use super::regs::{GICR_SGI_BASE, GICR_STRIDE, IIDR_VALUE, PIDR2, gicd, gicr, irq};
use super::*;
use crate::DeviceRange;

const GICD_BASE: usize = 0x0800_0000;
const GICR_BASE: usize = 0x080A_0000;

/// A deterministic xorshift64 generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A vGIC and its two devices.
struct Gic {
    vgic: Arc<Vgic>,
    gicd: Arc<dyn BaseDeviceOps>,
    gicr: Arc<dyn BaseDeviceOps>,
}

fn layout(nr_vcpus: usize, nr_spis: u32) -> VgicLayout {
    VgicLayout {
        gicd_base: GuestPhysAddr::from(GICD_BASE),
        gicr_base: GuestPhysAddr::from(GICR_BASE),
        nr_vcpus,
        nr_spis,
    }
}

impl Gic {
    fn new(nr_vcpus: usize, nr_spis: u32) -> Self {
        let vgic = Vgic::new(layout(nr_vcpus, nr_spis)).expect("valid layout");
        Self {
            gicd: vgic.distributor(),
            gicr: vgic.redistributors(),
            vgic,
        }
    }

    /// Reads a 32-bit distributor register.
    fn rd(&self, offset: usize) -> u32 {
        let v = self
            .gicd
            .handle_read(offset, AccessWidth::Dword)
            .expect("reads never fail");
        u32::try_from(v).expect("32-bit value")
    }

    /// Writes a 32-bit distributor register.
    fn wd(&self, offset: usize, value: u32) {
        self.gicd
            .handle_write(offset, AccessWidth::Dword, u64::from(value))
            .expect("writes never fail");
    }

    /// Reads the redistributor block at `offset` of vCPU `vcpu`'s
    /// redistributor.
    fn rr(&self, vcpu: usize, offset: usize, width: AccessWidth) -> u64 {
        self.gicr
            .handle_read(vcpu * GICR_STRIDE + offset, width)
            .expect("reads never fail")
    }

    /// Writes the redistributor block.
    fn wr(&self, vcpu: usize, offset: usize, width: AccessWidth, value: u64) {
        self.gicr
            .handle_write(vcpu * GICR_STRIDE + offset, width, value)
            .expect("writes never fail");
    }

    /// Reads a 32-bit register of vCPU `vcpu`'s `SGI_base` frame.
    fn rs(&self, vcpu: usize, offset: usize) -> u32 {
        u32::try_from(self.rr(vcpu, GICR_SGI_BASE + offset, AccessWidth::Dword)).expect("32-bit value")
    }

    /// Writes a 32-bit register of vCPU `vcpu`'s `SGI_base` frame.
    fn ws(&self, vcpu: usize, offset: usize, value: u32) {
        self.wr(vcpu, GICR_SGI_BASE + offset, AccessWidth::Dword, u64::from(value));
    }

    /// Whether bit `intid` of the SPI bitmap register at `base` is set.
    fn spi_bit(&self, base: usize, intid: u32) -> bool {
        self.rd(word(base, intid)) & bit(intid) != 0
    }

    /// Sets bit `intid` of the SPI bitmap register at `base`.
    fn set_spi_bit(&self, base: usize, intid: u32) {
        self.wd(word(base, intid), bit(intid));
    }

    /// Enables both groups, and SPI `intid` in Group 1 at `priority`.
    fn setup_spi(&self, intid: u32, priority: u8) {
        self.wd(gicd::CTLR, gicd::CTLR_ENABLE_GRP0 | gicd::CTLR_ENABLE_GRP1);
        let group = self.rd(word(irq::IGROUPR, intid));
        self.wd(word(irq::IGROUPR, intid), group | bit(intid));
        self.gicd
            .handle_write(irq::IPRIORITYR + intid as usize, AccessWidth::Byte, u64::from(priority))
            .expect("writes never fail");
        self.set_spi_bit(irq::ISENABLER, intid);
    }

    fn flush(&self, vcpu: usize, lrs: &mut ListRegs) {
        self.vgic.flush_lrs(vcpu, lrs);
    }

    fn sync(&self, vcpu: usize, lrs: &ListRegs) {
        self.vgic.sync_lrs(vcpu, lrs);
    }
}

/// The word of a bitmap register at `base` that holds `intid`.
fn word(base: usize, intid: u32) -> usize {
    base + (intid as usize / 32) * 4
}

/// The bit of `intid` in its bitmap word.
fn bit(intid: u32) -> u32 {
    1 << (intid % 32)
}

fn list_regs(count: usize) -> ListRegs {
    ListRegs {
        count,
        ..ListRegs::default()
    }
}

fn intid_of(value: u64) -> u32 {
    (value & lr::VINTID_MASK) as u32
}

fn state_of(value: u64) -> u64 {
    value & lr::STATE_MASK
}

fn priority_of(value: u64) -> u64 {
    (value >> lr::PRIORITY_SHIFT) & 0xFF
}

/// The guest acknowledges the interrupt in `slot`.
fn ack(lrs: &mut ListRegs, slot: usize) {
    lrs.lr[slot] = (lrs.lr[slot] & !lr::STATE_MASK) | lr::STATE_ACTIVE;
}

/// The guest deactivates the interrupt in `slot`.
fn deactivate(lrs: &mut ListRegs, slot: usize) {
    lrs.lr[slot] &= !lr::STATE_MASK;
}

/// The valid list registers' INTIDs, in order.
fn held(lrs: &ListRegs) -> Vec<u32> {
    lrs.lr[..lrs.count]
        .iter()
        .filter(|v| state_of(**v) != 0)
        .map(|v| intid_of(*v))
        .collect()
}
