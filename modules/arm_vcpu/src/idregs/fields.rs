//! The guest's view of the ID registers, field by field: for every ID
//! register the hypervisor reads from the hardware, the 4-bit fields it
//! shows the guest and the rule applied to each ([`Rule`]).
//!
//! A field not listed here reads as zero; an ID register not listed here
//! (an unallocated encoding, the AArch32 ID registers, `ID_AA64ZFR0_EL1`,
//! `ID_AA64SMFR0_EL1`, ...) reads as zero as a whole. So a feature the
//! hardware gains tomorrow stays hidden until someone adds its field here
//! on purpose.
//!
//! Careful with the *signed* fields whose zero means "implemented"
//! (`FP`, `AdvSIMD`, `TGran4`, `TGran64`, `DoubleLock`): they are listed
//! with [`Rule::Pass`] or a [`Rule::Fixed`] value, never left to the
//! default.
//!
//! The choices, in short (the ARM ARM, DDI 0487, gives the field meanings):
//!
//! - The guest is AArch64 only, at EL1 and EL0 (`EL0`/`EL1` capped to 1);
//!   it has no EL2 (no nested virtualization) and no secure EL2.
//! - Hidden because the hypervisor neither switches their state per vCPU
//!   nor emulates their registers: SVE, SME, AMU, MPAM, RAS, MTE, pointer
//!   authentication (keys not switched), GCS, NMI, LS64, MOPS, FPMR, the
//!   EL2-only features (VH, NV, FGT, ECV, HCX, TWED, FWB, EVT, XNX, stage-2
//!   granules, VMID bits), the 128-bit system registers, the AArch32 state.
//! - PMU: absent (`PMUVer` 0); its registers trap (`MDCR_EL2.TPM`,
//!   `TPMCR`) and are UNDEFINED to the guest. Statistical profiling (SPE),
//!   trace (ETM/ETE, `TRFCR`), the trace buffer (TRBE) and branch records
//!   (BRBE): absent.
//! - Debug: Armv8 debug with two breakpoints and two watchpoints (one
//!   context-aware), whose registers are emulated per vCPU (see
//!   `crate::debug`).
//! - `PARange` is capped at 40 bits: the stage-2 input range is 39 bits
//!   (the smallest architected size above it).
//! - `CSV2` is capped at 1: `CSV2_2`/`CSV2_3` imply the `SCXTNUM_ELx`
//!   registers, which the guest cannot use (`HCR_EL2.EnSCXT` = 0).

use crate::sysreg::SysRegEncoding;

/// What the guest sees of one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The hardware's value.
    Pass,
    /// The hardware's value, at most this (an unsigned field: a lower value
    /// means less of the feature).
    Cap(u8),
    /// Zero: the feature is hidden.
    Zero,
    /// Always this value, whatever the hardware has.
    Fixed(u8),
}

/// One 4-bit field of an ID register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldRule {
    /// The ARM ARM name of the field.
    pub name: &'static str,
    /// Its lowest bit.
    pub shift: u8,
    /// What the guest sees.
    pub rule: Rule,
}

/// Width of every ID register field listed here.
pub const FIELD_BITS: u32 = 4;

/// An ID register the guest reads through the filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRegRule {
    /// The ARM ARM name of the register.
    pub name: &'static str,
    /// Its encoding (`op0` 3, `op1` 0, `CRn` 0).
    pub enc: SysRegEncoding,
    /// Its fields; bits not covered read as zero.
    pub fields: &'static [FieldRule],
}

const fn f(name: &'static str, shift: u8, rule: Rule) -> FieldRule {
    FieldRule { name, shift, rule }
}

const fn id(crm: u8, op2: u8) -> SysRegEncoding {
    SysRegEncoding {
        op0: 3,
        op1: 0,
        crn: 0,
        crm,
        op2,
    }
}

use Rule::{Cap, Fixed, Pass, Zero};

/// `ID_AA64PFR0_EL1` (S3_0_C0_C4_0): processor features 0.
pub const ID_AA64PFR0_EL1: IdRegRule = IdRegRule {
    name: "ID_AA64PFR0_EL1",
    enc: id(4, 0),
    fields: &[
        f("EL0", 0, Cap(1)),
        f("EL1", 4, Cap(1)),
        f("EL2", 8, Zero),
        f("EL3", 12, Cap(1)),
        f("FP", 16, Pass),
        f("AdvSIMD", 20, Pass),
        f("GIC", 24, Cap(1)),
        f("RAS", 28, Zero),
        f("SVE", 32, Zero),
        f("SEL2", 36, Zero),
        f("MPAM", 40, Zero),
        f("AMU", 44, Zero),
        f("DIT", 48, Pass),
        f("RME", 52, Zero),
        f("CSV2", 56, Cap(1)),
        f("CSV3", 60, Pass),
    ],
};

/// `ID_AA64PFR1_EL1` (S3_0_C0_C4_1): processor features 1.
pub const ID_AA64PFR1_EL1: IdRegRule = IdRegRule {
    name: "ID_AA64PFR1_EL1",
    enc: id(4, 1),
    fields: &[
        f("BT", 0, Pass),
        f("SSBS", 4, Pass),
        f("MTE", 8, Zero),
        f("RAS_frac", 12, Zero),
        f("MPAM_frac", 16, Zero),
        f("SME", 24, Zero),
        f("RNDR_trap", 28, Zero),
        f("CSV2_frac", 32, Zero),
        f("NMI", 36, Zero),
        f("MTE_frac", 40, Zero),
        f("GCS", 44, Zero),
        f("THE", 48, Zero),
        f("MTEX", 52, Zero),
        f("DF2", 56, Zero),
        f("PFAR", 60, Zero),
    ],
};

/// `ID_AA64DFR0_EL1` (S3_0_C0_C5_0): debug features 0.
pub const ID_AA64DFR0_EL1: IdRegRule = IdRegRule {
    name: "ID_AA64DFR0_EL1",
    enc: id(5, 0),
    fields: &[
        f("DebugVer", 0, Cap(8)),
        f("TraceVer", 4, Zero),
        f("PMUVer", 8, Zero),
        f("BRPs", 12, Cap(1)),
        f("WRPs", 20, Cap(1)),
        f("CTX_CMPs", 28, Cap(0)),
        f("PMSVer", 32, Zero),
        f("DoubleLock", 36, Pass),
        f("TraceFilt", 40, Zero),
        f("TraceBuffer", 44, Zero),
        f("MTPMU", 48, Zero),
        f("BRBE", 52, Zero),
        f("ExtTrcBuff", 56, Zero),
        f("HPMN0", 60, Zero),
    ],
};

/// `ID_AA64ISAR0_EL1` (S3_0_C0_C6_0): instruction set attributes 0.
pub const ID_AA64ISAR0_EL1: IdRegRule = IdRegRule {
    name: "ID_AA64ISAR0_EL1",
    enc: id(6, 0),
    fields: &[
        f("AES", 4, Pass),
        f("SHA1", 8, Pass),
        f("SHA2", 12, Pass),
        f("CRC32", 16, Pass),
        f("Atomic", 20, Pass),
        f("TME", 24, Zero),
        f("RDM", 28, Pass),
        f("SHA3", 32, Pass),
        f("SM3", 36, Pass),
        f("SM4", 40, Pass),
        f("DP", 44, Pass),
        f("FHM", 48, Pass),
        f("TS", 52, Pass),
        f("TLB", 56, Pass),
        f("RNDR", 60, Pass),
    ],
};

/// `ID_AA64ISAR1_EL1` (S3_0_C0_C6_1): instruction set attributes 1.
pub const ID_AA64ISAR1_EL1: IdRegRule = IdRegRule {
    name: "ID_AA64ISAR1_EL1",
    enc: id(6, 1),
    fields: &[
        f("DPB", 0, Pass),
        f("APA", 4, Zero),
        f("API", 8, Zero),
        f("JSCVT", 12, Pass),
        f("FCMA", 16, Pass),
        f("LRCPC", 20, Pass),
        f("GPA", 24, Zero),
        f("GPI", 28, Zero),
        f("FRINTTS", 32, Pass),
        f("SB", 36, Pass),
        f("SPECRES", 40, Pass),
        f("BF16", 44, Pass),
        f("DGH", 48, Pass),
        f("I8MM", 52, Pass),
        f("XS", 56, Pass),
        f("LS64", 60, Zero),
    ],
};

/// `ID_AA64ISAR2_EL1` (S3_0_C0_C6_2): instruction set attributes 2.
pub const ID_AA64ISAR2_EL1: IdRegRule = IdRegRule {
    name: "ID_AA64ISAR2_EL1",
    enc: id(6, 2),
    fields: &[
        f("WFxT", 0, Pass),
        f("RPRES", 4, Pass),
        f("GPA3", 8, Zero),
        f("APA3", 12, Zero),
        f("MOPS", 16, Zero),
        f("BC", 20, Pass),
        f("PAC_frac", 24, Zero),
        f("CLRBHB", 28, Pass),
        f("SYSREG_128", 32, Zero),
        f("SYSINSTR_128", 36, Zero),
        f("PRFMSLC", 40, Pass),
        f("RPRFM", 48, Pass),
        f("CSSC", 52, Pass),
        f("LUT", 56, Pass),
        f("ATS1A", 60, Zero),
    ],
};

/// `ID_AA64MMFR0_EL1` (S3_0_C0_C7_0): memory model features 0.
pub const ID_AA64MMFR0_EL1: IdRegRule = IdRegRule {
    name: "ID_AA64MMFR0_EL1",
    enc: id(7, 0),
    fields: &[
        f("PARange", 0, Cap(PARANGE_40_BITS)),
        f("ASIDBits", 4, Pass),
        f("BigEnd", 8, Pass),
        f("SNSMem", 12, Pass),
        f("BigEndEL0", 16, Pass),
        f("TGran16", 20, Pass),
        f("TGran64", 24, Pass),
        f("TGran4", 28, Pass),
        f("TGran16_2", 32, Zero),
        f("TGran64_2", 36, Zero),
        f("TGran4_2", 40, Zero),
        f("ExS", 44, Pass),
        f("FGT", 56, Zero),
        f("ECV", 60, Zero),
    ],
};

/// `ID_AA64MMFR0_EL1.PARange` for a 40-bit physical address space.
pub const PARANGE_40_BITS: u8 = 0b0010;

/// `ID_AA64MMFR1_EL1` (S3_0_C0_C7_1): memory model features 1.
pub const ID_AA64MMFR1_EL1: IdRegRule = IdRegRule {
    name: "ID_AA64MMFR1_EL1",
    enc: id(7, 1),
    fields: &[
        f("HAFDBS", 0, Pass),
        f("VMIDBits", 4, Zero),
        f("VH", 8, Zero),
        f("HPDS", 12, Pass),
        f("LO", 16, Zero),
        f("PAN", 20, Pass),
        f("SpecSEI", 24, Zero),
        f("XNX", 28, Zero),
        f("TWED", 32, Zero),
        f("ETS", 36, Pass),
        f("HCX", 40, Zero),
        f("AFP", 44, Pass),
        f("nTLBPA", 48, Pass),
        f("TIDCP1", 52, Zero),
        f("CMOW", 56, Pass),
        f("ECBHB", 60, Pass),
    ],
};

/// `ID_AA64MMFR2_EL1` (S3_0_C0_C7_2): memory model features 2.
pub const ID_AA64MMFR2_EL1: IdRegRule = IdRegRule {
    name: "ID_AA64MMFR2_EL1",
    enc: id(7, 2),
    fields: &[
        f("CnP", 0, Pass),
        f("UAO", 4, Pass),
        f("LSM", 8, Pass),
        f("IESB", 12, Zero),
        f("VARange", 16, Pass),
        f("CCIDX", 20, Pass),
        f("NV", 24, Zero),
        f("ST", 28, Pass),
        f("AT", 32, Pass),
        f("IDS", 36, Zero),
        f("FWB", 40, Zero),
        f("TTL", 48, Pass),
        f("BBM", 52, Pass),
        f("EVT", 56, Zero),
        f("E0PD", 60, Pass),
    ],
};

/// Every ID register the guest reads through the filter. The rest of the
/// ID space (`op0` 3, `op1` 0, `CRn` 0, `CRm` 1 to 7) reads as zero.
pub const ID_REGS: &[IdRegRule] = &[
    ID_AA64PFR0_EL1,
    ID_AA64PFR1_EL1,
    ID_AA64DFR0_EL1,
    ID_AA64ISAR0_EL1,
    ID_AA64ISAR1_EL1,
    ID_AA64ISAR2_EL1,
    ID_AA64MMFR0_EL1,
    ID_AA64MMFR1_EL1,
    ID_AA64MMFR2_EL1,
];

/// The value the guest reads of `reg` when the hardware has `hw`.
pub fn filter(reg: &IdRegRule, hw: u64) -> u64 {
    let mask = (1u64 << FIELD_BITS) - 1;
    reg.fields.iter().fold(0, |acc, field| {
        let shift = u32::from(field.shift);
        let value = hw.checked_shr(shift).unwrap_or(0) & mask;
        let shown = match field.rule {
            Pass => value,
            Cap(max) => value.min(u64::from(max)),
            Zero => 0,
            Fixed(v) => u64::from(v) & mask,
        };
        acc | shown.checked_shl(shift).unwrap_or(0)
    })
}
