//! What the hypervisor app does differently per architecture: the
//! hypercall ABI and CPU-start answers, how a guest names a vCPU in a CPU
//! start, the host interrupts that belong to guests, turning on the CPU's
//! virtualization support, and loading a VM's images.

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
pub use aarch64::*;

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use x86_64::*;
