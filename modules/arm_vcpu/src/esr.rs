//! Decoding of a synchronous exception taken from the guest to EL2: the
//! `ESR_EL2` syndrome, with `FAR_EL2` and `HPFAR_EL2` for aborts.
//!
//! [`decode_sync`] turns the three raw registers into a [`SyncException`],
//! which says *what the guest did*; [`crate::exit`] decides what to do
//! about it. Nothing here trusts the values: every field combination,
//! including ones a real CPU never produces, decodes to some variant.
//!
//! # When FAR_EL2 and HPFAR_EL2 are valid
//!
//! For an Instruction or Data Abort taken to EL2 (ARM ARM D17.2, and the
//! `FnV` bit of the ISS):
//!
//! - `FAR_EL2` holds the faulting *virtual* address unless `ISS.FnV` = 1,
//!   which the CPU may report only for a synchronous external abort. When
//!   FnV = 1 the variants below carry `far: None`.
//! - `HPFAR_EL2.FIPA` holds bits \[51:12\] of the faulting IPA for a stage-2
//!   Translation fault, Access flag fault or Address size fault, and for
//!   any stage-2 fault on the guest's own stage-1 table walk (`S1PTW` = 1).
//!   For every other fault (stage-2 Permission fault, external abort,
//!   alignment fault, TLB conflict, ...) it is UNKNOWN. The Permission case
//!   is treated as invalid too, as KVM does: some cores report a stale value
//!   there (and erratum 834220).
//!
//! The faulting IPA is then `(HPFAR_EL2.FIPA << 12) | (FAR_EL2 & 0xfff)`
//! (equivalently `((HPFAR_EL2 & FIPA_mask) << 8) | (FAR_EL2 & 0xfff)`).
//!
//! What [`decode_sync`] returns for an abort:
//!
//! | case | variant |
//! |---|---|
//! | HPFAR valid, FAR valid, no S1PTW, ISV = 1 | [`SyncException::DataAbort`] |
//! | same, ISV = 0 (or a cache maintenance instruction) | [`SyncException::DataAbortNoSyndrome`] |
//! | instruction fetch, HPFAR and FAR valid, no S1PTW | [`SyncException::InstructionAbort`] |
//! | S1PTW = 1 (fault on the guest's table walk) | [`SyncException::TableWalkAbort`], with the *page* IPA of the descriptor: FAR is the address being translated, so the offset of the descriptor in its page is not known |
//! | HPFAR not valid for this fault, or FAR not valid | [`SyncException::AbortWithoutIpa`] |
//!
//! Only exceptions *from a lower exception level* are guest exits: an abort
//! from EL2 itself (EC 0x21, 0x25) decodes to [`SyncException::Unknown`].

#![deny(unsafe_code)]

use axvcpu::{AccessWidth, GuestPhysAddr, SysRegAddr};
use tock_registers::LocalRegisterCopy;

use crate::fields::{ESR_EL2, HPFAR_EL2, ISS_DABT, ISS_HVC, ISS_IABT, ISS_SYS64, ISS_WFX, read_u8};
use crate::sysreg::sys_reg;

/// The exception class (`ESR_EL2.EC`), as the ARM ARM names the values.
///
/// Values that the architecture does not allocate (or that are newer than
/// this list) are [`ExceptionClass::Unknown`] with the raw 6-bit value;
/// EC 0 itself ("unknown reason") is [`ExceptionClass::UnknownReason`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExceptionClass {
    /// 0x00: unknown reason (an UNDEFINED instruction, among others).
    UnknownReason,
    /// 0x01: trapped WFI, WFE, WFIT or WFET.
    Wfx,
    /// 0x03: trapped AArch32 MCR or MRC (coproc 0b1111, CP15).
    Cp15Mcr,
    /// 0x04: trapped AArch32 MCRR or MRRC (coproc 0b1111, CP15).
    Cp15Mcrr,
    /// 0x05: trapped AArch32 MCR or MRC (coproc 0b1110, CP14).
    Cp14Mcr,
    /// 0x06: trapped AArch32 LDC or STC (CP14).
    Cp14LdcStc,
    /// 0x07: access to SVE, Advanced SIMD or floating point trapped.
    FpSimdAccess,
    /// 0x08: trapped AArch32 VMRS (ID group trap).
    Cp10Vmrs,
    /// 0x09: trapped pointer authentication instruction.
    PointerAuth,
    /// 0x0A: other trapped instructions (LD64B/ST64B, ...; FEAT_LS64).
    OtherTrap,
    /// 0x0C: trapped AArch32 MRRC (coproc 0b1110, CP14).
    Cp14Mrrc,
    /// 0x0D: branch target exception (FEAT_BTI).
    BranchTarget,
    /// 0x0E: illegal execution state.
    IllegalState,
    /// 0x11: SVC from AArch32.
    Svc32,
    /// 0x12: HVC from AArch32.
    Hvc32,
    /// 0x13: SMC from AArch32 (trapped by HCR_EL2.TSC).
    Smc32,
    /// 0x15: SVC from AArch64.
    Svc64,
    /// 0x16: HVC from AArch64.
    Hvc64,
    /// 0x17: SMC from AArch64 (trapped by HCR_EL2.TSC).
    Smc64,
    /// 0x18: trapped MSR, MRS or System instruction (AArch64).
    SysReg64,
    /// 0x19: access to SVE trapped.
    SveAccess,
    /// 0x1A: trapped ERET, ERETAA or ERETAB (FEAT_NV).
    Eret,
    /// 0x1C: pointer authentication failure (FEAT_FPAC).
    PointerAuthFailure,
    /// 0x1D: access to SME trapped.
    SmeAccess,
    /// 0x1F: IMPLEMENTATION DEFINED exception to EL3.
    ImpDefEl3,
    /// 0x20: instruction abort from a lower exception level.
    InstructionAbortLower,
    /// 0x21: instruction abort from the same exception level.
    InstructionAbortSame,
    /// 0x22: PC alignment fault.
    PcAlignment,
    /// 0x24: data abort from a lower exception level.
    DataAbortLower,
    /// 0x25: data abort from the same exception level.
    DataAbortSame,
    /// 0x26: SP alignment fault.
    SpAlignment,
    /// 0x27: memory operation exception (FEAT_MOPS).
    MemoryOperation,
    /// 0x28: trapped floating-point exception from AArch32.
    FpException32,
    /// 0x2C: trapped floating-point exception from AArch64.
    FpException64,
    /// 0x2D: guarded control stack exception (FEAT_GCS).
    GuardedControlStack,
    /// 0x2F: SError exception.
    SError,
    /// 0x30: breakpoint from a lower exception level.
    BreakpointLower,
    /// 0x31: breakpoint from the same exception level.
    BreakpointSame,
    /// 0x32: software step from a lower exception level.
    SoftwareStepLower,
    /// 0x33: software step from the same exception level.
    SoftwareStepSame,
    /// 0x34: watchpoint from a lower exception level.
    WatchpointLower,
    /// 0x35: watchpoint from the same exception level.
    WatchpointSame,
    /// 0x38: BKPT from AArch32.
    Bkpt32,
    /// 0x3A: vector catch from AArch32.
    VectorCatch32,
    /// 0x3C: BRK from AArch64.
    Brk64,
    /// An EC value not listed above (unallocated or newer than this list).
    Unknown(u8),
}

impl ExceptionClass {
    /// The class of a 6-bit EC value. Values above 0x3F (which no ESR can
    /// hold) are [`ExceptionClass::Unknown`].
    pub const fn from_code(ec: u8) -> Self {
        match ec {
            0x00 => Self::UnknownReason,
            0x01 => Self::Wfx,
            0x03 => Self::Cp15Mcr,
            0x04 => Self::Cp15Mcrr,
            0x05 => Self::Cp14Mcr,
            0x06 => Self::Cp14LdcStc,
            0x07 => Self::FpSimdAccess,
            0x08 => Self::Cp10Vmrs,
            0x09 => Self::PointerAuth,
            0x0A => Self::OtherTrap,
            0x0C => Self::Cp14Mrrc,
            0x0D => Self::BranchTarget,
            0x0E => Self::IllegalState,
            0x11 => Self::Svc32,
            0x12 => Self::Hvc32,
            0x13 => Self::Smc32,
            0x15 => Self::Svc64,
            0x16 => Self::Hvc64,
            0x17 => Self::Smc64,
            0x18 => Self::SysReg64,
            0x19 => Self::SveAccess,
            0x1A => Self::Eret,
            0x1C => Self::PointerAuthFailure,
            0x1D => Self::SmeAccess,
            0x1F => Self::ImpDefEl3,
            0x20 => Self::InstructionAbortLower,
            0x21 => Self::InstructionAbortSame,
            0x22 => Self::PcAlignment,
            0x24 => Self::DataAbortLower,
            0x25 => Self::DataAbortSame,
            0x26 => Self::SpAlignment,
            0x27 => Self::MemoryOperation,
            0x28 => Self::FpException32,
            0x2C => Self::FpException64,
            0x2D => Self::GuardedControlStack,
            0x2F => Self::SError,
            0x30 => Self::BreakpointLower,
            0x31 => Self::BreakpointSame,
            0x32 => Self::SoftwareStepLower,
            0x33 => Self::SoftwareStepSame,
            0x34 => Self::WatchpointLower,
            0x35 => Self::WatchpointSame,
            0x38 => Self::Bkpt32,
            0x3A => Self::VectorCatch32,
            0x3C => Self::Brk64,
            other => Self::Unknown(other),
        }
    }

    /// The class of an `ESR_EL2` value.
    pub fn of_esr(esr: u64) -> Self {
        Self::from_code(read_u8(ESR_EL2::EC, esr))
    }

    /// The 6-bit EC value of this class.
    pub const fn code(self) -> u8 {
        match self {
            Self::UnknownReason => 0x00,
            Self::Wfx => 0x01,
            Self::Cp15Mcr => 0x03,
            Self::Cp15Mcrr => 0x04,
            Self::Cp14Mcr => 0x05,
            Self::Cp14LdcStc => 0x06,
            Self::FpSimdAccess => 0x07,
            Self::Cp10Vmrs => 0x08,
            Self::PointerAuth => 0x09,
            Self::OtherTrap => 0x0A,
            Self::Cp14Mrrc => 0x0C,
            Self::BranchTarget => 0x0D,
            Self::IllegalState => 0x0E,
            Self::Svc32 => 0x11,
            Self::Hvc32 => 0x12,
            Self::Smc32 => 0x13,
            Self::Svc64 => 0x15,
            Self::Hvc64 => 0x16,
            Self::Smc64 => 0x17,
            Self::SysReg64 => 0x18,
            Self::SveAccess => 0x19,
            Self::Eret => 0x1A,
            Self::PointerAuthFailure => 0x1C,
            Self::SmeAccess => 0x1D,
            Self::ImpDefEl3 => 0x1F,
            Self::InstructionAbortLower => 0x20,
            Self::InstructionAbortSame => 0x21,
            Self::PcAlignment => 0x22,
            Self::DataAbortLower => 0x24,
            Self::DataAbortSame => 0x25,
            Self::SpAlignment => 0x26,
            Self::MemoryOperation => 0x27,
            Self::FpException32 => 0x28,
            Self::FpException64 => 0x2C,
            Self::GuardedControlStack => 0x2D,
            Self::SError => 0x2F,
            Self::BreakpointLower => 0x30,
            Self::BreakpointSame => 0x31,
            Self::SoftwareStepLower => 0x32,
            Self::SoftwareStepSame => 0x33,
            Self::WatchpointLower => 0x34,
            Self::WatchpointSame => 0x35,
            Self::Bkpt32 => 0x38,
            Self::VectorCatch32 => 0x3A,
            Self::Brk64 => 0x3C,
            Self::Unknown(ec) => ec,
        }
    }
}

/// The fault status code of an abort (`ISS.DFSC` / `ISS.IFSC`).
///
/// Levels are the translation table level of the fault, 0 to 3. The
/// level -1 codes of FEAT_LPA2, parity/ECC errors and IMPLEMENTATION DEFINED
/// codes are [`FaultStatus::Other`] with the raw 6-bit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultStatus {
    /// 0b0000LL: address size fault at level LL (the address is beyond the
    /// configured IPA or PA size).
    AddressSize(u8),
    /// 0b0001LL: translation fault at level LL (no valid descriptor).
    Translation(u8),
    /// 0b0010LL: access flag fault at level LL.
    AccessFlag(u8),
    /// 0b0011LL: permission fault at level LL.
    Permission(u8),
    /// 0b010000: synchronous external abort, not on a table walk.
    SyncExternal,
    /// 0b0101LL: synchronous external abort on a table walk at level LL.
    SyncExternalOnWalk(u8),
    /// 0b100001: alignment fault.
    Alignment,
    /// 0b110000: TLB conflict abort.
    TlbConflict,
    /// Any other code.
    Other(u8),
}

/// Mask of the level bits of a fault status code (FSC\[1:0\]).
const FSC_LEVEL_MASK: u8 = 0b11;
/// Mask of the type bits of a fault status code (FSC\[5:2\]).
const FSC_TYPE_MASK: u8 = 0b11_1100;

impl FaultStatus {
    /// The status of a 6-bit fault status code.
    pub const fn from_code(fsc: u8) -> Self {
        let level = fsc & FSC_LEVEL_MASK;
        match fsc {
            0b01_0000 => Self::SyncExternal,
            0b10_0001 => Self::Alignment,
            0b11_0000 => Self::TlbConflict,
            _ => match fsc & FSC_TYPE_MASK {
                0b00_0000 => Self::AddressSize(level),
                0b00_0100 => Self::Translation(level),
                0b00_1000 => Self::AccessFlag(level),
                0b00_1100 => Self::Permission(level),
                0b01_0100 => Self::SyncExternalOnWalk(level),
                _ => Self::Other(fsc),
            },
        }
    }

    /// The 6-bit fault status code. A level above 3 is reported modulo 4
    /// (the decoder never produces one).
    pub const fn code(self) -> u8 {
        match self {
            Self::AddressSize(level) => level & FSC_LEVEL_MASK,
            Self::Translation(level) => 0b00_0100 | (level & FSC_LEVEL_MASK),
            Self::AccessFlag(level) => 0b00_1000 | (level & FSC_LEVEL_MASK),
            Self::Permission(level) => 0b00_1100 | (level & FSC_LEVEL_MASK),
            Self::SyncExternal => 0b01_0000,
            Self::SyncExternalOnWalk(level) => 0b01_0100 | (level & FSC_LEVEL_MASK),
            Self::Alignment => 0b10_0001,
            Self::TlbConflict => 0b11_0000,
            Self::Other(code) => code,
        }
    }

    /// Whether `HPFAR_EL2` holds the faulting IPA for this fault when it is
    /// not on a stage-1 table walk: stage-2 translation, access flag and
    /// address size faults. (With S1PTW = 1 it is valid for every fault.)
    pub const fn hpfar_valid(self) -> bool {
        matches!(self, Self::Translation(_) | Self::AccessFlag(_) | Self::AddressSize(_))
    }
}

/// A single load or store that the guest made to an address the stage-2
/// table does not map, as the data abort syndrome (ISV = 1) describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MmioAccess {
    /// The width of the access (`ISS.SAS`).
    pub width: AccessWidth,
    /// The transfer register (`ISS.SRT`), 0 to 30 for X0..X30 and 31 for
    /// XZR/WZR. For a guest at AArch32 EL0 this is already the AArch64
    /// register that holds the AArch32 one.
    pub reg: usize,
    /// The width of the transfer register: [`AccessWidth::Qword`] for an X
    /// register, [`AccessWidth::Dword`] for a W register (`ISS.SF`).
    pub reg_width: AccessWidth,
    /// Whether a load sign-extends the value (`ISS.SSE`: LDRSB/LDRSH/LDRSW).
    pub sign_extend: bool,
    /// Whether the access is a write (`ISS.WnR`).
    pub write: bool,
    /// Whether the instruction has acquire/release semantics (`ISS.AR`).
    pub acquire_release: bool,
}

/// What the guest did, decoded from a synchronous exception it took to EL2.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncException {
    /// A load or store at an IPA with a stage-2 fault, with a valid
    /// instruction syndrome (ISV = 1): an access that can be emulated.
    DataAbort {
        /// The faulting IPA.
        gpa: GuestPhysAddr,
        /// The faulting guest virtual address (FAR_EL2).
        far: u64,
        /// The access.
        access: MmioAccess,
        /// Why stage 2 faulted.
        fault: FaultStatus,
    },
    /// A data access at a known IPA without a valid syndrome (ISV = 0: a
    /// load/store pair, a writeback form, SIMD registers, ...) or from a
    /// cache maintenance instruction. It cannot be emulated without
    /// decoding the instruction.
    DataAbortNoSyndrome {
        /// The faulting IPA.
        gpa: GuestPhysAddr,
        /// The faulting guest virtual address (FAR_EL2).
        far: u64,
        /// Whether the access was a write (always true for a cache
        /// maintenance instruction).
        write: bool,
        /// Whether a cache maintenance instruction faulted (`ISS.CM`).
        cache_maintenance: bool,
        /// Why stage 2 faulted.
        fault: FaultStatus,
    },
    /// An instruction fetch from an IPA with a stage-2 fault.
    InstructionAbort {
        /// The faulting IPA.
        gpa: GuestPhysAddr,
        /// The faulting guest virtual address (FAR_EL2).
        far: u64,
        /// Why stage 2 faulted.
        fault: FaultStatus,
    },
    /// A stage-2 fault on the guest's own stage-1 table walk (S1PTW = 1):
    /// its page tables are at an IPA that stage 2 does not map.
    TableWalkAbort {
        /// The page (4 KiB aligned) IPA of the descriptor the walk read.
        gpa: GuestPhysAddr,
        /// The guest virtual address being translated, unless FnV = 1.
        far: Option<u64>,
        /// Whether the walk was for an instruction fetch.
        instruction: bool,
        /// Whether the walk needed to write the descriptor (hardware
        /// access-flag or dirty-state update).
        write: bool,
        /// Why stage 2 faulted.
        fault: FaultStatus,
    },
    /// An abort whose IPA the hardware does not report (see the module
    /// documentation): a stage-2 permission fault, an external abort, an
    /// alignment fault, a TLB conflict, or a fault with FnV = 1.
    AbortWithoutIpa {
        /// The faulting guest virtual address, unless FnV = 1.
        far: Option<u64>,
        /// Whether it was an instruction fetch.
        instruction: bool,
        /// Whether the data access was a write (false for a fetch).
        write: bool,
        /// The fault.
        fault: FaultStatus,
    },
    /// `HVC #imm` from AArch64. `ELR_EL2` already points after it.
    Hvc {
        /// The immediate.
        imm: u16,
    },
    /// `SMC #imm` from AArch64, trapped by HCR_EL2.TSC. `ELR_EL2` points at
    /// it: the SMC did not execute.
    Smc {
        /// The immediate.
        imm: u16,
    },
    /// A trapped MSR, MRS or System instruction.
    SysReg {
        /// The register (Rt and direction bits zero; see
        /// [`crate::sysreg`]). Op0 = 1 is a System instruction (DC, IC,
        /// TLBI, AT) rather than a register.
        addr: SysRegAddr,
        /// The transfer register, 0 to 30, or 31 for XZR.
        reg: usize,
        /// True for MRS (read the register into `reg`), false for MSR or a
        /// System instruction.
        read: bool,
    },
    /// A trapped WFI.
    Wfi,
    /// A trapped WFE.
    Wfe,
    /// A trapped WFIT (FEAT_WFxT): WFI with a timeout in a register.
    Wfit {
        /// The register holding the timeout (a CNTVCT_EL0 value).
        reg: usize,
    },
    /// A trapped WFET (FEAT_WFxT): WFE with a timeout in a register.
    Wfet {
        /// The register holding the timeout (a CNTVCT_EL0 value).
        reg: usize,
    },
    /// Any other exception class (and aborts from EL2 itself).
    Unknown {
        /// The exception class.
        ec: ExceptionClass,
        /// The raw ISS (25 bits).
        iss: u32,
    },
}

/// Decodes a synchronous exception that the guest took to EL2.
///
/// `esr`, `far` and `hpfar` are the values of `ESR_EL2`, `FAR_EL2` and
/// `HPFAR_EL2` read on the exit; `far` and `hpfar` are only used for aborts
/// and only where the module documentation says they are valid, so a caller
/// may pass anything for the other classes. Never fails and never panics.
pub fn decode_sync(esr: u64, far: u64, hpfar: u64) -> SyncException {
    let ec = ExceptionClass::of_esr(esr);
    match ec {
        ExceptionClass::DataAbortLower => decode_data_abort(esr, far, hpfar),
        ExceptionClass::InstructionAbortLower => decode_instruction_abort(esr, far, hpfar),
        ExceptionClass::Hvc64 => SyncException::Hvc { imm: imm16(esr) },
        ExceptionClass::Smc64 => SyncException::Smc { imm: imm16(esr) },
        ExceptionClass::SysReg64 => decode_sysreg(esr),
        ExceptionClass::Wfx => decode_wfx(esr),
        _ => SyncException::Unknown { ec, iss: iss(esr) },
    }
}

/// The 25-bit ISS of an `ESR_EL2` value.
pub fn iss(esr: u64) -> u32 {
    // ISS is 25 bits wide, so it always fits.
    u32::try_from(ESR_EL2::ISS.read(esr)).unwrap_or(u32::MAX)
}

/// The `#imm16` of an HVC or SMC.
fn imm16(esr: u64) -> u16 {
    // IMM16 is 16 bits wide, so it always fits.
    u16::try_from(ISS_HVC::IMM16.read(esr)).unwrap_or(u16::MAX)
}

/// The access width encoded by `ISS.SAS`.
fn access_width(sas: u8) -> AccessWidth {
    match sas {
        0 => AccessWidth::Byte,
        1 => AccessWidth::Word,
        2 => AccessWidth::Dword,
        _ => AccessWidth::Qword,
    }
}

/// The 4 KiB page of the faulting IPA from `HPFAR_EL2`, if it fits an
/// address on this machine.
fn hpfar_page(hpfar: u64) -> Option<u64> {
    /// HPFAR_EL2.FIPA holds IPA bits from bit 12 up.
    const FIPA_SHIFT: u32 = 12;
    // FIPA is 44 bits wide: shifted by 12 it still fits in 64 bits.
    HPFAR_EL2::FIPA.read(hpfar).checked_shl(FIPA_SHIFT)
}

/// `(page | far offset)` as a guest physical address.
fn compose_ipa(page: u64, far: u64) -> Option<GuestPhysAddr> {
    /// The offset bits of FAR inside a 4 KiB page.
    const PAGE_OFFSET_MASK: u64 = 0xfff;
    usize::try_from(page | (far & PAGE_OFFSET_MASK))
        .ok()
        .map(GuestPhysAddr::from)
}

/// What the abort fields common to data and instruction aborts say.
struct AbortInfo {
    fault: FaultStatus,
    s1ptw: bool,
    far: Option<u64>,
    instruction: bool,
    write: bool,
}

/// Classifies an abort by where its IPA comes from. Returns `Ok(ipa)` when
/// the IPA of the access itself is known, or the final variant otherwise.
fn locate_abort(info: &AbortInfo, hpfar: u64) -> Result<(GuestPhysAddr, u64), SyncException> {
    let without_ipa = SyncException::AbortWithoutIpa {
        far: info.far,
        instruction: info.instruction,
        write: info.write,
        fault: info.fault,
    };
    if info.s1ptw {
        let gpa = hpfar_page(hpfar)
            .and_then(|page| usize::try_from(page).ok())
            .map(GuestPhysAddr::from);
        return Err(match gpa {
            Some(gpa) => SyncException::TableWalkAbort {
                gpa,
                far: info.far,
                instruction: info.instruction,
                write: info.write,
                fault: info.fault,
            },
            None => without_ipa,
        });
    }
    if !info.fault.hpfar_valid() {
        return Err(without_ipa);
    }
    let (Some(far), Some(page)) = (info.far, hpfar_page(hpfar)) else {
        return Err(without_ipa);
    };
    match compose_ipa(page, far) {
        Some(gpa) => Ok((gpa, far)),
        None => Err(without_ipa),
    }
}

fn decode_data_abort(esr: u64, far: u64, hpfar: u64) -> SyncException {
    let fault = FaultStatus::from_code(read_u8(ISS_DABT::DFSC, esr));
    let cache_maintenance = ISS_DABT::CM.is_set(esr);
    let write = ISS_DABT::WNR.is_set(esr);
    let info = AbortInfo {
        fault,
        s1ptw: ISS_DABT::S1PTW.is_set(esr),
        far: (!ISS_DABT::FNV.is_set(esr)).then_some(far),
        instruction: false,
        write,
    };
    let (gpa, far) = match locate_abort(&info, hpfar) {
        Ok(found) => found,
        Err(other) => return other,
    };
    // A cache maintenance instruction never has a valid syndrome (the ARM
    // ARM makes ISV 0 for CM = 1); a CPU that says otherwise is not trusted.
    if !ISS_DABT::ISV.is_set(esr) || cache_maintenance {
        return SyncException::DataAbortNoSyndrome {
            gpa,
            far,
            write,
            cache_maintenance,
            fault,
        };
    }
    SyncException::DataAbort {
        gpa,
        far,
        access: syndrome_access(esr),
        fault,
    }
}

/// The access a data abort's valid instruction syndrome (ISV = 1)
/// describes.
fn syndrome_access(esr: u64) -> MmioAccess {
    MmioAccess {
        width: access_width(read_u8(ISS_DABT::SAS, esr)),
        reg: usize::from(read_u8(ISS_DABT::SRT, esr)),
        reg_width: if ISS_DABT::SF.is_set(esr) {
            AccessWidth::Qword
        } else {
            AccessWidth::Dword
        },
        sign_extend: ISS_DABT::SSE.is_set(esr),
        write: ISS_DABT::WNR.is_set(esr),
        acquire_release: ISS_DABT::AR.is_set(esr),
    }
}

/// The exit of most device accesses, decoded in a few steps: a data abort
/// from the guest with a valid syndrome on an address its stage-2 table
/// does not map (a translation fault, not on its own table walk, FAR
/// valid). Gives the address and the access exactly as [`decode_sync`]
/// gives them in its [`SyncException::DataAbort`]; `None` for any other
/// syndrome, which [`decode_sync`] then decodes.
pub fn translation_fault_access(esr: u64, far: u64, hpfar: u64) -> Option<(GuestPhysAddr, MmioAccess)> {
    if read_u8(ESR_EL2::EC, esr) != ExceptionClass::DataAbortLower.code() {
        return None;
    }
    let fault = FaultStatus::from_code(read_u8(ISS_DABT::DFSC, esr));
    if !ISS_DABT::ISV.is_set(esr)
        || ISS_DABT::CM.is_set(esr)
        || ISS_DABT::S1PTW.is_set(esr)
        || ISS_DABT::FNV.is_set(esr)
        || !matches!(fault, FaultStatus::Translation(_))
    {
        return None;
    }
    Some((compose_ipa(hpfar_page(hpfar)?, far)?, syndrome_access(esr)))
}

fn decode_instruction_abort(esr: u64, far: u64, hpfar: u64) -> SyncException {
    let fault = FaultStatus::from_code(read_u8(ISS_IABT::IFSC, esr));
    let info = AbortInfo {
        fault,
        s1ptw: ISS_IABT::S1PTW.is_set(esr),
        far: (!ISS_IABT::FNV.is_set(esr)).then_some(far),
        instruction: true,
        // The instruction-abort ISS has no WnR bit (bit 6 is RES0).
        write: false,
    };
    match locate_abort(&info, hpfar) {
        Ok((gpa, far)) => SyncException::InstructionAbort { gpa, far, fault },
        Err(other) => other,
    }
}

fn decode_sysreg(esr: u64) -> SyncException {
    let addr = sys_reg(
        read_u8(ISS_SYS64::OP0, esr),
        read_u8(ISS_SYS64::OP1, esr),
        read_u8(ISS_SYS64::CRN, esr),
        read_u8(ISS_SYS64::CRM, esr),
        read_u8(ISS_SYS64::OP2, esr),
    );
    SyncException::SysReg {
        addr,
        reg: usize::from(read_u8(ISS_SYS64::RT, esr)),
        read: ISS_SYS64::DIRECTION.is_set(esr),
    }
}

fn decode_wfx(esr: u64) -> SyncException {
    let iss = LocalRegisterCopy::<u64, ISS_WFX::Register>::new(esr);
    let reg = usize::from(read_u8(ISS_WFX::RN, esr));
    match iss.read_as_enum(ISS_WFX::TI) {
        Some(ISS_WFX::TI::Value::Wfe) => SyncException::Wfe,
        Some(ISS_WFX::TI::Value::Wfit) => SyncException::Wfit { reg },
        Some(ISS_WFX::TI::Value::Wfet) => SyncException::Wfet { reg },
        // TI is two bits and all four values are named: only WFI is left.
        Some(ISS_WFX::TI::Value::Wfi) | None => SyncException::Wfi,
    }
}

#[cfg(test)]
mod tests;
