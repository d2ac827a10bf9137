//! Where a VM's emulated GICv3 sits in guest physical memory.
//!
//! A config may place the distributor and the redistributors with
//! `gicd_v3` / `gicr_v3` entries in `emu_devices`; otherwise a VM in the
//! `emu` or `passthrough` interrupt mode gets them where QEMU's `virt`
//! machine has its GIC, so a guest built for that board finds them.

use crate::AxVMConfig;
use axvmconfig::{EmulatedDeviceType, VMInterruptMode};

/// Size of the GICv3 distributor frame.
pub const GICD_SIZE: usize = 0x1_0000;
/// Size of one redistributor (RD_base and SGI_base frames).
pub const GICR_STRIDE: usize = 0x2_0000;
/// Default distributor base (QEMU `virt`).
pub const DEFAULT_GICD_BASE: usize = 0x0800_0000;
/// Default base of the first redistributor (QEMU `virt`).
pub const DEFAULT_GICR_BASE: usize = 0x080a_0000;
/// The number of SPIs the virtual distributor implements (INTIDs 32 to
/// 32 + `NR_SPIS` - 1).
pub const NR_SPIS: u32 = 224;

/// The guest physical layout of a VM's virtual GICv3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GicLayout {
    /// Distributor base ([`GICD_SIZE`] bytes).
    pub gicd_base: usize,
    /// First redistributor base; vCPU `i`'s is at `gicr_base + i * GICR_STRIDE`.
    pub gicr_base: usize,
    /// Number of redistributors (one per vCPU).
    pub nr_vcpus: usize,
    /// Number of SPIs.
    pub nr_spis: u32,
}

impl GicLayout {
    /// Total size of the redistributor range.
    pub fn gicr_size(&self) -> usize {
        self.nr_vcpus.saturating_mul(GICR_STRIDE)
    }
}

/// The virtual GIC layout of `config`, or `None` when the VM has no
/// interrupts (`no_irq`).
pub fn gic_layout(config: &AxVMConfig) -> Option<GicLayout> {
    if config.interrupt_mode() == VMInterruptMode::NoIrq {
        return None;
    }
    let find = |t: EmulatedDeviceType| {
        config
            .emu_devices()
            .iter()
            .find(|d| d.emu_type == t)
            .map(|d| d.base_gpa)
    };
    Some(GicLayout {
        gicd_base: find(EmulatedDeviceType::GicdV3).unwrap_or(DEFAULT_GICD_BASE),
        gicr_base: find(EmulatedDeviceType::GicrV3).unwrap_or(DEFAULT_GICR_BASE),
        nr_vcpus: config.cpu_num(),
        nr_spis: NR_SPIS,
    })
}
