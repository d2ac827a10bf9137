//! The architecture-independent vCPU layer of the hypervisor.
//!
//! # What it owns
//!
//! - The interfaces an architecture implements: [`AxArchVCpu`] (a vCPU:
//!   `arm_vcpu::Aarch64VCpu`, `x86_vcpu::VmxVcpu`) and [`AxArchPerCpu`] (the
//!   per-physical-CPU virtualisation state), with [`AxPerCpu`], a wrapper
//!   that checks the per-CPU lifecycle.
//! - The interface the host implements for the arch crates: [`AxVCpuHal`]
//!   (frames, phys/virt translation, host interrupts, time).
//! - [`AxVCpu`], the vCPU lifecycle state machine over an [`AxArchVCpu`]
//!   ([`VCpuState`]; the table of transitions is in the [`vcpu`] module).
//! - [`AxVCpuExitReason`], why a guest exited, with [`AccessWidth`],
//!   [`AccessFlags`], [`SysRegAddr`] and [`Port`].
//! - The address types [`GuestPhysAddr`], [`GuestVirtAddr`] (new types) and
//!   [`HostPhysAddr`], [`HostVirtAddr`] (the `memory_addr` types).
//! - The vCPU's side of virtual interrupts: list registers ([`ListRegs`])
//!   and the lines its own timers drive ([`LocalIrqLine`]); see [`virq`].
//! - The per-CPU record of the vCPU bound to the current physical CPU
//!   ([`current_vcpu`]).
//! - The fast path through which a VM finishes device accesses inside the
//!   arch vCPU's own run loop ([`ExitFastPath`]).
//! - The hypervisor's own hypercall ABI, the same on every architecture
//!   ([`hypercall`]): its numbers, return codes and decoding.
//!
//! # What it does not own
//!
//! Handling exits (MMIO, port I/O, system registers: `axvm` and `axdevice`;
//! hypercalls, CPU up/down: `apps/hv`), the stage-2 page tables (`axvm`),
//! scheduling vCPUs onto physical CPUs (the host; `favor_phys_cpu` and
//! `phys_cpu_set` are only recorded here), and anything that touches
//! hardware (the arch crates).
//!
//! # Choices
//!
//! - **Errors, not panics.** A call in the wrong state returns
//!   [`AxError::BadState`] and changes nothing; an arch error during a
//!   transition moves the vCPU to [`VCpuState::Invalid`]. The seed's
//!   implementation invalidated the vCPU on a wrong-state call and panicked
//!   on nested operations; both are replaced. [`AxPerCpu`] likewise returns
//!   `BadState` on double enable/disable or use before `init`, where the
//!   seed panicked.
//! - **`&mut self`, no interior mutability.** The seed kept the arch vCPU in
//!   an `UnsafeCell` and the state in a `RefCell` so that `&self` methods
//!   could mutate them. A vCPU is driven by one runner at a time (the thread
//!   on its physical CPU), so here every mutating method takes `&mut self`
//!   and the borrow checker enforces that: the state cannot change under a
//!   running vCPU, and [`AxVCpu::get_arch_vcpu`] is a plain `&mut A`. A
//!   holder that shares a vCPU (a VM reaching it from several CPUs) wraps it
//!   in a lock; another CPU that wants to inject an interrupt into a running
//!   vCPU sends its physical CPU an IPI, and the runner injects it after the
//!   resulting exit, on the right CPU.
//! - **The per-CPU record holds an identity, not a pointer.** The seed
//!   stored a raw pointer to the current vCPU in a per-CPU variable. Here
//!   `bind` records the vCPU's (VM id, vCPU id) and `unbind` clears it;
//!   `run` and `unbind` refuse to act on a vCPU that is not the one bound to
//!   the current CPU, and `bind` refuses when another is bound. The record is
//!   a `percpu` variable on the hypervisor (`target_os = "none"`) and a
//!   thread-local on a hosted target (the unit tests). The crate has no
//!   `unsafe` code (`#![deny(unsafe_code)]`, no exception).
//!
//! # Tests
//!
//! `cargo test -p axvcpu` runs the state machine against `MockArchVCpu`,
//! which records every arch call and can be told to fail any of them.

#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]
#![deny(missing_docs)]

// The thread-local slot backend on hosted targets needs `std`.
#[cfg(all(not(test), not(target_os = "none")))]
extern crate std;

mod addr;
mod arch_vcpu;
mod current;
mod error_name;
mod exit;
mod fast_path;
mod hal;
pub mod hypercall;
mod per_cpu;
pub mod vcpu;
pub mod virq;

#[cfg(test)]
mod test;

pub use addr::{GuestPhysAddr, GuestVirtAddr, HostPhysAddr, HostVirtAddr};
pub use arch_vcpu::{AxArchVCpu, LastExitFault, VCpuId, VMId};
pub use axerrno::{AxError, AxResult};
pub use current::{CurrentVCpu, MAX_SLOT_VCPU_ID, MAX_SLOT_VM_ID, current_vcpu};
pub use error_name::ErrorName;
pub use exit::{AccessFlags, AccessWidth, AxVCpuExitReason, Port, SysRegAddr};
pub use fast_path::{ExitFastPath, FastExit, NoFastPath};
pub use hal::AxVCpuHal;
pub use per_cpu::{AxArchPerCpu, AxPerCpu};
pub use vcpu::{AxVCpu, VCpuState};
pub use virq::{LOCAL_TIMERS, ListRegs, LocalIrqLine, MAX_LIST_REGS, TimerDeadlines};
