//! Where a VM's emulated GICv3 sits in guest physical memory.
//!
//! A config may place the distributor and the redistributors with
//! `gicd_v3` / `gicr_v3` entries in `emu_devices` (or AxVisor's types for
//! them: `interrupt_controller` (0x1) and `gppt_distributor` (0x21) place
//! the distributor, `gppt_redistributor` (0x20) the redistributors; the
//! emulated GIC stands in for AxVisor's partial passthrough one, with the
//! same guest-visible registers); otherwise a VM in the
//! `emu` or `passthrough` interrupt mode gets them where QEMU's `virt`
//! machine has its GIC, so a guest built for that board finds them. The
//! layout type and the frame sizes are the vGIC model's
//! ([`axdevice::VgicLayout`], [`axdevice::vgic::regs`]).

use crate::AxVMConfig;
use axdevice::VgicLayout;
use axvcpu::GuestPhysAddr;
use axvmconfig::{EmulatedDeviceType, VMInterruptMode};

pub use axdevice::vgic::regs::{GICD_SIZE, GICR_STRIDE};

/// Default distributor base (QEMU `virt`).
pub const DEFAULT_GICD_BASE: usize = 0x0800_0000;
/// Default base of the first redistributor (QEMU `virt`).
pub const DEFAULT_GICR_BASE: usize = 0x080a_0000;
/// The number of SPIs the virtual distributor implements (INTIDs 32 to
/// 32 + `NR_SPIS` - 1).
pub const NR_SPIS: u32 = 224;

/// The virtual GIC layout of `config`, or `None` when the VM has no
/// interrupts (`no_irq`).
pub fn gic_layout(config: &AxVMConfig) -> Option<VgicLayout> {
    if config.interrupt_mode() == VMInterruptMode::NoIrq {
        return None;
    }
    let find = |types: &[EmulatedDeviceType]| {
        config
            .emu_devices()
            .iter()
            .find(|d| types.contains(&d.emu_type))
            .map(|d| d.base_gpa)
    };
    let gicd = [
        EmulatedDeviceType::GicdV3,
        EmulatedDeviceType::GPPTDistributor,
        EmulatedDeviceType::InterruptController,
    ];
    let gicr = [EmulatedDeviceType::GicrV3, EmulatedDeviceType::GPPTRedistributor];
    Some(VgicLayout {
        gicd_base: GuestPhysAddr::from(find(&gicd).unwrap_or(DEFAULT_GICD_BASE)),
        gicr_base: GuestPhysAddr::from(find(&gicr).unwrap_or(DEFAULT_GICR_BASE)),
        nr_vcpus: config.cpu_num(),
        nr_spis: NR_SPIS,
    })
}
