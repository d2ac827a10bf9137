//! Injecting a synchronous exception into the guest: the register values
//! that make the guest take an Undefined Instruction exception or an
//! external abort at its EL1, as if its own hardware had raised it.
//!
//! [`inject_fault`] computes them from the guest state saved at the exit; the
//! hardware part writes them back (`ESR_EL1`, `FAR_EL1`, `ELR_EL1`,
//! `SPSR_EL1`, and the new `ELR_EL2`/`SPSR_EL2` to return to) and resumes
//! the guest, which then runs its EL1 synchronous exception vector. This
//! follows the ARM ARM pseudocode `AArch64.TakeException` (and KVM's
//! `enter_exception64`):
//!
//! - the vector is `VBAR_EL1` + 0x000 (from EL1 using SP_EL0), 0x200 (from
//!   EL1 using SP_EL1), 0x400 (from AArch64 EL0) or 0x600 (from AArch32
//!   EL0); the synchronous entry is at offset 0 of each;
//! - `ELR_EL1` is the faulting instruction (the `ELR_EL2` of the exit,
//!   *not* advanced), `SPSR_EL1` the guest PSTATE of the exit;
//! - the new PSTATE is EL1h with D, A, I, F masked; N, Z, C, V, DIT and PAN
//!   carry over; PAN is set when `SCTLR_EL1.SPAN` = 0 and SSBS follows
//!   `SCTLR_EL1.DSSBS` (each only when the CPU has the feature); SS, IL,
//!   UAO and BTYPE are cleared;
//! - the syndrome is EC 0 ("unknown reason") for an undefined instruction,
//!   and a synchronous external abort (FSC 0x10) for an abort, with FnV set
//!   when no address is given; IL is 1, as the architecture makes it for
//!   all three.

#![deny(unsafe_code)]

use tock_registers::LocalRegisterCopy;

use crate::esr::{ExceptionClass, FaultStatus};
use crate::fields::{ESR_EL2, ISS_DABT, SCTLR_EL1, SPSR};

/// The exception to inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestFault {
    /// An Undefined Instruction exception.
    Undef,
    /// A synchronous external data abort at virtual address `far`
    /// (`None`: the address is not known, FnV = 1).
    DataAbort {
        /// The faulting guest virtual address.
        far: Option<u64>,
    },
    /// A synchronous external instruction abort at virtual address `far`
    /// (`None`: the address is not known, FnV = 1).
    InstructionAbort {
        /// The faulting guest virtual address.
        far: Option<u64>,
    },
}

/// The guest state at the exit that decides how the exception is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuestState {
    /// The guest PSTATE (`SPSR_EL2` at the exit).
    pub pstate: u64,
    /// The address of the faulting instruction (`ELR_EL2` at the exit).
    pub pc: u64,
    /// The guest's `VBAR_EL1`.
    pub vbar_el1: u64,
    /// The guest's `SCTLR_EL1`.
    pub sctlr_el1: u64,
    /// Whether the CPU implements FEAT_PAN (PSTATE.PAN exists).
    pub has_pan: bool,
    /// Whether the CPU implements FEAT_SSBS (PSTATE.SSBS exists).
    pub has_ssbs: bool,
}

/// The register values that deliver the exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuestException {
    /// The value for `ESR_EL1`.
    pub esr_el1: u64,
    /// The value for `FAR_EL1`, or `None` to leave it (UNKNOWN).
    pub far_el1: Option<u64>,
    /// The value for `ELR_EL1`: the faulting instruction.
    pub elr_el1: u64,
    /// The value for `SPSR_EL1`: the interrupted PSTATE.
    pub spsr_el1: u64,
    /// Where the guest resumes (the new `ELR_EL2`): its EL1 vector.
    pub pc: u64,
    /// The PSTATE it resumes with (the new `SPSR_EL2`).
    pub pstate: u64,
}

/// Where the exception is taken from, as the vector table sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// EL1 using SP_EL0.
    El1t,
    /// EL1 using SP_EL1.
    El1h,
    /// EL0 in AArch64.
    El0Aarch64,
    /// EL0 in AArch32.
    El0Aarch32,
}

impl Origin {
    fn of(pstate: u64) -> Self {
        let spsr = LocalRegisterCopy::<u64, SPSR::Register>::new(pstate);
        if spsr.is_set(SPSR::NRW) {
            // A guest's EL1 is always AArch64 (HCR_EL2.RW = 1), so AArch32
            // state can only be EL0.
            return Self::El0Aarch32;
        }
        match spsr.read_as_enum(SPSR::M) {
            Some(SPSR::M::Value::EL0t) => Self::El0Aarch64,
            Some(SPSR::M::Value::EL1t) => Self::El1t,
            // EL1h, and anything a guest cannot be in (EL2, EL3, reserved
            // modes): deliver to EL1 on its own stack.
            _ => Self::El1h,
        }
    }

    /// The offset of this origin's group of vectors from `VBAR_EL1`.
    const fn vector_offset(self) -> u64 {
        match self {
            Self::El1t => 0x000,
            Self::El1h => 0x200,
            Self::El0Aarch64 => 0x400,
            Self::El0Aarch32 => 0x600,
        }
    }

    /// Whether the exception comes from a lower exception level (EL0).
    const fn is_lower(self) -> bool {
        matches!(self, Self::El0Aarch64 | Self::El0Aarch32)
    }
}

/// The register values that make the guest take `fault` at its EL1.
pub fn inject_fault(fault: GuestFault, state: &GuestState) -> GuestException {
    /// VBAR_EL1 bits \[10:0\] are RES0: the table is 2 KiB aligned.
    const VBAR_ADDR_MASK: u64 = !0x7ff;
    let origin = Origin::of(state.pstate);
    GuestException {
        esr_el1: syndrome(fault, origin),
        far_el1: match fault {
            GuestFault::Undef => None,
            GuestFault::DataAbort { far } | GuestFault::InstructionAbort { far } => far,
        },
        elr_el1: state.pc,
        spsr_el1: state.pstate,
        // The offset is below 0x800 and the base has its low 11 bits clear,
        // so OR is the addition and cannot overflow.
        pc: (state.vbar_el1 & VBAR_ADDR_MASK) | origin.vector_offset(),
        pstate: entry_pstate(state),
    }
}

/// The `ESR_EL1` value for `fault` taken from `origin`.
fn syndrome(fault: GuestFault, origin: Origin) -> u64 {
    let (ec, far) = match fault {
        GuestFault::Undef => (ExceptionClass::UnknownReason, None),
        GuestFault::DataAbort { far } => (
            if origin.is_lower() {
                ExceptionClass::DataAbortLower
            } else {
                ExceptionClass::DataAbortSame
            },
            Some(far),
        ),
        GuestFault::InstructionAbort { far } => (
            if origin.is_lower() {
                ExceptionClass::InstructionAbortLower
            } else {
                ExceptionClass::InstructionAbortSame
            },
            Some(far),
        ),
    };
    let common = (ESR_EL2::EC.val(u64::from(ec.code())) + ESR_EL2::IL::SET).value;
    match far {
        None => common,
        Some(far) => {
            // DFSC and IFSC, FnV are at the same positions in both ISSs.
            let fsc = ISS_DABT::DFSC.val(u64::from(FaultStatus::SyncExternal.code()));
            let fnv = if far.is_some() {
                ISS_DABT::FNV::CLEAR
            } else {
                ISS_DABT::FNV::SET
            };
            common | (fsc + fnv).value
        }
    }
}

/// The PSTATE the guest's EL1 handler starts with.
fn entry_pstate(state: &GuestState) -> u64 {
    let old = LocalRegisterCopy::<u64, SPSR::Register>::new(state.pstate);
    let sctlr = LocalRegisterCopy::<u64, SCTLR_EL1::Register>::new(state.sctlr_el1);
    let mut new = LocalRegisterCopy::<u64, SPSR::Register>::new(0);
    for flag in [SPSR::N, SPSR::Z, SPSR::C, SPSR::V, SPSR::DIT, SPSR::PAN] {
        if old.is_set(flag) {
            new.modify(flag.val(1));
        }
    }
    if state.has_pan && !sctlr.is_set(SCTLR_EL1::SPAN) {
        new.modify(SPSR::PAN::SET);
    }
    if state.has_ssbs && sctlr.is_set(SCTLR_EL1::DSSBS) {
        new.modify(SPSR::SSBS::SET);
    }
    new.modify(SPSR::D::SET + SPSR::A::SET + SPSR::I::SET + SPSR::F::SET + SPSR::M::EL1h);
    new.get()
}

#[cfg(test)]
mod tests {
    use super::*;

    // PSTATE bits per the ARM ARM (SPSR_ELx, AArch64 state).
    const EL0T: u64 = 0b0000;
    const EL1T: u64 = 0b0100;
    const EL1H: u64 = 0b0101;
    const NRW: u64 = 1 << 4;
    const DAIF: u64 = 0b1111 << 6;
    const PAN: u64 = 1 << 22;
    const SSBS: u64 = 1 << 12;
    const NZCV: u64 = 0b1111 << 28;
    const SS: u64 = 1 << 21;
    const IL_PSTATE: u64 = 1 << 20;
    // SCTLR_EL1 bits.
    const SPAN: u64 = 1 << 23;
    const DSSBS: u64 = 1 << 44;
    // ESR bits: EC [31:26], IL [25], FnV [10], FSC [5:0].
    const IL: u64 = 1 << 25;
    const FNV: u64 = 1 << 10;
    const FSC_SEA: u64 = 0x10;

    fn state(pstate: u64) -> GuestState {
        GuestState {
            pstate,
            pc: 0xffff_8000_1234_5678,
            vbar_el1: 0xffff_8000_0001_0800,
            sctlr_el1: SPAN,
            has_pan: true,
            has_ssbs: true,
        }
    }

    #[test]
    fn undef_from_el1h() {
        let s = state(EL1H | NZCV);
        let e = inject_fault(GuestFault::Undef, &s);
        assert_eq!(e.esr_el1, IL);
        assert_eq!(e.far_el1, None);
        assert_eq!(e.elr_el1, s.pc);
        assert_eq!(e.spsr_el1, s.pstate);
        assert_eq!(e.pc, 0xffff_8000_0001_0800 + 0x200);
        assert_eq!(e.pstate, EL1H | DAIF | NZCV);
    }

    #[test]
    fn vector_depends_on_origin() {
        let base = 0xffff_8000_0001_0800;
        for (pstate, offset) in [
            (EL1T, 0x000),
            (EL1H, 0x200),
            (EL0T, 0x400),
            (NRW, 0x600),
            // AArch32 user mode (M[4:0] = 0b10000).
            (0b1_0000, 0x600),
        ] {
            let e = inject_fault(GuestFault::Undef, &state(pstate));
            assert_eq!(e.pc, base + offset, "pstate {pstate:#x}");
        }
    }

    #[test]
    fn vbar_low_bits_are_ignored() {
        let mut s = state(EL1H);
        s.vbar_el1 = 0x4000_07ff;
        assert_eq!(inject_fault(GuestFault::Undef, &s).pc, 0x4000_0200);
        s.vbar_el1 = u64::MAX;
        assert_eq!(inject_fault(GuestFault::Undef, &s).pc, !0x7ff | 0x200);
    }

    #[test]
    fn data_abort_syndrome() {
        let e = inject_fault(GuestFault::DataAbort { far: Some(0x1234) }, &state(EL1H));
        assert_eq!(e.esr_el1, (0x25 << 26) | IL | FSC_SEA);
        assert_eq!(e.far_el1, Some(0x1234));
        let e = inject_fault(GuestFault::DataAbort { far: Some(0x1234) }, &state(EL0T));
        assert_eq!(e.esr_el1, (0x24 << 26) | IL | FSC_SEA);
        let e = inject_fault(GuestFault::DataAbort { far: None }, &state(EL1H));
        assert_eq!(e.esr_el1, (0x25 << 26) | IL | FNV | FSC_SEA);
        assert_eq!(e.far_el1, None);
    }

    #[test]
    fn instruction_abort_syndrome() {
        let e = inject_fault(GuestFault::InstructionAbort { far: Some(0x8000) }, &state(EL1T));
        assert_eq!(e.esr_el1, (0x21 << 26) | IL | FSC_SEA);
        assert_eq!(e.far_el1, Some(0x8000));
        let e = inject_fault(GuestFault::InstructionAbort { far: None }, &state(NRW));
        assert_eq!(e.esr_el1, (0x20 << 26) | IL | FNV | FSC_SEA);
    }

    #[test]
    fn pstate_on_entry() {
        // SS and IL are cleared, NZCV kept, PAN kept when set.
        let s = state(EL0T | NZCV | SS | IL_PSTATE | PAN);
        assert_eq!(inject_fault(GuestFault::Undef, &s).pstate, EL1H | DAIF | NZCV | PAN);
        // SPAN = 0 sets PAN; DSSBS = 1 sets SSBS.
        let mut s = state(EL1H);
        s.sctlr_el1 = DSSBS;
        assert_eq!(inject_fault(GuestFault::Undef, &s).pstate, EL1H | DAIF | PAN | SSBS);
        // Without the features, neither is touched.
        s.has_pan = false;
        s.has_ssbs = false;
        assert_eq!(inject_fault(GuestFault::Undef, &s).pstate, EL1H | DAIF);
    }
}
