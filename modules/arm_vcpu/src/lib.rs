//! The AArch64 vCPU of the hypervisor (seeds 000 and 003).
//!
//! # What it owns
//!
//! - Decoding a guest exit: the `ESR_EL2` syndrome, with `FAR_EL2` and
//!   `HPFAR_EL2` for aborts, into a [`SyncException`] ([`esr`]; the field
//!   layouts are in [`fields`]).
//! - Deciding what to do about it ([`exit`]): the [`axvcpu::AxVCpuExitReason`]
//!   for the host (MMIO, system registers, WFI, hypercalls, CPU up/down,
//!   IPIs), an answer given directly to the guest, or a fault the guest must
//!   take instead; and the emulation rules around it (the PC advance, the
//!   value an emulated load leaves in its register).
//! - Emulating a data access that came without a syndrome ([`a64`]): the
//!   A64 load/store decoder and an executor that performs the decoded
//!   accesses on a register file and a bus given as traits (pairs,
//!   write-back forms, SIMD&FP registers, exclusives, `DC ZVA`, ...).
//! - PSCI 1.1 and SMCCC 1.1 for guests ([`psci`]), the way into the
//!   hypervisor's own hypercall ABI ([`hypercall`], defined for every
//!   architecture in `axvcpu`), the system-register address encoding and
//!   the registers it traps ([`sysreg`]), and the register values that
//!   inject an exception into the guest ([`inject`]).
//! - What the guest sees of the CPU: the ID registers, trapped
//!   (`HCR_EL2.TID3`) and answered from a filtered copy of the hardware's
//!   ([`idregs`], the field table in [`idregs::fields`]); the debug
//!   registers, emulated per vCPU ([`debug`]); the registers of the
//!   features it is told it lacks (PMU, SVE, SME, AMU, SPE, trace, RAS),
//!   UNDEFINED ([`emulate`] dispatches every trapped register access);
//!   the EL2 trap controls that make all of that hold ([`traps`]:
//!   `CPTR_EL2`, `MDCR_EL2`, `HCR_EL2`); and the VM's stage-2 VMID
//!   ([`vmid`]). `README.md` beside this crate sums it up.
//! - The hardware part: `Aarch64VCpu` (the `AxArchVCpu` implementation),
//!   `Aarch64PerCpu` (`AxArchPerCpu`: HCR_EL2, VBAR_EL2), the trap frame,
//!   the EL2 vectors and the context switch, the GICv3 virtual CPU
//!   interface (list registers copied around each run, `ICH_VMCR_EL2` and
//!   the active priorities switched with the vCPU), and the guest timers
//!   (`CNTVOFF_EL2` zero, see [`VIRTUAL_COUNTER_OFFSET`]; the timer lines reported as
//!   `axvcpu::LocalIrqLine`s, see [`irqs`]), and the hardware side of
//!   emulating an access without syndrome (the instruction fetch through
//!   `AT S1E1R`, the guest's SP and SIMD&FP registers). It lives under
//!   `arch/`, is written separately, and calls the portable modules above
//!   on every exit.
//!
//! # What it does not own
//!
//! Handling the exits it reports: MMIO and system-register devices
//! (`axdevice`, through `axvm`), the stage-2 tables (`axvm`), starting and
//! stopping vCPUs, consoles and the hypercall services (`apps/hv`). It knows
//! nothing of other vCPUs or of the VM's memory map, so decisions that need
//! them (`AFFINITY_INFO`, whether an address without syndrome is RAM or a
//! device) are handed to the caller with what it needs to decide.
//!
//! # Guest input is hostile
//!
//! Everything decoded here comes from guest-controlled registers. Every
//! function is total: no value panics, loops or overflows; an unexpected
//! combination decodes to a variant that reports or injects a fault. The
//! portable modules contain no `unsafe` and are unit-tested on the build
//! machine (`cargo test -p arm_vcpu`); their tests build their inputs from
//! the ARM ARM field layouts, independently of the decoder.

#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub mod a64;
pub mod debug;
pub mod emulate;
pub mod esr;
pub mod exit;
pub mod fields;
pub mod idregs;
/// The hypervisor's hypercall ABI (arch-neutral, in `axvcpu`).
pub use axvcpu::hypercall;
pub mod inject;
pub mod irqs;
pub mod psci;
pub mod sysreg;
pub mod traps;
pub mod vmid;

#[cfg(test)]
mod test_util;

#[cfg(all(target_arch = "aarch64", target_os = "none"))]
mod arch;
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub use arch::{
    Aarch64PerCpu, Aarch64VCpu, Aarch64VCpuCreateConfig, Aarch64VCpuSetupConfig, GuestSystemRegisters, TrapFrame,
    has_hardware_support,
};

/// `CNTVOFF_EL2` of every VM: zero, so a guest's virtual count equals the
/// physical count.
///
/// A per-VM offset (the physical count at the VM's creation, so that guest
/// time starts near zero) is what the architecture allows and what real
/// hardware handles: its timer condition is `CNTPCT - CNTVOFF >= CVAL`,
/// with no sum that could wrap. QEMU 7.2 (the platform tested here)
/// instead schedules the virtual timer at `CVAL + CNTVOFF` computed in 64
/// bits: a guest compare value of `2^64 - CNTVOFF` or more (`u64::MAX`, a
/// common "never" value, included) wraps that sum into the past, and QEMU
/// re-arms the timer forever, which hangs the whole machine and every VM
/// on it. With a zero offset the sum never wraps, so no guest can do that;
/// guest time then runs from the machine's boot, which the architecture
/// permits (the virtual count has no defined start). The test guest checks
/// both `u64::MAX` and `2^64 - 1000`.
pub const VIRTUAL_COUNTER_OFFSET: u64 = 0;

pub use esr::{ExceptionClass, FaultStatus, MmioAccess, SyncException, decode_sync};
pub use exit::{ExitDecision, access_abort, exit_from_sync, instruction_len, mmio_read_result};
pub use hypercall::{Hypercall, decode_hypercall};
pub use inject::{GuestException, GuestFault, GuestState, inject_fault};
pub use psci::{PsciAction, handle_psci};
pub use sysreg::sys_reg;
