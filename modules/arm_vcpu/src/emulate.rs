//! The system-register accesses a vCPU answers itself, without the host
//! ([`emulate`]): the ID registers, the debug registers, and the registers
//! of features the guest is told it does not have.
//!
//! | encoding | action |
//! |---|---|
//! | ID space (`op0` 3, `op1` 0, `CRn` 0, `CRm` 1 to 7) | read: the filtered value or zero ([`crate::idregs`]); write: UNDEFINED |
//! | debug registers (`op0` 2) | [`crate::debug`] |
//! | PMU (`PMCR_EL0` and the rest of `CRn` 9 `CRm` 12 to 14, `PMEVCNTR<n>_EL0`, `PMEVTYPER<n>_EL0`, `PMCCFILTR_EL0`) | UNDEFINED: the guest has no PMU (`MDCR_EL2.TPM`, `TPMCR` trap them) |
//! | activity monitors (`op1` 3, `CRn` 13, `CRm` 2 to 7) | UNDEFINED (`CPTR_EL2.TAM`) |
//! | statistical profiling and trace buffer (`CRn` 9, `CRm` 9 to 11), `TRFCR_EL1` | UNDEFINED |
//! | RAS error records (`ERR*_EL1`, `CRn` 5, `CRm` 3 to 5) | UNDEFINED (`HCR_EL2.TERR` traps them where RAS exists) |
//! | anything else | [`SysRegAction::Host`]: the exit goes to the host (`axdevice`), as before |
//!
//! An UNDEFINED access makes the guest take an Undefined Instruction
//! exception at the instruction; it never stops the VM.

use crate::debug::DebugRegs;
use crate::idregs::{GuestIdRegs, is_id_space};
use crate::sysreg::SysRegEncoding;

/// A trapped `MRS` or `MSR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SysRegAccess {
    /// `MRS`: the guest reads the register.
    Read,
    /// `MSR`: the guest writes this value.
    Write(u64),
}

/// What the vCPU does about a trapped access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SysRegAction {
    /// A read answered: put this in the guest's `Rt`, skip the instruction.
    Read(u64),
    /// A write taken (kept or ignored): skip the instruction.
    Written,
    /// The access is UNDEFINED: the guest takes an Undefined Instruction
    /// exception at the instruction.
    Undef,
    /// `MDSCR_EL1`: read or write the live register (the vCPU is bound and
    /// switches it with its EL1 state), skip the instruction.
    LiveMdscr,
    /// Not emulated here: report the access to the host.
    Host,
}

/// The registers one vCPU emulates.
#[derive(Debug, Clone)]
pub struct EmulatedSysRegs {
    /// The ID registers.
    pub id: GuestIdRegs,
    /// The debug registers.
    pub debug: DebugRegs,
}

/// Whether `enc` is a PMU register (AArch64).
pub fn is_pmu(enc: SysRegEncoding) -> bool {
    let SysRegEncoding {
        op0,
        op1,
        crn,
        crm,
        op2,
    } = enc;
    if op0 != 3 {
        return false;
    }
    match (op1, crn, crm) {
        // PMINTENSET_EL1, PMINTENCLR_EL1, PMMIR_EL1.
        (0, 9, 14) => matches!(op2, 1 | 2 | 6),
        // PMCR_EL0 .. PMOVSSET_EL0, PMUSERENR_EL0 (CRm 12 to 14).
        (3, 9, 12..=14) => true,
        // PMEVCNTR<n>_EL0 (CRm 8 to 11), PMEVTYPER<n>_EL0 and
        // PMCCFILTR_EL0 (CRm 12 to 15).
        (3, 14, 8..=15) => true,
        _ => false,
    }
}

/// Whether `enc` is an activity monitors register.
pub fn is_amu(enc: SysRegEncoding) -> bool {
    enc.op0 == 3 && enc.op1 == 3 && enc.crn == 13 && (2..=7).contains(&enc.crm)
}

/// Whether `enc` is a register of a feature hidden from the guest that
/// traps to EL2 where the hardware has it: statistical profiling
/// (`PMS*_EL1`, `PMBLIMITR_EL1`, ...), the trace buffer (`TRB*_EL1`),
/// trace filtering (`TRFCR_EL1`), RAS error records (`ERR*_EL1`).
pub fn is_hidden_feature(enc: SysRegEncoding) -> bool {
    let SysRegEncoding {
        op0,
        op1,
        crn,
        crm,
        op2,
    } = enc;
    op0 == 3
        && op1 == 0
        && match (crn, crm) {
            (9, 9..=11) => true,
            (1, 2) => op2 == 1,
            (5, 3..=5) => true,
            _ => false,
        }
}

/// Whether [`emulate`] may answer an access of `enc` itself: the debug
/// registers (`op0` 2), and with `op0` 3 the `CRn` values its other
/// classes use (0: ID space; 1: `TRFCR_EL1`; 5: RAS; 9: PMU, profiling,
/// trace buffer; 13: activity monitors; 14: PMU event registers). For any
/// other encoding it returns [`SysRegAction::Host`], whatever the
/// registers hold: the vCPU tests this first, and sends those accesses
/// (such as `ICC_SGI1R_EL1`) on to the host without calling it.
pub fn may_emulate(enc: SysRegEncoding) -> bool {
    match enc.op0 {
        2 => true,
        3 => matches!(enc.crn, 0 | 1 | 5 | 9 | 13 | 14),
        _ => false,
    }
}

/// What the vCPU does about the guest's `access` of `enc`.
pub fn emulate(regs: &mut EmulatedSysRegs, enc: SysRegEncoding, access: SysRegAccess) -> SysRegAction {
    if is_id_space(enc) {
        return match (access, regs.id.read(enc)) {
            (SysRegAccess::Read, Some(v)) => SysRegAction::Read(v),
            _ => SysRegAction::Undef,
        };
    }
    if enc.op0 == 2 {
        return regs.debug.access(enc, access);
    }
    if is_pmu(enc) || is_amu(enc) || is_hidden_feature(enc) {
        return SysRegAction::Undef;
    }
    SysRegAction::Host
}

#[cfg(test)]
mod tests;
