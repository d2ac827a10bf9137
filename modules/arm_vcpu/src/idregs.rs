//! The ID registers a guest reads: trapped (`HCR_EL2.TID3`) and answered
//! from a filtered copy of the hardware's ([`GuestIdRegs`]).
//!
//! The trapped space is every encoding with `op0` 3, `op1` 0, `CRn` 0 and
//! `CRm` 1 to 7 (the AArch64 and AArch32 feature registers and the
//! unallocated encodings among them). A read gives the register of
//! [`fields::ID_REGS`] through [`fields::filter`], or zero for every other
//! encoding, as the architecture defines unallocated ID registers (RAZ). A
//! write is UNDEFINED (the registers are read-only).
//!
//! `MIDR_EL1` and `MPIDR_EL1` are not trapped: the CPU gives the guest
//! `VPIDR_EL2` and `VMPIDR_EL2`. The cache and revision registers
//! (`CTR_EL0`, `CLIDR_EL1`, `CCSIDR_EL1`, `REVIDR_EL1`, `AIDR_EL1`) are not
//! trapped either (`HCR_EL2.TID1`/`TID2` clear): they describe the real
//! caches the guest runs on and advertise no feature.

pub mod fields;

#[cfg(test)]
mod tests;

use crate::sysreg::SysRegEncoding;

/// `CRm` values of the trapped ID space.
const ID_CRM_FIRST: u8 = 1;
const ID_CRM_LAST: u8 = 7;
/// Registers per `CRm` (one per `op2`).
const OP2_COUNT: usize = 8;
/// Registers in the trapped ID space.
const ID_SPACE_LEN: usize = (ID_CRM_LAST - ID_CRM_FIRST + 1) as usize * OP2_COUNT;

/// Whether `enc` lies in the ID space that `HCR_EL2.TID3` traps.
pub fn is_id_space(enc: SysRegEncoding) -> bool {
    enc.op0 == 3 && enc.op1 == 0 && enc.crn == 0 && (ID_CRM_FIRST..=ID_CRM_LAST).contains(&enc.crm)
}

/// The slot of `enc` in the ID space table, if it is in the ID space.
fn slot(enc: SysRegEncoding) -> Option<usize> {
    if !is_id_space(enc) || usize::from(enc.op2) >= OP2_COUNT {
        return None;
    }
    Some(usize::from(enc.crm - ID_CRM_FIRST) * OP2_COUNT + usize::from(enc.op2))
}

/// The ID register values one guest reads, computed once from the hardware
/// when its vCPU is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestIdRegs {
    values: [u64; ID_SPACE_LEN],
}

impl GuestIdRegs {
    /// The guest's values, with `hw` giving the hardware value of each
    /// register of [`fields::ID_REGS`] (it is only asked for those).
    pub fn new(mut hw: impl FnMut(SysRegEncoding) -> u64) -> Self {
        let mut values = [0; ID_SPACE_LEN];
        for reg in fields::ID_REGS {
            if let Some(v) = slot(reg.enc).and_then(|i| values.get_mut(i)) {
                *v = fields::filter(reg, hw(reg.enc));
            }
        }
        Self { values }
    }

    /// What a guest read of `enc` gives: `Some` (the filtered value, or 0)
    /// for any encoding of the ID space, `None` outside it.
    pub fn read(&self, enc: SysRegEncoding) -> Option<u64> {
        slot(enc).map(|i| self.values.get(i).copied().unwrap_or(0))
    }
}
