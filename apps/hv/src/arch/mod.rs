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

use axvcpu::hypercall::{self as hc, Hypercall};
use axvmm::GuestServices;

/// Carries out a call of the hypervisor's hypercall ABI (`None`: not one
/// of its numbers) for `guest`; the value the call returns.
fn answer_hypercall(guest: &dyn GuestServices, call: Option<Hypercall>) -> u64 {
    match call {
        Some(Hypercall::PutChar(b)) => {
            guest.console_write(&[b]);
            hc::HC_SUCCESS
        }
        Some(call) => call
            .vcpu_result(guest.vm_id(), guest.vcpu_id())
            .unwrap_or(hc::HC_NOT_SUPPORTED),
        None => hc::HC_NOT_SUPPORTED,
    }
}
