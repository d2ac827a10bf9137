//! The hardware's ID registers, read at EL2 (where they do not trap).

use super::regs::read_sysreg;
use crate::idregs::GuestIdRegs;
use crate::sysreg::SysRegEncoding;

/// The hardware value of ID register `enc` (`op0` 3, `op1` 0, `CRn` 0),
/// for the registers [`crate::idregs::fields::ID_REGS`] lists; 0 for any
/// other encoding. The generic names assemble whatever the assembler
/// knows of the register, and an ID register the CPU does not implement
/// reads as zero.
fn read_id_reg(enc: SysRegEncoding) -> u64 {
    match (enc.crm, enc.op2) {
        (4, 0) => read_sysreg!(S3_0_C0_C4_0),
        (4, 1) => read_sysreg!(S3_0_C0_C4_1),
        (5, 0) => read_sysreg!(S3_0_C0_C5_0),
        (6, 0) => read_sysreg!(S3_0_C0_C6_0),
        (6, 1) => read_sysreg!(S3_0_C0_C6_1),
        (6, 2) => read_sysreg!(S3_0_C0_C6_2),
        (7, 0) => read_sysreg!(S3_0_C0_C7_0),
        (7, 1) => read_sysreg!(S3_0_C0_C7_1),
        (7, 2) => read_sysreg!(S3_0_C0_C7_2),
        _ => 0,
    }
}

/// The ID registers a guest on this CPU sees.
pub(super) fn guest_id_regs() -> GuestIdRegs {
    GuestIdRegs::new(|enc| {
        if enc.op0 == 3 && enc.op1 == 0 && enc.crn == 0 {
            read_id_reg(enc)
        } else {
            0
        }
    })
}

/// `ID_AA64PFR0_EL1`.
pub(super) fn pfr0() -> u64 {
    read_sysreg!(id_aa64pfr0_el1)
}

/// `ID_AA64PFR1_EL1`.
pub(super) fn pfr1() -> u64 {
    read_sysreg!(id_aa64pfr1_el1)
}

/// `ID_AA64DFR0_EL1`.
pub(super) fn dfr0() -> u64 {
    read_sysreg!(id_aa64dfr0_el1)
}

/// `ID_AA64MMFR1_EL1`.
pub(super) fn mmfr1() -> u64 {
    read_sysreg!(id_aa64mmfr1_el1)
}
