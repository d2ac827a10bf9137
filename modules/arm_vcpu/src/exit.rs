//! What to do about a decoded guest exception: hand an
//! [`AxVCpuExitReason`] to the host, answer the guest directly, or make the
//! guest take a fault ([`ExitDecision`]).
//!
//! # Decisions
//!
//! | [`SyncException`] | [`ExitDecision`] |
//! |---|---|
//! | `DataAbort`, translation fault | `MmioRead` / `MmioWrite`, PC advanced |
//! | `DataAbort`, access flag fault | `NestedPageFault` (the mapping exists; the host fixes it), PC not advanced |
//! | `DataAbortNoSyndrome`, cache maintenance, translation fault | nothing to do: the instruction is skipped (as KVM does for DC ops on unmapped IPAs) |
//! | `DataAbortNoSyndrome`, translation fault | [`ExitDecision::DataAbortNoSyndrome`]: the caller decides (see there) |
//! | `DataAbortNoSyndrome`, access flag fault | `NestedPageFault` |
//! | `InstructionAbort`, translation or access flag fault | `NestedPageFault` (`EXECUTE`) |
//! | `TableWalkAbort`, translation or access flag fault | `NestedPageFault` (`READ`, plus `WRITE` for a descriptor update) at the descriptor's page |
//! | any abort with an address size fault, and `AbortWithoutIpa` | [`ExitDecision::InjectDataAbort`] / [`ExitDecision::InjectInstructionAbort`]: the guest sees an external abort, as on hardware with nothing at that address |
//! | `SysReg` the vCPU emulates itself (ID, debug, PMU, SVE/SME/AMU/trace/RAS registers: [`crate::emulate`]) | never reaches this table: answered, or an Undefined Instruction exception |
//! | `SysReg`, read | `SysRegRead`, PC advanced |
//! | `SysReg`, write of `ICC_SGI1R_EL1` | `SendIPI` (see [`sgi1r_send_ipi`]), PC advanced |
//! | `SysReg`, other write | `SysRegWrite`, PC advanced |
//! | `Wfi` | `Halt`, PC advanced |
//! | `Wfe`, `Wfit`, `Wfet` | `Nothing` (a yield), PC advanced: a WFE waits for an *event*, which a halted vCPU would not see, and a WFxT must not sleep past its timeout; returning at once is a permitted spurious wake-up |
//! | `Hvc` / `Smc` with `#imm` ≠ 0 | `X0 = NOT_SUPPORTED` |
//! | `Hvc` / `Smc #0`, PSCI/SMCCC | see [`crate::psci`]: `Nothing` with `X0` set, `CpuUp`, `CpuDown`, `Halt`, `SystemDown`, or `Hypercall` for `AFFINITY_INFO` |
//! | `Hvc` / `Smc #0`, anything else | `Hypercall { nr: X0, args: X1..X6 }` (decode ours with [`crate::hypercall::decode_hypercall`]) |
//! | `Unknown`: EC 0, trapped instructions not emulated (FP/SIMD, SVE, SME, PAuth, ERET, LS64, AArch32 coprocessor, AArch32 HVC/SMC, SVC), illegal state, unallocated EC values | [`ExitDecision::InjectUndef`] |
//! | `Unknown`: anything else (debug exceptions, SError, aborts from EL2, alignment, FP exceptions, ...) | [`ExitDecision::Unsupported`]: report it with the raw syndrome |
//!
//! When the host then finds nothing behind the address of an exit
//! (`NestedPageFault`, `MmioRead`, `MmioWrite`) it asks for
//! [`LastExitFault::Access`](axvcpu::LastExitFault::Access); the guest
//! takes [`access_abort`] of that exit: an instruction abort for an
//! instruction fetch, a data abort for a data access.
//!
//! # The PC
//!
//! A trapped instruction (data abort, MSR/MRS, WFx, SMC) leaves `ELR_EL2`
//! pointing *at* the instruction; once it is emulated the caller adds
//! [`instruction_len`] (4, or 2 for a 16-bit T32 instruction) so the guest
//! continues after it. `HVC` is not trapped but taken: `ELR_EL2` already
//! points after it. [`ExitDecision::Exit::advance_pc`] says which applies.
//! An injected fault or a nested page fault (to be retried) does not
//! advance.

#![deny(unsafe_code)]

use axvcpu::{AccessFlags, AccessWidth, AxVCpuExitReason, GuestPhysAddr};

use crate::esr::{ExceptionClass, FaultStatus, MmioAccess, SyncException};
use crate::fields::ESR_EL2;
use crate::inject::GuestFault;
use crate::psci::{self, PsciAction};
use crate::sysreg::{ICC_SGI1R_EL1, sgi1r_send_ipi};

/// What the vCPU does about one synchronous guest exception.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitDecision {
    /// Set `X0` (when `x0` is `Some`), advance `ELR_EL2` by
    /// [`instruction_len`] when `advance_pc`, and return `reason` from
    /// `run` (for [`AxVCpuExitReason::Nothing`] the vCPU may instead resume
    /// the guest at once).
    Exit {
        /// The exit for the host.
        reason: AxVCpuExitReason,
        /// The value to put in `X0` first: a PSCI/SMCCC answer, or a
        /// default the host may overwrite with `set_return_value`.
        x0: Option<u64>,
        /// Whether the trapped instruction is done and must be skipped.
        advance_pc: bool,
    },
    /// A data access without syndrome at a known IPA (translation fault).
    /// Only the caller knows what is there:
    ///
    /// - RAM that is not mapped yet: map it and resume without advancing
    ///   (or report [`AxVCpuExitReason::NestedPageFault`]);
    /// - an emulated device: the instruction has to be decoded and
    ///   performed ([`crate::a64`]; the hardware vCPU's
    ///   `emulate_no_syndrome` does it), and what cannot be emulated
    ///   becomes an external abort as below;
    /// - nothing: make the guest take an external abort, as
    ///   [`ExitDecision::InjectDataAbort`] with `far: Some(far)`.
    DataAbortNoSyndrome {
        /// The faulting IPA.
        gpa: GuestPhysAddr,
        /// The faulting guest virtual address.
        far: u64,
        /// Whether the access was a write.
        write: bool,
    },
    /// Make the guest take an Undefined Instruction exception
    /// ([`crate::inject`]); do not advance.
    InjectUndef,
    /// Make the guest take a synchronous external data abort at `far`
    /// (`None`: unknown address, FnV = 1); do not advance.
    InjectDataAbort {
        /// The faulting guest virtual address.
        far: Option<u64>,
    },
    /// Make the guest take a synchronous external instruction abort at
    /// `far`; do not advance.
    InjectInstructionAbort {
        /// The faulting guest virtual address.
        far: Option<u64>,
    },
    /// An exception the vCPU does not handle: report
    /// [`AxVCpuExitReason::Unsupported`] with `raw` = ESR_EL2 and `detail` =
    /// FAR_EL2 for an abort, ELR_EL2 otherwise.
    Unsupported {
        /// Its class, for the log.
        ec: ExceptionClass,
    },
}

impl ExitDecision {
    /// The fault to inject, for the three `Inject*` decisions.
    pub const fn guest_fault(&self) -> Option<GuestFault> {
        match *self {
            Self::InjectUndef => Some(GuestFault::Undef),
            Self::InjectDataAbort { far } => Some(GuestFault::DataAbort { far }),
            Self::InjectInstructionAbort { far } => Some(GuestFault::InstructionAbort { far }),
            _ => None,
        }
    }

    /// An exit that is reported as is.
    const fn exit(reason: AxVCpuExitReason, advance_pc: bool) -> Self {
        Self::Exit {
            reason,
            x0: None,
            advance_pc,
        }
    }

    /// Answer the guest in `X0` and resume it.
    const fn answer(x0: u64, advance_pc: bool) -> Self {
        Self::Exit {
            reason: AxVCpuExitReason::Nothing,
            x0: Some(x0),
            advance_pc,
        }
    }
}

/// The length in bytes of the trapped instruction: 4, or 2 when
/// `ESR_EL2.IL` = 0 (a 16-bit T32 instruction at AArch32 EL0).
pub fn instruction_len(esr: u64) -> u64 {
    if ESR_EL2::IL.is_set(esr) { 4 } else { 2 }
}

/// The value to write to the destination register of an emulated load that
/// read `value` from a device: the low `width` bytes of `value`,
/// sign-extended when `signed_ext` (LDRSB, LDRSH, LDRSW), then truncated to
/// the destination register (`reg_width` [`AccessWidth::Dword`] for a W
/// register, whose upper 32 bits the architecture clears).
///
/// So `LDRSB W0` of 0x80 gives 0x0000_0000_ffff_ff80 and `LDRSB X0` gives
/// 0xffff_ffff_ffff_ff80.
pub fn mmio_read_result(value: u64, width: AccessWidth, signed_ext: bool, reg_width: AccessWidth) -> u64 {
    width.load(value, signed_ext, reg_width)
}

/// General-purpose register `reg` of the guest; 31 (XZR) and anything
/// above read as zero.
fn gpr(regs: &[u64; 31], reg: usize) -> u64 {
    regs.get(reg).copied().unwrap_or(0)
}

/// Decides what to do about `sync`, with `regs` the guest's X0..X30 at the
/// exit.
pub fn exit_from_sync(sync: SyncException, regs: &[u64; 31]) -> ExitDecision {
    match sync {
        SyncException::DataAbort {
            gpa,
            far,
            access,
            fault,
        } => data_abort(gpa, far, access, fault, regs),
        SyncException::DataAbortNoSyndrome {
            gpa,
            far,
            write,
            cache_maintenance,
            fault,
        } => match fault {
            FaultStatus::Translation(_) if cache_maintenance => ExitDecision::exit(AxVCpuExitReason::Nothing, true),
            FaultStatus::Translation(_) => ExitDecision::DataAbortNoSyndrome { gpa, far, write },
            FaultStatus::AccessFlag(_) => nested_page_fault(gpa, data_flags(write)),
            _ => ExitDecision::InjectDataAbort { far: Some(far) },
        },
        SyncException::InstructionAbort { gpa, far, fault } => match fault {
            FaultStatus::Translation(_) | FaultStatus::AccessFlag(_) => nested_page_fault(gpa, AccessFlags::EXECUTE),
            _ => ExitDecision::InjectInstructionAbort { far: Some(far) },
        },
        SyncException::TableWalkAbort {
            gpa,
            far,
            instruction,
            write,
            fault,
        } => match fault {
            FaultStatus::Translation(_) | FaultStatus::AccessFlag(_) => nested_page_fault(gpa, data_flags(write)),
            _ => inject_abort(instruction, far),
        },
        SyncException::AbortWithoutIpa { far, instruction, .. } => inject_abort(instruction, far),
        SyncException::SysReg { addr, reg, read } => {
            let reason = if read {
                AxVCpuExitReason::SysRegRead { addr, reg }
            } else if addr == ICC_SGI1R_EL1 {
                sgi1r_send_ipi(gpr(regs, reg))
            } else {
                AxVCpuExitReason::SysRegWrite {
                    addr,
                    value: gpr(regs, reg),
                }
            };
            ExitDecision::exit(reason, true)
        }
        SyncException::Wfi => ExitDecision::exit(AxVCpuExitReason::Halt, true),
        SyncException::Wfe | SyncException::Wfit { .. } | SyncException::Wfet { .. } => {
            ExitDecision::exit(AxVCpuExitReason::Nothing, true)
        }
        SyncException::Hvc { imm } => smccc_call(imm, regs, false),
        SyncException::Smc { imm } => smccc_call(imm, regs, true),
        SyncException::Unknown { ec, .. } => unknown(ec),
    }
}

fn data_abort(gpa: GuestPhysAddr, far: u64, access: MmioAccess, fault: FaultStatus, regs: &[u64; 31]) -> ExitDecision {
    match fault {
        FaultStatus::Translation(_) => ExitDecision::exit(mmio_exit(gpa, access, regs), true),
        FaultStatus::AccessFlag(_) => nested_page_fault(gpa, data_flags(access.write)),
        _ => ExitDecision::InjectDataAbort { far: Some(far) },
    }
}

/// The exit of the device access `access` at `gpa` (a data abort on an
/// address the stage-2 table does not map): a write carries the low bytes
/// of its source register (`regs`; XZR reads as zero).
pub fn mmio_exit(gpa: GuestPhysAddr, access: MmioAccess, regs: &[u64; 31]) -> AxVCpuExitReason {
    if access.write {
        AxVCpuExitReason::MmioWrite {
            addr: gpa,
            width: access.width,
            data: mmio_write_data(access, regs),
        }
    } else {
        AxVCpuExitReason::MmioRead {
            addr: gpa,
            width: access.width,
            reg: access.reg,
            reg_width: access.reg_width,
            signed_ext: access.sign_extend,
        }
    }
}

/// What the write `access` stores: the low bytes of its source register
/// (`regs`; XZR reads as zero).
pub fn mmio_write_data(access: MmioAccess, regs: &[u64; 31]) -> u64 {
    gpr(regs, access.reg) & access.width.mask()
}

fn data_flags(write: bool) -> AccessFlags {
    if write {
        AccessFlags::READ | AccessFlags::WRITE
    } else {
        AccessFlags::READ
    }
}

fn nested_page_fault(addr: GuestPhysAddr, access_flags: AccessFlags) -> ExitDecision {
    ExitDecision::exit(AxVCpuExitReason::NestedPageFault { addr, access_flags }, false)
}

fn inject_abort(instruction: bool, far: Option<u64>) -> ExitDecision {
    if instruction {
        ExitDecision::InjectInstructionAbort { far }
    } else {
        ExitDecision::InjectDataAbort { far }
    }
}

/// The external abort the guest takes when the access of exit `sync`
/// fails (the host found nothing at its address): an instruction abort
/// when the exit was an instruction fetch (or the table walk for one), as
/// a CPU and KVM give it, a data abort otherwise; at the faulting virtual
/// address (`FAR_EL2`: the PC for a fetch) when the syndrome gives one. An
/// exit that is no access has no address (FnV = 1).
pub fn access_abort(sync: &SyncException) -> GuestFault {
    let (instruction, far) = match *sync {
        SyncException::InstructionAbort { far, .. } => (true, Some(far)),
        SyncException::DataAbort { far, .. } | SyncException::DataAbortNoSyndrome { far, .. } => (false, Some(far)),
        SyncException::TableWalkAbort { far, instruction, .. }
        | SyncException::AbortWithoutIpa { far, instruction, .. } => (instruction, far),
        _ => (false, None),
    };
    if instruction {
        GuestFault::InstructionAbort { far }
    } else {
        GuestFault::DataAbort { far }
    }
}

/// An HVC or (trapped) SMC: PSCI, SMCCC or a hypercall.
fn smccc_call(imm: u16, regs: &[u64; 31], advance_pc: bool) -> ExitDecision {
    if imm != 0 {
        // SMCCC calls use #0; nothing is defined for other immediates.
        return ExitDecision::answer(psci::ret(psci::NOT_SUPPORTED), advance_pc);
    }
    let x = |n| gpr(regs, n);
    match psci::handle_psci(x(0), [x(1), x(2), x(3)]) {
        PsciAction::Return(value) => ExitDecision::answer(value, advance_pc),
        PsciAction::CpuOn {
            target_mpidr,
            entry,
            context,
        } => ExitDecision::Exit {
            reason: AxVCpuExitReason::CpuUp {
                target_cpu: target_mpidr,
                entry_point: entry,
                arg: context,
            },
            // The host overwrites this when the target cannot start.
            x0: Some(psci::ret(psci::SUCCESS)),
            advance_pc,
        },
        PsciAction::CpuOff => ExitDecision::Exit {
            reason: AxVCpuExitReason::CpuDown { state: 0 },
            // CPU_OFF does not return on success; if the host resumes the
            // vCPU anyway, the call failed.
            x0: Some(psci::ret(psci::DENIED)),
            advance_pc,
        },
        PsciAction::CpuSuspend { .. } => ExitDecision::Exit {
            reason: AxVCpuExitReason::Halt,
            x0: Some(psci::ret(psci::SUCCESS)),
            advance_pc,
        },
        PsciAction::AffinityInfo { target_mpidr, level } => ExitDecision::exit(
            // The host knows the vCPU states: it answers AFFINITY_ON/OFF/
            // ON_PENDING (or INVALID_PARAMETERS) with set_return_value.
            AxVCpuExitReason::Hypercall {
                nr: x(0) & u64::from(u32::MAX),
                args: [target_mpidr, level, 0, 0, 0, 0],
            },
            advance_pc,
        ),
        PsciAction::SystemOff => ExitDecision::exit(AxVCpuExitReason::SystemDown, advance_pc),
        PsciAction::SystemReset => ExitDecision::exit(AxVCpuExitReason::SystemReset, advance_pc),
        PsciAction::NotPsci => ExitDecision::exit(
            AxVCpuExitReason::Hypercall {
                nr: x(0),
                args: [x(1), x(2), x(3), x(4), x(5), x(6)],
            },
            advance_pc,
        ),
    }
}

/// The decision for an exception class without its own variant.
fn unknown(ec: ExceptionClass) -> ExitDecision {
    use ExceptionClass as Ec;
    match ec {
        // Instructions the guest may execute that the vCPU does not
        // emulate: to the guest they are undefined.
        Ec::UnknownReason
        | Ec::Cp15Mcr
        | Ec::Cp15Mcrr
        | Ec::Cp14Mcr
        | Ec::Cp14LdcStc
        | Ec::Cp14Mrrc
        | Ec::Cp10Vmrs
        | Ec::FpSimdAccess
        | Ec::SveAccess
        | Ec::SmeAccess
        | Ec::PointerAuth
        | Ec::OtherTrap
        | Ec::Eret
        | Ec::IllegalState
        | Ec::Svc32
        | Ec::Svc64
        | Ec::Hvc32
        | Ec::Smc32
        | Ec::Unknown(_) => {
            // Debug level: a guest can raise these as often as it likes.
            log::debug!("guest exception class {ec:?}: injecting UNDEFINED");
            ExitDecision::InjectUndef
        }
        _ => ExitDecision::Unsupported { ec },
    }
}

#[cfg(test)]
mod tests;
