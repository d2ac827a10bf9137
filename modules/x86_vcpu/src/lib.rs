//! The x86_64 vCPU of the hypervisor (seed 002): an Intel VMX backend and
//! an AMD SVM backend behind the same `axvcpu` traits.
//!
//! # What it owns
//!
//! - Shared by both backends, portable and unit-tested on the build
//!   machine: the guest's registers ([`regs`]: [`GeneralRegisters`] with
//!   every width accessor, the register numbers `set_gpr` takes), the
//!   decoder of the instruction behind an MMIO exit ([`mod@decode`]) and the
//!   arithmetic of read-modify-write ones ([`alu`]), CPUID filtering
//!   ([`cpuid`]), the I/O and MSR intercept bitmaps of both backends
//!   ([`bitmap`]), the guest and nested page walks that fetch that
//!   instruction ([`paging`]), the guest's mode ([`mode`]), pending events
//!   and the injection rule ([`event`]), and what to do about each exit
//!   ([`exit`]: a backend-neutral [`exit::GuestExit`] in,
//!   an [`exit::ExitAction`] out; [`exit::mmio`] for MMIO across `run`
//!   calls and for faults the host asks for).
//! - [`vmx`]: the VMCS field enums with their encodings, the exit reasons
//!   and exit-information decoders, the capability and CR0/CR4 rules; on
//!   the hypervisor `VmxPerCpuState` (VMXON) and `VmxVcpu` (VMCS, world
//!   switch, exits).
//! - [`svm`]: the VMCB layout, intercepts, exit codes, EVENTINJ, the
//!   EXITINFO1 decoders; on the hypervisor `SvmPerCpuState` and `SvmVcpu`.
//! - [`Backend`]: which of the two the CPU has, from CPUID.
//! - [`Msr`], physical frames for the hardware structures ([`frame`]), the
//!   guest's FP/SIMD state and XCR0 ([`xstate`]).
//!
//! Code that executes VMX/SVM instructions or touches control registers
//! and MSRs is compiled only for the hypervisor
//! (`target_arch = "x86_64", target_os = "none"`); everything it decides
//! with is in the portable modules above.
//!
//! # What it does not own
//!
//! Handling the exits it reports (MMIO, port I/O and MSR devices: `axvm`,
//! `axdevice`; hypercalls and power: `apps/hv`), the nested page tables it
//! is given the root of (`axvm`), a virtual local APIC or I/O APIC (guest
//! interrupts arrive through `inject_interrupt`), scheduling.
//!
//! # Choices
//!
//! - **Guest input never panics.** Every decoder is total; an exit nobody
//!   handles becomes [`axvcpu::AxVCpuExitReason::Unsupported`] with its raw
//!   syndrome (VMX: exit reason and qualification; SVM: EXITCODE and
//!   EXITINFO1), an instruction the guest may not use becomes #UD, a bad
//!   CR, XCR0 or MSR write #GP(0). The seed's reference panicked on some
//!   guest-driven exits and on an out-of-range register index; here
//!   `get_reg_of_index` reads 0 and `set_reg_of_index` ignores it.
//! - **One exit policy for two backends.** Both decode their hardware's
//!   report into a [`exit::GuestExit`] (with the instruction length worked
//!   out: SVM under QEMU has no NRIPS, so it uses the known lengths of
//!   CPUID, HLT, VMMCALL, RDMSR/WRMSR, XSETBV and EXITINFO2 for I/O) and
//!   act on the same [`exit::decide`].
//! - **MMIO is decoded from guest memory** (neither EPT violations nor
//!   QEMU's SVM give the instruction): the vCPU walks the guest's page
//!   tables and the nested table to the bytes at RIP and decodes them;
//!   RIP advances by the decoded length. What cannot be decoded is
//!   reported as `NestedPageFault`. A read-modify-write reports `MmioRead`
//!   into a latch register, then `MmioWrite` on the next `run`.
//! - **Register numbers for `set_gpr`** are [`RegTarget`] numbers: 0..15
//!   the whole register as the trait documents, higher numbers a part of
//!   one (written with the x86 rule: a 32-bit write clears the upper half,
//!   8/16-bit writes keep the rest), `edx:eax` for RDMSR, or the MMIO latch.
//!   After an `IoRead` exit, register 0 is the accumulator of the access
//!   width, so `in al, dx` keeps the rest of `rax`.
//! - **A fault for the last exit** (`inject_fault_for_last_exit`) does what
//!   a PC does: `Access` makes a load read all ones and drops a store (the
//!   instruction completes), an MSR nobody models takes #GP(0), anything
//!   else #UD (`Undefined`) or #GP(0).
//! - **Host interrupts are not acknowledged by the exit** (no VMX
//!   "acknowledge interrupt on exit"; SVM never does): the interrupt stays
//!   pending at the local APIC, and the vCPU calls `H::irq_fetch()` and
//!   `H::handle_host_irq(irq)` as the aarch64 vCPU does; on x86 the host
//!   takes it by enabling interrupts for a moment. A host NMI that exits
//!   is handed to the host's NMI handler (`int 2` on VMX; at STGI on SVM).
//! - **VMX state is programmed at bind.** `setup` only records the entry
//!   and the EPT root (the trait calls it before `bind`, the seed's
//!   `setup` needed the VMCS loaded): the first `bind` (VMPTRLD) writes the
//!   controls, every `bind` this CPU's host state and the EPT pointer
//!   (then INVEPT), `unbind` VMCLEARs so the vCPU can move. `set_entry`
//!   resets the guest to the entry as after INIT.
//! - **FP/SIMD state and the SYSCALL MSRs are switched at bind/unbind**,
//!   not on every exit: the host kernel is built without SSE and uses no
//!   SYSCALL/SWAPGS/RDTSCP. `hardware_enable` sets CR4.OSFXSR and
//!   OSXSAVE on the host for that. The guest's XCR0 is limited to what fits
//!   a 4 KiB save area, and CPUID leaf 0xD says so.
//! - **Intercepts deny by default**: every I/O port and every MSR but the
//!   guest-owned ones ([`msr::PASSTHROUGH`]) exits to the host.
//! - **Hypercalls** (`VMCALL`, `VMMCALL`) follow KVM's register convention:
//!   number in `rax`, arguments in `rbx`, `rcx`, `rdx`, `rsi` (then `rdi`,
//!   `r8`), result in `rax`.
//! - **Bits have names**: `tock-registers` bitfields for the layouts this
//!   crate decodes (exit qualifications, interruption information,
//!   EXITINFO1, EVENTINJ, V_INTR), `bitflags` for flag sets (intercepts,
//!   CPUID bits), the `x86` crate for the VMX instructions, MSR access and
//!   VMX control bits; the tests check this crate's own tables (VMCS
//!   encodings, MSR numbers) against the `x86` crate's and the manuals'.
//!
//! # What the host must provide
//!
//! A loaded TSS (VMX needs a nonzero host TR), `phys_to_virt` valid for
//! every frame a VM's nested table maps, interrupts disabled around `run`,
//! and `hardware_enable` on every CPU before its vCPUs are bound.
//! `AxVCpuHal::alloc_frame` gives one frame at a time, so the SVM
//! permission maps (12 and 8 KiB, physically contiguous) are assembled by
//! trying single frames ([`frame::ContiguousFrames`]); a HAL call for
//! contiguous frames would make that exact.
//!
//! # Tests
//!
//! `cargo test -p x86_vcpu` runs everything above that needs no hardware,
//! with inputs built from the Intel SDM and AMD APM layouts independently
//! of the code (decoder byte strings assembled with GNU `as`).
//!
//! `bash modules/x86_vcpu/smoke/run.sh` boots a small test kernel
//! (`smoke/`, its own crate) under QEMU's software emulation and runs two
//! guests on [`SvmVcpu`](svm) through every SVM path: world switch, port
//! I/O, decoded MMIO loads, stores and a read-modify-write, CPUID, VMMCALL,
//! HLT and an injected interrupt, the EFER view, an MSR refused with #GP,
//! a real-mode start, two vCPUs sharing a CPU. The VMX backend compiles
//! for the hypervisor but cannot run here (QEMU's TCG has no VMX).

#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod alu;
pub mod backend;
pub mod bitmap;
pub mod cpuid;
pub mod decode;
pub mod event;
pub mod exit;
pub mod frame;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
mod hw;
pub mod mode;
pub mod msr;
pub mod paging;
pub mod regs;
pub mod svm;
pub mod vmx;
pub mod xstate;

pub use backend::Backend;
pub use decode::{DecodeMode, MmioInstruction, decode};
pub use mode::{StartMode, VmCpuMode, X86VCpuCreateConfig};
pub use msr::Msr;
pub use paging::GuestPageWalkInfo;
pub use regs::{GeneralRegisters, Gpr, GprPart, RegTarget};
pub use vmx::{VmxExitInfo, VmxExitReason, VmxInterruptInfo, VmxIoExitInfo};

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub use svm::{SvmPerCpuState, SvmVcpu};
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub use vmx::{VmxPerCpuState, VmxVcpu};

/// The seed's name for the VMX vCPU.
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub type VmxArchVCpu<H> = VmxVcpu<H>;
/// The seed's name for the VMX per-CPU state.
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub type VmxArchPerCpuState<H> = VmxPerCpuState<H>;

/// Whether this CPU can run guests with either backend ([`Backend::detect`]
/// says which).
#[cfg(target_arch = "x86_64")]
pub fn has_hardware_support() -> bool {
    Backend::detect().is_some()
}
