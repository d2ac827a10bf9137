//! The architecture's vCPU type and how a VM config becomes its create and
//! setup parameters.

use crate::AxVMConfig;

/// x0 of a vCPU when it starts: the device tree's load address (the
/// config's `dtb_load_addr` or its default place, already resolved by
/// `axvmconfig`), or 0 for a VM without a tree.
fn boot_x0(config: &AxVMConfig) -> usize {
    config.image_config().dtb_load_gpa.unwrap_or(0)
}

#[cfg(all(target_arch = "aarch64", target_os = "none"))]
mod imp {
    use super::*;
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
    ) -> Aarch64VCpuCreateConfig {
        let _ = phys_id;
        Aarch64VCpuCreateConfig {
            mpidr_el1: crate::fdt::vcpu_mpidr(vcpu_id),
            dtb_addr: boot_x0(config),
            cntvoff,
        }
    }

    /// The physical count now (the VM's CNTVOFF_EL2).
    pub(crate) fn counter_now() -> u64 {
        arm_vcpu::physical_count()
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
}

#[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
mod imp {
    //! On the build machine (unit tests): a scripted vCPU.
    use super::*;
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
    ) -> crate::arch_mock::MockCreateConfig {
        let _ = (vcpu_id, phys_id, cntvoff);
        crate::arch_mock::MockCreateConfig { x0: boot_x0(config) }
    }

    /// No counter on the build machine.
    pub(crate) fn counter_now() -> u64 {
        0
    }

    pub(crate) use arm_vcpu::irqs::is_guest_owned as is_guest_owned_irq;

    pub(crate) fn setup_config(_config: &AxVMConfig) {}
}

pub use imp::{ArchPerCpu, ArchVCpu};
pub(crate) use imp::{counter_now, create_config, is_guest_owned_irq, setup_config};
