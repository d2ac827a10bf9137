//! The hardware part of the AArch64 vCPU: the trap frame, the EL2 guest
//! vectors and world switch ([`entry`]), the EL1 state kept per vCPU
//! ([`context`]), [`Aarch64VCpu`] and [`Aarch64PerCpu`].
//!
//! Only compiled for `aarch64` bare metal; everything it decides is
//! delegated to the portable modules of this crate.

mod context;
mod entry;
mod pcpu;
mod regs;
mod vcpu;
mod vgic_lr;

pub use context::GuestSystemRegisters;
pub use entry::TrapFrame;
pub use pcpu::Aarch64PerCpu;
pub use vcpu::{Aarch64VCpu, Aarch64VCpuCreateConfig, Aarch64VCpuSetupConfig};

/// Whether this CPU can run guests: it implements EL2 in AArch64
/// (ID_AA64PFR0_EL1.EL2 != 0). The seed's placeholder returned `true`.
pub fn has_hardware_support() -> bool {
    use aarch64_cpu::registers::{ID_AA64PFR0_EL1, Readable};
    ID_AA64PFR0_EL1.read(ID_AA64PFR0_EL1::EL2) != 0
}
