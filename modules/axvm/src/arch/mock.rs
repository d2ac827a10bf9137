//! On the build machine (unit tests): a scripted vCPU.

use super::boot_x0;
use crate::AxVMConfig;
pub use crate::arch_mock::{MockPerCpu as ArchPerCpuImpl, ScriptedVCpu};

/// The vCPU of this build: scripted exits, for unit tests.
pub type ArchVCpu<U> = ScriptedVCpu<U>;
/// The per-physical-CPU state of this build.
pub type ArchPerCpu<U> = ArchPerCpuImpl<U>;

pub(crate) fn create_config(
    config: &AxVMConfig,
    vcpu_id: usize,
    phys_id: usize,
    cntvoff: u64,
    vm_key: u64,
) -> crate::arch_mock::MockCreateConfig {
    let _ = (vcpu_id, phys_id, cntvoff, vm_key);
    crate::arch_mock::MockCreateConfig { x0: boot_x0(config) }
}

/// No counter on the build machine.
pub(crate) fn counter_offset() -> u64 {
    0
}

pub(crate) use arm_vcpu::irqs::is_guest_owned as is_guest_owned_irq;

pub(crate) fn setup_config(_config: &AxVMConfig) {}

/// Stage-2 levels of axaddrspace's table on the build machine (x86 EPT: 4).
const LEVELS: usize = 4;

/// The VM's stage-2 table (`axaddrspace`).
pub(crate) type Stage2<H> = axaddrspace::AddrSpace<H>;

/// An empty stage-2 table for guest physical addresses below `limit`.
pub(crate) fn new_stage2<H: page_table_multiarch::PagingHandler>(limit: usize) -> axerrno::AxResult<Stage2<H>> {
    axaddrspace::AddrSpace::new_empty(LEVELS, axaddrspace::GuestPhysAddr::from(0), limit)
}

/// The value an MMIO load leaves in its register (truncated, extended).
pub(crate) use arm_vcpu::mmio_read_result as mmio_read_value;

/// aarch64 VMs have a virtual GIC (unless `no_irq`).
pub(crate) const HAS_GIC: bool = true;
/// No PC devices (local APICs, power ports).
pub(crate) const PC_DEVICES: bool = false;

/// The backend of the vCPUs.
pub fn backend_name() -> &'static str {
    "scripted"
}

pub(crate) use crate::no_syndrome::emulate as emulate_without_syndrome;
