//! A virtual machine (seed 001): its vCPUs, its stage-2 address space, its
//! emulated devices and the exit loop that keeps MMIO, system-register and
//! nested-page-fault exits inside the VM.
//!
//! Owns: [`AxVM`] (`new`, `boot`, `shutdown`, `run_vcpu`, `map_region`,
//! `unmap_region`, `inject_interrupt_to_vcpu`, guest memory access), the
//! [`AxVMHal`] trait the host implements, and the guest device tree
//! ([`fdt`]): generated when a config names none (memory, CPUs, PSCI, the
//! virtual GICv3, timer, UARTs, copies of the host's nodes for passthrough
//! devices, bootargs, initrd), or the config's with the VM's memory and
//! `/chosen` put in. The config arrives with its defaults resolved by
//! `axvmconfig` (a Linux VM's default device tree place, the default
//! console); the VM logs each one when it is created and builds what they
//! name like anything the config lists.
//!
//! Interrupts: each VM with interrupts gets a virtual GICv3
//! (`axdevice::vgic`) at the [`layout`] its config gives. Around every
//! guest run the VM layer gives the model the levels of the vCPU's timer
//! lines and lets it fill and read back the vCPU's list registers; guest
//! SGIs (the `SendIPI` exit), GIC register writes and device lines make
//! interrupts pending, and the host is asked to notify each vCPU that got
//! one (`AxVMHal::inject_irq_to_vcpu`). Exits for the guest's own
//! interrupts (its timers, the GIC maintenance interrupt) re-enter the
//! guest without going back to the host. See the `irq` module.
//!
//! x86 VMs (SVM or VMX, picked at run time; NPT or EPT to match) have no
//! GIC: each vCPU has an emulated local APIC (`axdevice::VLapic`) at
//! `0xFEE0_0000`, whose interrupts are injected before each entry and whose
//! INIT/STARTUP IPIs become `CpuUp` exits, and the VM has the PC power
//! ports, whose writes become `SystemDown` / `SystemReset` exits. See the
//! `pc` module. Architecture code lives in `arch/` (`aarch64.rs`,
//! `x86_64/`, and `mock.rs` for the build machine's tests).
//!
//! Does not own: scheduling vCPUs on physical CPUs, CPU up/down, hypercall
//! services and consoles (`apps/hv`), the arch vCPU (`arm_vcpu`), the
//! device models (`axdevice`), the config schema (`axvmconfig`, re-exported
//! here).
//!
//! Stage-2 tables come from `axaddrspace` 0.3 (crates.io), whose aarch64
//! nested page table is a 3-level, 4 KiB-granule stage-2 table; the VM uses
//! a 39-bit IPA space. Region kinds: `alloc` (fresh zeroed frames) and
//! `identical` (GPA = HPA, reserved from the host first).
//!
//! Guest input is hostile: an exit the VM cannot complete becomes a fault
//! injected into the guest, or an `Err` that tells the caller to stop this
//! VM; nothing here panics on guest values. `#![deny(unsafe_code)]`.

#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

extern crate alloc;
// The scripted vCPU of host builds keeps its script in thread-locals.
#[cfg(not(target_os = "none"))]
extern crate std;

mod arch;
#[cfg(not(target_os = "none"))]
mod arch_mock;
mod exit_count;
mod fast_path;
pub mod fdt;
mod hal;
mod irq;
pub mod layout;
mod memory;
// Device accesses without syndrome are decoded by the aarch64 vCPU (and
// by the scripted one of host builds).
#[cfg(any(target_arch = "aarch64", not(target_os = "none")))]
mod no_syndrome;
mod pc;
mod vm;

pub use arch::{ArchPerCpu, ArchVCpu, backend_name};
pub use axvmconfig::{self as config, AxVMConfig, AxVMCrateConfig};
pub use hal::AxVMHal;
pub use vm::{AxVM, AxVMRef, VCpuRef};

/// Most vCPUs a VM may have (the width of the CPU masks).
pub const MAX_VCPUS: usize = 16;

// The tests' page handler allocates frames from the host heap.
#[cfg(test)]
mod defaults_tests;
#[cfg(test)]
mod fast_path_tests;
#[cfg(test)]
mod irq_tests;
#[cfg(test)]
mod pc_tests;
#[cfg(test)]
#[allow(unsafe_code)]
mod tests;
