//! aarch64: the vCPU (`arm_vcpu`) and its create and setup parameters.

use super::boot_x0;
use crate::AxVMConfig;
use arm_vcpu::{Aarch64VCpuCreateConfig, Aarch64VCpuSetupConfig};

/// The vCPU of this architecture.
pub type ArchVCpu<U> = arm_vcpu::Aarch64VCpu<U>;
/// The per-physical-CPU state of this architecture.
pub type ArchPerCpu<U> = arm_vcpu::Aarch64PerCpu<U>;

/// Create parameters of vCPU `vcpu_id`: MPIDR affinity = the physical
/// id the config gives it (Aff0 = vCPU id by default), x0 = the DTB.
pub(crate) fn create_config(
    config: &AxVMConfig,
    vcpu_id: usize,
    phys_id: usize,
    cntvoff: u64,
    vm_key: u64,
) -> Aarch64VCpuCreateConfig {
    let _ = phys_id;
    Aarch64VCpuCreateConfig {
        mpidr_el1: crate::fdt::vcpu_mpidr(vcpu_id),
        dtb_addr: boot_x0(config),
        cntvoff,
        vm_key,
    }
}

/// The VM's `CNTVOFF_EL2`: [`arm_vcpu::VIRTUAL_COUNTER_OFFSET`], zero,
/// so the guest's virtual count is the physical count (not zero at its
/// creation): with any other offset a guest compare value near 2^64 hangs
/// QEMU 7.2 (see that constant).
pub(crate) fn counter_offset() -> u64 {
    arm_vcpu::VIRTUAL_COUNTER_OFFSET
}

pub(crate) use arm_vcpu::irqs::is_guest_owned as is_guest_owned_irq;

pub(crate) fn setup_config(config: &AxVMConfig) -> Aarch64VCpuSetupConfig {
    let _ = config;
    Aarch64VCpuSetupConfig {
        // Physical interrupts always reach the hypervisor (it keeps its
        // timer and IPIs, and other VMs theirs). The "passthrough"
        // interrupt mode delivers a VM's device interrupts through list
        // registers linked to the physical ones instead (see
        // `AxVM::vgic` and the host's forwarding).
        passthrough_interrupt: false,
        passthrough_timer: false,
    }
}

/// Stage-2 translation levels: 3 (the walk starts at level 1, 39-bit IPA).
const LEVELS: usize = 3;

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
    "arm-el2"
}

pub(crate) use crate::no_syndrome::emulate as emulate_without_syndrome;
