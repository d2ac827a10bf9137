//! The VM manager: every VM the hypervisor knows, from creation to
//! destruction, and every physical CPU's loop that runs their vCPUs.
//!
//! # What it owns
//!
//! - The registry of VMs and their lifecycle ([`lifecycle`]: created,
//!   running, paused, stopped; start, pause, resume, stop, restart,
//!   destroy), carried out by [`Vmm`] ([`Vmm::request`]); a guest's power
//!   off stops its VM and its reset restarts it.
//! - Where vCPUs run ([`placement`]: `phys_cpu_ids`, `phys_cpu_sets`, least
//!   loaded CPU) and in which order ([`sched`]: equal shares of a shared
//!   CPU, time slices of at most a host tick ([`mod@slice`]), halted vCPUs
//!   cost nothing and run first when they wake), the
//!   vCPUs' power state as the guest sees it ([`vcpu`]), and each CPU's
//!   loop ([`cpu_loop`]) with the exits it handles ([`exits`]).
//! - The host console: VM output by name on one shared screen
//!   ([`screen`]), queued per VM on its way there ([`outbox`]: bounded, a
//!   VM that writes too fast loses its own oldest lines, counted), input
//!   to the focused VM, and the management shell ([`console`], [`shell`]).
//! - Memory accounting: what each VM held when it is freed, and that all
//!   of it came back when the last one is gone.
//!
//! # What it does not own
//!
//! Building a VM (`axvm`, through [`VmmHal::build_vm`]), the architecture
//! (hypercall ABI, CPU ids, interrupts: the app implements [`VmmHal`] and
//! [`ManagedVm`]), and the host kernel. It is architecture-neutral and has
//! no `unsafe`; it is tested on the build machine against a mock host and
//! mock VMs.
//!
//! # Choices
//!
//! - No CPU waits for another: a stop marks the VM and interrupts the
//!   CPUs of its vCPUs, each CPU retires them at its next loop pass, and
//!   CPU 0 finishes what needs all of them gone (a restart, a destroy,
//!   power-off) in [`Vmm::service`].
//! - A paused VM's virtual time keeps running (its counter is the host's
//!   minus a fixed offset): on resume the guest sees the pause as time that
//!   passed, and timers that expired meanwhile fire at once.
//! - A stopped VM keeps its memory until it is restarted (fresh, zeroed
//!   memory, images loaded again) or destroyed.
//! - One VM cannot make another wait beyond sharing a CPU: interrupts for
//!   a vCPU on another CPU interrupt that CPU once until the vCPU runs
//!   ([`Vmm::kick`]), console output waits in the writer's own queue, and
//!   a halted vCPU's saved timer deadline is armed on its CPU whatever
//!   runs there meanwhile.
//! - Locks are `kspin` spin locks that mask interrupts; none is held while
//!   a guest runs, a VM is built or freed, or the console prints.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

extern crate alloc;

pub mod console;
pub mod cpu_loop;
pub mod exits;
pub mod hal;
pub mod lifecycle;
mod manager;
pub mod outbox;
pub mod placement;
pub mod run;
pub mod sched;
pub mod screen;
pub mod shell;
pub mod slice;
pub mod vcpu;
mod vmm;

pub use cpu_loop::{CpuLocal, Step};
pub use hal::{CpuChoice, CpuOnResult, GuestServices, ManagedVm, Power, VmImage, VmmHal};
pub use lifecycle::{Request, VmState};
pub use vmm::Vmm;

#[cfg(test)]
mod tests;
