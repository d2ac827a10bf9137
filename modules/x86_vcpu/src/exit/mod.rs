//! What to do about a guest exit, for both backends.
//!
//! Each backend decodes its hardware's report (VMX: exit reason and
//! qualification, `vmx::exit_info`; SVM: EXITCODE and EXITINFO1/2,
//! `svm::definitions`) into a [`GuestExit`], the same for both, with the
//! length of the instruction to skip already worked out (VMX reports it;
//! SVM under QEMU has no NRIPS, so it is the fixed length of the
//! intercepted instruction or the next RIP of an I/O exit). [`decide`] then
//! says what to do ([`ExitAction`]):
//!
//! | [`GuestExit`] | [`ExitAction`] |
//! |---|---|
//! | `Cpuid` | filtered answer in `eax`..`edx` ([`crate::cpuid`]), resume after it |
//! | `Hlt` | [`AxVCpuExitReason::Halt`] after it |
//! | `Hypercall` (`VMCALL`, `VMMCALL`) | the calls of the hypervisor's ABI the vCPU can answer (`Hypercall::vcpu_result`) in `rax`, resume after it; others `Hypercall { nr: rax, args: [rbx, rcx, rdx, rsi, rdi, r8] }` after it |
//! | `IoIn` / `IoOut` | `IoRead` / `IoWrite { data: the accumulator }` after it |
//! | `MsrRead` / `MsrWrite` | `SysRegRead { reg: edx:eax }` / `SysRegWrite { value: edx:eax }` after it; `IA32_FEATURE_CONTROL` is answered here (locked, VMX off) |
//! | `Xsetbv` | the guest's XCR0 if valid, else #GP(0) |
//! | `NestedFault`, not present, data access | decode the instruction at RIP ([`mmio`]) |
//! | `NestedFault`, otherwise | `NestedPageFault`, RIP unchanged |
//! | `ExternalInterrupt` | the host handles it, `ExternalInterrupt` |
//! | `Nmi` | the host's NMI handler runs, the guest resumes |
//! | `InterruptWindow` | stop asking, inject the interrupt |
//! | `PreemptionTimer` | `Nothing` (the host gets its CPU back) |
//! | `Shutdown` (triple fault) | `SystemReset`, as a PC resets |
//! | `UndefinedInstruction` (VMX/SVM instructions, MONITOR, MWAIT, GETSEC) | #UD |
//! | `EntryFailure` | `FailEntry` |
//! | `Unsupported` | `Unsupported { raw, detail }` |
//!
//! Nothing here panics on any value a guest can produce.

use axvcpu::hypercall::decode_hypercall_whole;
use axvcpu::{AccessFlags, AccessWidth, AxVCpuExitReason, GuestPhysAddr, Port, SysRegAddr};

use crate::cpuid::{CpuidContext, CpuidResult, guest_cpuid};
use crate::event::Exception;
use crate::regs::{GeneralRegisters, RegTarget};

pub mod mmio;
#[cfg(test)]
mod tests;

/// How a nested page fault (EPT violation, NPF) came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NestedFaultKind {
    /// Nothing is mapped at the address: an emulated device, or memory the
    /// host has not mapped yet.
    NotPresent,
    /// A mapping exists but does not allow the access.
    Permission,
    /// The CPU faulted while reading the guest's own page tables.
    GuestTableWalk,
}

/// A guest exit, in terms both backends share. `len` is the length of the
/// instruction that exited, by which RIP advances once it is emulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestExit {
    /// `CPUID`.
    Cpuid {
        /// Instruction length.
        len: u8,
    },
    /// `HLT`.
    Hlt {
        /// Instruction length.
        len: u8,
    },
    /// `VMCALL` or `VMMCALL`.
    Hypercall {
        /// Instruction length.
        len: u8,
    },
    /// `IN` to the accumulator.
    IoIn {
        /// The port.
        port: u16,
        /// The access width.
        width: AccessWidth,
        /// Instruction length.
        len: u8,
    },
    /// `OUT` from the accumulator.
    IoOut {
        /// The port.
        port: u16,
        /// The access width.
        width: AccessWidth,
        /// Instruction length.
        len: u8,
    },
    /// `RDMSR` (the MSR is in `ecx`).
    MsrRead {
        /// Instruction length.
        len: u8,
    },
    /// `WRMSR` (the MSR is in `ecx`, the value in `edx:eax`).
    MsrWrite {
        /// Instruction length.
        len: u8,
    },
    /// `XSETBV` (XCR number in `ecx`, value in `edx:eax`).
    Xsetbv {
        /// Instruction length.
        len: u8,
    },
    /// An instruction that does nothing the guest can observe (`INVD`,
    /// `WBINVD`): skip it.
    Skip {
        /// Instruction length.
        len: u8,
    },
    /// An EPT violation / nested page fault.
    NestedFault {
        /// The faulting guest physical address.
        gpa: GuestPhysAddr,
        /// The access.
        access: AccessFlags,
        /// How it came about.
        kind: NestedFaultKind,
    },
    /// A host interrupt arrived (with its vector when the hardware
    /// acknowledged it; neither backend asks it to, so the interrupt stays
    /// pending at the local APIC for the host to take).
    ExternalInterrupt {
        /// The vector, when known.
        vector: Option<u8>,
    },
    /// A host NMI arrived.
    Nmi,
    /// The guest can take an interrupt now.
    InterruptWindow,
    /// The VMX preemption timer expired.
    PreemptionTimer,
    /// The guest triple-faulted (VMX triple fault, SVM shutdown).
    Shutdown,
    /// An instruction the guest may not use: make it #UD.
    UndefinedInstruction,
    /// The hardware refused the entry.
    EntryFailure {
        /// The backend's reason (see `FailEntry`).
        reason: u64,
    },
    /// Anything else, with the backend's raw syndrome.
    Unsupported {
        /// VMX: the exit reason; SVM: EXITCODE.
        raw: u64,
        /// VMX: the exit qualification; SVM: EXITINFO1.
        detail: u64,
    },
}

/// What the backend does about an exit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitAction {
    /// Advance RIP by `advance`, then return `reason` from `run`.
    Exit {
        /// The exit for the host.
        reason: AxVCpuExitReason,
        /// Bytes to skip (0: none).
        advance: u8,
    },
    /// Advance RIP by `advance` and enter the guest again; the registers
    /// are already updated.
    Resume {
        /// Bytes to skip.
        advance: u8,
    },
    /// Make the guest take this exception at the instruction (RIP is not
    /// advanced) and enter it again.
    Inject(Exception),
    /// Make `xcr0` the guest's XCR0, advance RIP and enter again.
    SetXcr0 {
        /// The new XCR0.
        xcr0: u64,
        /// Bytes to skip.
        advance: u8,
    },
    /// Fetch and decode the instruction at RIP, then [`mmio::mmio_step`].
    DecodeMmio {
        /// The faulting guest physical address.
        gpa: GuestPhysAddr,
        /// The access the hardware reported.
        access: AccessFlags,
    },
    /// A host interrupt: let the host handle it, then return
    /// `ExternalInterrupt`.
    HostInterrupt {
        /// The vector, when the hardware gave it.
        vector: Option<u8>,
    },
    /// A host NMI arrived: let the host's NMI handler run (VMX consumed
    /// it: `int 2`; SVM holds it until `STGI`), then enter the guest again.
    HostNmi,
    /// Stop asking for the interrupt window and enter the guest again
    /// (the pending interrupt is injected on the way in).
    InterruptWindowOpen,
}

/// What [`decide`] needs besides the exit and the registers.
#[derive(Debug, Clone, Copy)]
pub struct ExitEnv {
    /// The VM's id and the vCPU's (the hypercalls it answers itself).
    pub ids: (usize, usize),
    /// The vCPU's part of the CPUID answers.
    pub cpuid: CpuidContext,
    /// Executes `CPUID` on the host.
    pub host_cpuid: fn(u32, u32) -> CpuidResult,
}

/// What an exit leaves for `set_gpr` and `inject_fault_for_last_exit` (an
/// MMIO exit's comes from [`mmio::mmio_step`] instead).
pub const fn last_exit_of(e: &GuestExit) -> mmio::LastExit {
    match *e {
        GuestExit::IoIn { width, .. } => mmio::LastExit::IoIn { width },
        GuestExit::MsrRead { .. } | GuestExit::MsrWrite { .. } => mmio::LastExit::Msr,
        _ => mmio::LastExit::Other,
    }
}

/// MSRs the vCPU answers itself.
pub mod msr {
    /// IA32_FEATURE_CONTROL.
    pub const IA32_FEATURE_CONTROL: u32 = 0x3a;
    /// What the guest reads there: locked (bit 0), VMX disabled.
    pub const FEATURE_CONTROL_LOCKED: u64 = 1;
}

/// XCR0 bits (SDM Vol. 1, 13.3).
mod xcr0 {
    pub const X87: u64 = 1 << 0;
    pub const SSE: u64 = 1 << 1;
    pub const AVX: u64 = 1 << 2;
    /// BNDREGS and BNDCSR go together.
    pub const MPX: u64 = 0b11 << 3;
    /// opmask, ZMM_Hi256, Hi16_ZMM go together and need AVX.
    pub const AVX512: u64 = 0b111 << 5;
    /// TILECFG and TILEDATA go together.
    pub const AMX: u64 = 0b11 << 17;
}

/// Whether `value` is a valid XCR0 on a host that supports `supported`
/// (the #GP conditions of XSETBV, SDM Vol. 2D).
pub fn xcr0_valid(value: u64, supported: u64) -> bool {
    let all_or_none = |bits: u64| value & bits == 0 || value & bits == bits;
    value & !supported == 0
        && value & xcr0::X87 != 0
        && (value & xcr0::AVX == 0 || value & xcr0::SSE != 0)
        && all_or_none(xcr0::MPX)
        && all_or_none(xcr0::AVX512)
        && all_or_none(xcr0::AMX)
        && (value & xcr0::AVX512 == 0 || value & xcr0::AVX != 0)
}

fn exit(reason: AxVCpuExitReason, advance: u8) -> ExitAction {
    ExitAction::Exit { reason, advance }
}

/// Decides what to do about `e`. Emulation that only touches registers
/// (CPUID, the MSRs answered here) is done on `regs`.
pub fn decide(e: GuestExit, regs: &mut GeneralRegisters, env: &ExitEnv) -> ExitAction {
    match e {
        GuestExit::Cpuid { len } => {
            let r = guest_cpuid(regs.eax(), regs.ecx(), env.cpuid, env.host_cpuid);
            regs.set_eax(r.eax);
            regs.set_ebx(r.ebx);
            regs.set_ecx(r.ecx);
            regs.set_edx(r.edx);
            ExitAction::Resume { advance: len }
        }
        GuestExit::Hlt { len } => exit(AxVCpuExitReason::Halt, len),
        GuestExit::Hypercall { len } => {
            let (nr, args) = (regs.rax, [regs.rbx, regs.rcx, regs.rdx, regs.rsi, regs.rdi, regs.r8]);
            // The calls the vCPU can answer by itself are answered here,
            // without an exit to the host (the fast path).
            match decode_hypercall_whole(nr, &args).and_then(|c| c.vcpu_result(env.ids.0, env.ids.1)) {
                Some(value) => {
                    regs.rax = value;
                    ExitAction::Resume { advance: len }
                }
                None => exit(AxVCpuExitReason::Hypercall { nr, args }, len),
            }
        }
        GuestExit::IoIn { port, width, len } => exit(
            AxVCpuExitReason::IoRead {
                port: Port(port),
                width,
            },
            len,
        ),
        GuestExit::IoOut { port, width, len } => exit(
            AxVCpuExitReason::IoWrite {
                port: Port(port),
                width,
                data: regs.rax & width.mask(),
            },
            len,
        ),
        GuestExit::MsrRead { len } => match regs.ecx() {
            msr::IA32_FEATURE_CONTROL => {
                regs.set_edx_eax(msr::FEATURE_CONTROL_LOCKED);
                ExitAction::Resume { advance: len }
            }
            m => exit(
                AxVCpuExitReason::SysRegRead {
                    addr: SysRegAddr(m as usize),
                    reg: RegTarget::EdxEax.number(),
                },
                len,
            ),
        },
        GuestExit::MsrWrite { len } => match regs.ecx() {
            // Locked: a write faults, as on hardware.
            msr::IA32_FEATURE_CONTROL => ExitAction::Inject(Exception::GP0),
            m => exit(
                AxVCpuExitReason::SysRegWrite {
                    addr: SysRegAddr(m as usize),
                    value: regs.get_edx_eax(),
                },
                len,
            ),
        },
        GuestExit::Xsetbv { len } => {
            let value = regs.get_edx_eax();
            if regs.ecx() == 0 && xcr0_valid(value, env.cpuid.xcr0_supported) {
                ExitAction::SetXcr0 {
                    xcr0: value,
                    advance: len,
                }
            } else {
                ExitAction::Inject(Exception::GP0)
            }
        }
        GuestExit::Skip { len } => ExitAction::Resume { advance: len },
        GuestExit::NestedFault { gpa, access, kind } => {
            let data_access = !access.contains(AccessFlags::EXECUTE) && !access.is_empty();
            if kind == NestedFaultKind::NotPresent && data_access {
                ExitAction::DecodeMmio { gpa, access }
            } else {
                exit(
                    AxVCpuExitReason::NestedPageFault {
                        addr: gpa,
                        access_flags: access,
                    },
                    0,
                )
            }
        }
        GuestExit::ExternalInterrupt { vector } => ExitAction::HostInterrupt { vector },
        GuestExit::Nmi => ExitAction::HostNmi,
        GuestExit::InterruptWindow => ExitAction::InterruptWindowOpen,
        GuestExit::PreemptionTimer => exit(AxVCpuExitReason::Nothing, 0),
        GuestExit::Shutdown => exit(AxVCpuExitReason::SystemReset, 0),
        GuestExit::UndefinedInstruction => ExitAction::Inject(Exception::UD),
        GuestExit::EntryFailure { reason } => exit(
            AxVCpuExitReason::FailEntry {
                hardware_entry_failure_reason: reason,
            },
            0,
        ),
        GuestExit::Unsupported { raw, detail } => exit(AxVCpuExitReason::Unsupported { raw, detail }, 0),
    }
}
