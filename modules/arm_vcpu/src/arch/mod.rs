//! The hardware part of the AArch64 vCPU: the trap frame, the EL2 guest
//! vectors and world switch ([`entry`]), the EL1 state kept per vCPU
//! ([`context`]), [`Aarch64VCpu`] and [`Aarch64PerCpu`].
//!
//! Only compiled for `aarch64` bare metal; everything it decides is
//! delegated to the portable modules of this crate.

mod context;
mod debug_hw;
mod entry;
mod hw_ids;
mod no_syndrome;
mod pcpu;
mod regs;
mod vcpu;
mod vgic_cpuif;
mod vmid_hw;

pub use context::GuestSystemRegisters;
pub use entry::TrapFrame;
pub use pcpu::Aarch64PerCpu;
pub use vcpu::{Aarch64VCpu, Aarch64VCpuCreateConfig, Aarch64VCpuSetupConfig};

/// Whether this CPU can run guests: it implements EL2 in AArch64
/// (ID_AA64PFR0_EL1.EL2 != 0). The seed's placeholder returned `true`.
pub fn has_hardware_support() -> bool {
    /// ID_AA64PFR0_EL1.EL2, bits [11:8]: 0 = EL2 not implemented.
    const EL2_SHIFT: u64 = 8;
    const FIELD: u64 = 0xf;
    (regs::read_sysreg!(id_aa64pfr0_el1) >> EL2_SHIFT) & FIELD != 0
}
