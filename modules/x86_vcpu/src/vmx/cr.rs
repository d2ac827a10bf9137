//! The guest's CR0 and CR4 under VMX: what the hardware requires
//! (IA32_VMX_CR{0,4}_FIXED{0,1}) versus what the guest believes.
//!
//! The bits VMX forces to 1 (CR0.NE, CR4.VMXE; CR0.PE and PG without
//! unrestricted guest) are owned by the hypervisor: they are in the CR0/CR4
//! guest/host mask, so the guest reads its own value from the read shadow,
//! and a write that changes one of them exits (a control-register access).
//! [`cr0_write`] and [`cr4_write`] then give the value the hardware runs
//! with and the one the guest sees, or the #GP the write deserves.

use crate::event::Exception;

/// A CR's fixed bits: `fixed0` must be 1, bits outside `fixed1` must be 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrFixed {
    /// IA32_VMX_CRn_FIXED0.
    pub fixed0: u64,
    /// IA32_VMX_CRn_FIXED1.
    pub fixed1: u64,
}

/// CR0 bits (SDM Vol. 3A, 2.5).
pub mod cr0 {
    /// Protection enable.
    pub const PE: u64 = 1 << 0;
    /// Numeric error.
    pub const NE: u64 = 1 << 5;
    /// Not write-through.
    pub const NW: u64 = 1 << 29;
    /// Cache disable.
    pub const CD: u64 = 1 << 30;
    /// Paging.
    pub const PG: u64 = 1 << 31;
}

/// CR4 bits.
pub mod cr4 {
    /// Physical address extension.
    pub const PAE: u64 = 1 << 5;
    /// VMX enable.
    pub const VMXE: u64 = 1 << 13;
}

/// EFER bits.
pub mod efer {
    /// Long mode enable.
    pub const LME: u64 = 1 << 8;
    /// Long mode active.
    pub const LMA: u64 = 1 << 10;
}

/// The two views of a control register after a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrValues {
    /// What the hardware runs with (the guest CR field of the VMCS).
    pub real: u64,
    /// What the guest reads (the read shadow).
    pub shadow: u64,
}

/// The CR0 bits the hypervisor owns (its guest/host mask).
pub const fn cr0_owned(fixed: CrFixed, unrestricted: bool) -> u64 {
    if unrestricted {
        fixed.fixed0 & !(cr0::PE | cr0::PG)
    } else {
        fixed.fixed0
    }
}

/// The guest writes `value` to CR0 while EFER is `efer` and CR4 is `cr4`
/// (the guest's values).
pub fn cr0_write(value: u64, efer: u64, cr4: u64, fixed: CrFixed, unrestricted: bool) -> Result<CrValues, Exception> {
    let reserved = value >> 32 != 0;
    let pg_without_pe = value & cr0::PG != 0 && value & cr0::PE == 0;
    let nw_without_cd = value & cr0::NW != 0 && value & cr0::CD == 0;
    // Paging on with LME needs PAE (SDM 9.8.5).
    let long_mode_without_pae = value & cr0::PG != 0 && efer & efer::LME != 0 && cr4 & cr4::PAE == 0;
    if reserved || pg_without_pe || nw_without_cd || long_mode_without_pae {
        return Err(Exception::GP0);
    }
    let real = value | cr0_owned(fixed, unrestricted);
    if real & !fixed.fixed1 != 0 {
        return Err(Exception::GP0);
    }
    Ok(CrValues { real, shadow: value })
}

/// The guest writes `value` to CR4. VMXE is refused (the guest has no
/// VMX), as is any bit the CPU does not support.
pub fn cr4_write(value: u64, fixed: CrFixed) -> Result<CrValues, Exception> {
    if value & cr4::VMXE != 0 || value & !fixed.fixed1 != 0 {
        return Err(Exception::GP0);
    }
    Ok(CrValues {
        real: value | fixed.fixed0,
        shadow: value,
    })
}

/// The CR0 value an `LMSW` of `source` makes from the guest's `shadow`:
/// it loads PE, MP, EM, TS (bits 3:0) and cannot clear PE.
pub const fn lmsw(shadow: u64, source: u16) -> u64 {
    const LMSW_BITS: u64 = 0xf;
    let src = source as u64 & LMSW_BITS;
    (shadow & !(LMSW_BITS & !cr0::PE)) | src
}

/// EFER after CR0 became `cr0`: LMA is LME and PG (the guest's mode
/// switch, which the hypervisor performs when it emulated the write).
pub const fn efer_after_cr0(efer: u64, cr0: u64) -> u64 {
    if efer & efer::LME != 0 && cr0 & cr0::PG != 0 {
        efer | efer::LMA
    } else {
        efer & !efer::LMA
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Typical capability values: CR0 fixed0 PG|NE|PE, fixed1 all low 32
    /// bits; CR4 fixed0 VMXE, fixed1 bits 0..23 less reserved ones.
    const CR0: CrFixed = CrFixed {
        fixed0: 0x8000_0021,
        fixed1: 0xffff_ffff,
    };
    const CR4: CrFixed = CrFixed {
        fixed0: 0x2000,
        fixed1: 0x37_27ff,
    };

    #[test]
    fn cr0_owned_bits() {
        assert_eq!(cr0_owned(CR0, true), cr0::NE);
        assert_eq!(cr0_owned(CR0, false), 0x8000_0021);
    }

    #[test]
    fn cr0_writes() {
        // A real-mode guest clears NE and PE: the hardware keeps NE.
        assert_eq!(
            cr0_write(0x10, 0, 0, CR0, true),
            Ok(CrValues {
                real: 0x30,
                shadow: 0x10
            })
        );
        // Without unrestricted guest, PE and PG stay on too.
        assert_eq!(cr0_write(0x10, 0, 0, CR0, false).unwrap().real, 0x8000_0031);
        // The #GP(0) conditions of MOV to CR0.
        for bad in [1 << 32, cr0::PG, cr0::NW | cr0::PE] {
            assert_eq!(cr0_write(bad, 0, 0, CR0, true), Err(Exception::GP0), "{bad:#x}");
        }
        // Paging with LME but without PAE.
        assert_eq!(
            cr0_write(cr0::PG | cr0::PE, efer::LME, 0, CR0, true),
            Err(Exception::GP0)
        );
        assert!(cr0_write(cr0::PG | cr0::PE, efer::LME, cr4::PAE, CR0, true).is_ok());
    }

    #[test]
    fn cr4_writes() {
        assert_eq!(
            cr4_write(cr4::PAE, CR4),
            Ok(CrValues {
                real: cr4::PAE | cr4::VMXE,
                shadow: cr4::PAE
            })
        );
        assert_eq!(cr4_write(cr4::VMXE, CR4), Err(Exception::GP0));
        // Bit 15 is outside this CPU's fixed1.
        assert_eq!(cr4_write(1 << 15, CR4), Err(Exception::GP0));
    }

    #[test]
    fn lmsw_and_long_mode() {
        // LMSW sets PE and TS, keeps the upper bits, cannot clear PE.
        assert_eq!(lmsw(0x8000_0010, 0x9), 0x8000_0019);
        assert_eq!(lmsw(0x11, 0x0), 0x11);
        assert_eq!(lmsw(0x1e, 0x1), 0x11);
        assert_eq!(efer_after_cr0(efer::LME, cr0::PG | cr0::PE), efer::LME | efer::LMA);
        assert_eq!(efer_after_cr0(efer::LME | efer::LMA, cr0::PE), efer::LME);
        assert_eq!(efer_after_cr0(0, cr0::PG), 0);
    }
}
