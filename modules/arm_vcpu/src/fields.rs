//! Bit-field layouts of the registers this crate decodes or composes, as the
//! Arm Architecture Reference Manual (DDI 0487) gives them.
//!
//! The ISS layouts are defined over the whole 64-bit ESR value: the ISS
//! occupies ESR bits \[24:0\], so every ISS field offset is also its ESR bit
//! position and a field can be read straight from the raw `ESR_EL2` value.
//! `ESR_EL1` has the same layout as `ESR_EL2`, so [`ESR_EL2`] and the ISS
//! layouts are also used to compose the syndrome of a fault injected into
//! the guest. The GICv3 `ICC_SGI1R_EL1` value a guest writes is here too.
//!
//! `register_bitfields!` generates items (field-value constants, register
//! marker types) that cannot carry doc comments; every register and field
//! is documented in the source below.

#![allow(missing_docs)]

use tock_registers::register_bitfields;

register_bitfields! {u64,
    /// ESR_EL2 (and ESR_EL1): the fields common to every exception class.
    pub ESR_EL2 [
        /// Instruction Specific Syndrome; its layout depends on `EC`.
        ISS OFFSET(0) NUMBITS(25) [],
        /// Instruction Length: 1 = a 32-bit instruction trapped, 0 = a
        /// 16-bit T32 instruction. RES1 for exceptions that are not
        /// instruction traps (aborts with ISV=0, EC=0, SError, ...).
        IL OFFSET(25) NUMBITS(1) [],
        /// Exception Class: what kind of exception this is.
        EC OFFSET(26) NUMBITS(6) [],
        /// ISS2: more syndrome for some classes (FEAT_LS64, FEAT_GCS, ...).
        ISS2 OFFSET(32) NUMBITS(24) []
    ],

    /// ISS of a Data Abort (EC 0x24 / 0x25).
    pub ISS_DABT [
        /// Data Fault Status Code (see `FaultStatus`).
        DFSC OFFSET(0) NUMBITS(6) [],
        /// Write not Read: 1 = the access was a write (and always 1 for a
        /// cache maintenance instruction, `CM` = 1).
        WNR OFFSET(6) NUMBITS(1) [],
        /// Stage-1 Page Table Walk: 1 = the stage-2 fault happened on the
        /// guest's own stage-1 translation table walk, not on the access.
        S1PTW OFFSET(7) NUMBITS(1) [],
        /// Cache Maintenance: 1 = the fault came from a cache maintenance
        /// or address translation instruction, not from a load or store.
        CM OFFSET(8) NUMBITS(1) [],
        /// External Abort type (IMPLEMENTATION DEFINED classification of
        /// an external abort).
        EA OFFSET(9) NUMBITS(1) [],
        /// FAR not Valid: 1 = FAR_EL2 does not hold the faulting address.
        /// Meaningful only for a synchronous external abort; RES0 otherwise.
        FNV OFFSET(10) NUMBITS(1) [],
        /// Synchronous Error Type (FEAT_RAS), for a synchronous external
        /// abort: recoverable, uncontainable, restartable.
        SET OFFSET(11) NUMBITS(2) [],
        /// 1 = the fault came from a use of VNCR_EL2 (FEAT_NV2).
        VNCR OFFSET(13) NUMBITS(1) [],
        /// Acquire/Release: 1 = the instruction had acquire/release
        /// semantics (LDAR, STLR, ...). Valid when `ISV` = 1.
        AR OFFSET(14) NUMBITS(1) [],
        /// Sixty-Four bit register: 1 = `SRT` names an X register, 0 = a W
        /// register. Valid when `ISV` = 1.
        SF OFFSET(15) NUMBITS(1) [],
        /// Syndrome Register Transfer: the number of the Rt register of the
        /// load/store (31 = XZR/WZR). Valid when `ISV` = 1.
        SRT OFFSET(16) NUMBITS(5) [],
        /// Syndrome Sign Extend: 1 = a load that sign-extends (LDRSB,
        /// LDRSH, LDRSW). Valid when `ISV` = 1.
        SSE OFFSET(21) NUMBITS(1) [],
        /// Syndrome Access Size: 0 = byte, 1 = halfword, 2 = word,
        /// 3 = doubleword. Valid when `ISV` = 1.
        SAS OFFSET(22) NUMBITS(2) [],
        /// Instruction Syndrome Valid: 1 = `SAS`, `SSE`, `SRT`, `SF` and `AR`
        /// describe the access (a single load or store of one general-purpose
        /// register without writeback).
        ISV OFFSET(24) NUMBITS(1) []
    ],

    /// ISS of an Instruction Abort (EC 0x20 / 0x21).
    pub ISS_IABT [
        /// Instruction Fault Status Code (see `FaultStatus`).
        IFSC OFFSET(0) NUMBITS(6) [],
        /// Stage-1 Page Table Walk: 1 = the stage-2 fault happened on the
        /// guest's stage-1 translation table walk for the fetch.
        S1PTW OFFSET(7) NUMBITS(1) [],
        /// External Abort type (IMPLEMENTATION DEFINED).
        EA OFFSET(9) NUMBITS(1) [],
        /// FAR not Valid: 1 = FAR_EL2 does not hold the faulting address
        /// (synchronous external abort only; RES0 otherwise).
        FNV OFFSET(10) NUMBITS(1) [],
        /// Synchronous Error Type (FEAT_RAS).
        SET OFFSET(11) NUMBITS(2) []
    ],

    /// ISS of a trapped MSR, MRS or System instruction (EC 0x18).
    pub ISS_SYS64 [
        /// Direction: 1 = read (MRS, the register is copied to Rt),
        /// 0 = write (MSR, or a System instruction).
        DIRECTION OFFSET(0) NUMBITS(1) [],
        /// The CRm value of the instruction.
        CRM OFFSET(1) NUMBITS(4) [],
        /// The Rt register of the instruction (31 = XZR).
        RT OFFSET(5) NUMBITS(5) [],
        /// The CRn value of the instruction.
        CRN OFFSET(10) NUMBITS(4) [],
        /// The Op1 value of the instruction.
        OP1 OFFSET(14) NUMBITS(3) [],
        /// The Op2 value of the instruction.
        OP2 OFFSET(17) NUMBITS(3) [],
        /// The Op0 value of the instruction (1 = System instruction,
        /// 2 = debug register, 3 = non-debug system register).
        OP0 OFFSET(20) NUMBITS(2) []
    ],

    /// ISS of a trapped WFI, WFE, WFIT or WFET (EC 0x01).
    pub ISS_WFX [
        /// Trapped Instruction: 0 = WFI, 1 = WFE, 2 = WFIT, 3 = WFET.
        TI OFFSET(0) NUMBITS(2) [
            Wfi = 0,
            Wfe = 1,
            Wfit = 2,
            Wfet = 3
        ],
        /// Register Valid: 1 = `RN` holds the register of a WFIT/WFET.
        RV OFFSET(2) NUMBITS(1) [],
        /// The register holding the WFIT/WFET timeout (when `RV` = 1).
        RN OFFSET(5) NUMBITS(5) [],
        /// The condition code of a trapped AArch32 instruction (when `CV`).
        COND OFFSET(20) NUMBITS(4) [],
        /// Condition code Valid: 1 = `COND` is valid (AArch32 only).
        CV OFFSET(24) NUMBITS(1) []
    ],

    /// ISS of an HVC or SMC (EC 0x12, 0x13, 0x16, 0x17).
    pub ISS_HVC [
        /// The 16-bit immediate of the instruction (`HVC #imm`).
        IMM16 OFFSET(0) NUMBITS(16) []
    ],

    /// HPFAR_EL2: the faulting IPA of some stage-2 aborts.
    pub HPFAR_EL2 [
        /// Faulting IPA bits \[51:12\] (bits \[47:12\] without FEAT_LPA;
        /// the upper bits are then RES0).
        FIPA OFFSET(4) NUMBITS(44) [],
        /// Faulting IPA space (FEAT_SEL2): 1 = non-secure.
        NS OFFSET(63) NUMBITS(1) []
    ],

    /// SPSR_EL2 / SPSR_EL1: the saved PSTATE of an exception from AArch64
    /// (the fields this crate reads or composes).
    pub SPSR [
        /// Mode: the exception level and stack pointer (M\[3:0\]).
        M OFFSET(0) NUMBITS(4) [
            EL0t = 0b0000,
            EL1t = 0b0100,
            EL1h = 0b0101,
            EL2t = 0b1000,
            EL2h = 0b1001
        ],
        /// Execution state: 1 = the exception came from AArch32 (M\[4\]).
        NRW OFFSET(4) NUMBITS(1) [],
        /// FIQ mask.
        F OFFSET(6) NUMBITS(1) [],
        /// IRQ mask.
        I OFFSET(7) NUMBITS(1) [],
        /// SError mask.
        A OFFSET(8) NUMBITS(1) [],
        /// Debug exception mask.
        D OFFSET(9) NUMBITS(1) [],
        /// Branch type indicator (FEAT_BTI).
        BTYPE OFFSET(10) NUMBITS(2) [],
        /// Speculative Store Bypass Safe (FEAT_SSBS).
        SSBS OFFSET(12) NUMBITS(1) [],
        /// Illegal Execution state.
        IL OFFSET(20) NUMBITS(1) [],
        /// Software Step.
        SS OFFSET(21) NUMBITS(1) [],
        /// Privileged Access Never (FEAT_PAN).
        PAN OFFSET(22) NUMBITS(1) [],
        /// User Access Override (FEAT_UAO).
        UAO OFFSET(23) NUMBITS(1) [],
        /// Data Independent Timing (FEAT_DIT).
        DIT OFFSET(24) NUMBITS(1) [],
        /// Overflow condition flag.
        V OFFSET(28) NUMBITS(1) [],
        /// Carry condition flag.
        C OFFSET(29) NUMBITS(1) [],
        /// Zero condition flag.
        Z OFFSET(30) NUMBITS(1) [],
        /// Negative condition flag.
        N OFFSET(31) NUMBITS(1) []
    ],

    /// SCTLR_EL1: the guest's controls that decide PSTATE on exception entry
    /// (only those fields).
    pub SCTLR_EL1 [
        /// Set Privileged Access Never on exception entry: 0 = PSTATE.PAN is
        /// set to 1 when an exception is taken to EL1 (FEAT_PAN).
        SPAN OFFSET(23) NUMBITS(1) [],
        /// Default PSTATE.SSBS value on exception entry to EL1 (FEAT_SSBS).
        DSSBS OFFSET(44) NUMBITS(1) []
    ]
}

register_bitfields! {u64,
    /// ICC_SGI1R_EL1: the value a guest writes to send a Group 1 SGI.
    pub ICC_SGI1R [
        /// The set of Aff0 values targeted, one bit each (bit n = Aff0
        /// `RS * 16 + n`), in the cluster named by Aff3.Aff2.Aff1.
        TARGET_LIST OFFSET(0) NUMBITS(16) [],
        /// Affinity level 1 of the target cluster.
        AFF1 OFFSET(16) NUMBITS(8) [],
        /// The SGI number (INTID 0 to 15).
        INTID OFFSET(24) NUMBITS(4) [],
        /// Affinity level 2 of the target cluster.
        AFF2 OFFSET(32) NUMBITS(8) [],
        /// Interrupt Routing Mode: 1 = every PE except the sender.
        IRM OFFSET(40) NUMBITS(1) [],
        /// Range Selector: the target list covers Aff0 `RS * 16` to
        /// `RS * 16 + 15`.
        RS OFFSET(44) NUMBITS(4) [],
        /// Affinity level 3 of the target cluster.
        AFF3 OFFSET(48) NUMBITS(8) []
    ]
}

register_bitfields! {u64,
    /// CPTR_EL2 with `HCR_EL2.E2H` = 0: what EL0/EL1 (and EL2) accesses trap.
    pub CPTR_EL2 [
        /// RES1 bits 7:0.
        RES1_LOW OFFSET(0) NUMBITS(8) [],
        /// Trap SVE (and its registers) to EL2 (RES1 without FEAT_SVE).
        TZ OFFSET(8) NUMBITS(1) [],
        /// RES1 bit 9.
        RES1_9 OFFSET(9) NUMBITS(1) [],
        /// Trap FP/SIMD to EL2.
        TFP OFFSET(10) NUMBITS(1) [],
        /// Trap SME (and streaming mode) to EL2 (RES1 without FEAT_SME).
        TSM OFFSET(12) NUMBITS(1) [],
        /// RES1 bit 13.
        RES1_13 OFFSET(13) NUMBITS(1) [],
        /// Trap the trace unit's system registers to EL2.
        TTA OFFSET(20) NUMBITS(1) [],
        /// Trap the activity monitors' registers to EL2 (FEAT_AMUv1; RES0
        /// otherwise).
        TAM OFFSET(30) NUMBITS(1) [],
        /// Trap EL1 accesses of CPACR_EL1 to EL2.
        TCPAC OFFSET(31) NUMBITS(1) []
    ],

    /// MDCR_EL2: the debug and PMU traps of EL0/EL1 (the fields used here).
    pub MDCR_EL2 [
        /// The number of PMU event counters EL0/EL1 may access.
        HPMN OFFSET(0) NUMBITS(5) [],
        /// Trap PMCR_EL0 accesses.
        TPMCR OFFSET(5) NUMBITS(1) [],
        /// Trap every PMU register access.
        TPM OFFSET(6) NUMBITS(1) [],
        /// Route debug exceptions to EL2 (kept 0: the guest's own).
        TDE OFFSET(8) NUMBITS(1) [],
        /// Trap the debug registers (breakpoints, watchpoints, MDSCR_EL1,
        /// claim tags, the debug communication channel).
        TDA OFFSET(9) NUMBITS(1) [],
        /// Trap the OS lock and power-down registers (OSLAR, OSLSR, OSDLR,
        /// DBGPRCR).
        TDOSA OFFSET(10) NUMBITS(1) [],
        /// Trap MDRAR_EL1.
        TDRA OFFSET(11) NUMBITS(1) [],
        /// Profiling buffer owner (FEAT_SPE): 0 = EL2, EL1 accesses trap.
        E2PB OFFSET(12) NUMBITS(2) [],
        /// Trap the statistical profiling controls (FEAT_SPE; RES0
        /// otherwise).
        TPMS OFFSET(14) NUMBITS(1) [],
        /// Trap TRFCR_EL1 (FEAT_TRF; RES0 otherwise).
        TTRF OFFSET(19) NUMBITS(1) [],
        /// Trace buffer owner (FEAT_TRBE): 0 = EL2, EL1 accesses trap.
        E2TB OFFSET(24) NUMBITS(2) []
    ],

    /// The fields of the hardware's ID registers the EL2 setup depends on.
    pub HW_ID_AA64PFR0 [
        /// RAS extension (0 = none).
        RAS OFFSET(28) NUMBITS(4) [],
        /// Activity monitors (0 = none).
        AMU OFFSET(44) NUMBITS(4) []
    ],

    /// ID_AA64MMFR1_EL1 fields the EL2 setup depends on.
    pub HW_ID_AA64MMFR1 [
        /// VMID width: 0 = 8 bits, 2 = 16 bits.
        VMIDBITS OFFSET(4) NUMBITS(4) [
            Bits8 = 0,
            Bits16 = 2
        ],
        /// LORegions (0 = none).
        LO OFFSET(16) NUMBITS(4) [],
        /// Privileged Access Never (0 = none).
        PAN OFFSET(20) NUMBITS(4) []
    ],

    /// ID_AA64PFR1_EL1 fields the vCPU depends on.
    pub HW_ID_AA64PFR1 [
        /// Speculative Store Bypass Safe (0 = none).
        SSBS OFFSET(4) NUMBITS(4) []
    ],

    /// ID_AA64DFR0_EL1 fields the EL2 setup depends on.
    pub HW_ID_AA64DFR0 [
        /// PMU version (0 = none, 0xf = IMPLEMENTATION DEFINED).
        PMUVER OFFSET(8) NUMBITS(4) [],
        /// Breakpoints minus one.
        BRPS OFFSET(12) NUMBITS(4) [],
        /// Watchpoints minus one.
        WRPS OFFSET(20) NUMBITS(4) [],
        /// Statistical profiling (0 = none).
        PMSVER OFFSET(32) NUMBITS(4) [],
        /// Trace filter controls, TRFCR_EL1 (0 = none).
        TRACEFILT OFFSET(40) NUMBITS(4) [],
        /// Trace buffer extension (0 = none).
        TRACEBUFFER OFFSET(44) NUMBITS(4) []
    ],

    /// VTCR_EL2 fields not in the stage-2 constant.
    pub VTCR_EL2 [
        /// VMID size: 1 = 16-bit VMIDs (FEAT_VMID16).
        VS OFFSET(19) NUMBITS(1) []
    ],

    /// PMCR_EL0 fields.
    pub PMCR_EL0 [
        /// The number of event counters.
        N OFFSET(11) NUMBITS(5) []
    ]
}

/// Reads a field of at most 8 bits as a `u8`.
///
/// Every caller passes a field whose width is 8 bits or less, so the value
/// read always fits and the conversion never loses bits.
pub(crate) fn read_u8<R: tock_registers::RegisterLongName>(
    field: tock_registers::fields::Field<u64, R>,
    value: u64,
) -> u8 {
    u8::try_from(field.read(value)).unwrap_or(u8::MAX)
}
