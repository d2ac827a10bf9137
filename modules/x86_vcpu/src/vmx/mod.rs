//! The Intel VMX backend.
//!
//! - [`vmcs`]: the VMCS field enums with their encodings, `read`/`write`.
//! - [`exit_reason`], [`exit_info`]: the exit reasons and the decoded
//!   exit-information fields; [`exit_map`]: a raw exit to a
//!   [`GuestExit`](crate::exit::GuestExit).
//! - [`controls`]: the capability checks of `hardware_enable` and the VMCS
//!   setup; [`cr`]: the guest's CR0/CR4 under the fixed-bit rules.
//! - On the hypervisor only (`target_os = "none"`): `VmxPerCpuState`
//!   (VMXON) and `VmxVcpu` (the VMCS, the world switch, the exit loop).

pub mod controls;
pub mod cr;
pub mod exit_info;
pub mod exit_map;
pub mod exit_reason;
pub mod vmcs;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
mod entry;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
mod percpu;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
mod setup;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
mod vcpu;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
mod vcpu_exit;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub use percpu::VmxPerCpuState;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub use vcpu::VmxVcpu;

pub use exit_info::{
    CrAccessInfo, EptViolationInfo, VmxExitInfo, VmxInterruptInfo, VmxInterruptionType, VmxIoExitInfo,
};
pub use exit_reason::VmxExitReason;

/// Whether this CPU has VMX (CPUID.1:ECX.VMX); whether the firmware
/// allows it is checked by `hardware_enable`.
#[cfg(target_arch = "x86_64")]
pub fn has_hardware_support() -> bool {
    crate::backend::vmx_supported(crate::cpuid::host_cpuid)
}
