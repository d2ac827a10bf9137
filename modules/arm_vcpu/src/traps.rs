//! The EL2 trap controls that make the guest see what [`crate::idregs`]
//! tells it, computed from the hardware's ID registers (so a bit that is
//! RES0 on this CPU is never set):
//!
//! - [`cptr_el2`]: FP/SIMD free (the vCPU switches that state); SVE (`TZ`),
//!   SME (`TSM`), the trace unit's registers (`TTA`) and the activity
//!   monitors (`TAM`, where implemented) trap. SVE and SME instructions
//!   come back as exception classes 0x19 and 0x1D, the register accesses
//!   as 0x18; all of them give the guest an Undefined Instruction
//!   exception ([`crate::exit`], [`crate::emulate`]).
//! - [`mdcr_el2`]: every PMU access traps (`TPM`, `TPMCR`), and so do the
//!   debug registers (`TDA`, `TDOSA`, `TDRA`), statistical profiling
//!   (`TPMS`, the profiling buffer owned by EL2) and trace filtering
//!   (`TTRF`) where implemented; the trace buffer is owned by EL2. Debug
//!   exceptions stay with the guest (`TDE` = 0). `HPMN` keeps the
//!   hardware's counter count (a value of 0 is not architected without
//!   FEAT_HPMN0); it does not matter while `TPM` traps everything.
//! - [`hcr_el2_feature_traps`]: the ID registers (`TID3`), and where the
//!   hardware has them, the RAS error records (`TERR`) and the LORegion
//!   registers (`TLOR`), which the guest is told do not exist.

use tock_registers::LocalRegisterCopy;

use crate::fields::{CPTR_EL2, HW_ID_AA64DFR0, HW_ID_AA64MMFR1, HW_ID_AA64PFR0, MDCR_EL2, PMCR_EL0};

/// HCR_EL2.TID3: trap the ID group 3 registers.
pub const HCR_TID3: u64 = 1 << 18;
/// HCR_EL2.TLOR: trap the LORegion registers (FEAT_LOR; RES0 otherwise).
pub const HCR_TLOR: u64 = 1 << 35;
/// HCR_EL2.TERR: trap the RAS error record registers (FEAT_RAS; RES0
/// otherwise).
pub const HCR_TERR: u64 = 1 << 36;

/// CPTR_EL2 for guests, on a CPU whose `ID_AA64PFR0_EL1` is `pfr0`.
pub fn cptr_el2(pfr0: u64) -> u64 {
    let pfr0 = LocalRegisterCopy::<u64, HW_ID_AA64PFR0::Register>::new(pfr0);
    let mut v = LocalRegisterCopy::<u64, CPTR_EL2::Register>::new(0);
    v.modify(
        CPTR_EL2::RES1_LOW.val(0xff)
            + CPTR_EL2::RES1_9::SET
            + CPTR_EL2::RES1_13::SET
            + CPTR_EL2::TZ::SET
            + CPTR_EL2::TSM::SET
            + CPTR_EL2::TTA::SET
            + CPTR_EL2::TFP::CLEAR,
    );
    if pfr0.read(HW_ID_AA64PFR0::AMU) != 0 {
        v.modify(CPTR_EL2::TAM::SET);
    }
    v.get()
}

/// MDCR_EL2 for guests, on a CPU whose `ID_AA64DFR0_EL1` is `dfr0` and
/// whose `PMCR_EL0` is `pmcr` (read only where a PMU exists; pass 0
/// otherwise).
pub fn mdcr_el2(dfr0: u64, pmcr: u64) -> u64 {
    let dfr0 = LocalRegisterCopy::<u64, HW_ID_AA64DFR0::Register>::new(dfr0);
    let mut v = LocalRegisterCopy::<u64, MDCR_EL2::Register>::new(0);
    v.modify(
        MDCR_EL2::TPM::SET
            + MDCR_EL2::TPMCR::SET
            + MDCR_EL2::TDA::SET
            + MDCR_EL2::TDOSA::SET
            + MDCR_EL2::TDRA::SET
            + MDCR_EL2::TDE::CLEAR
            + MDCR_EL2::E2PB.val(0)
            + MDCR_EL2::E2TB.val(0),
    );
    if has_pmu(dfr0.get()) {
        v.modify(MDCR_EL2::HPMN.val(PMCR_EL0::N.read(pmcr)));
    }
    if dfr0.read(HW_ID_AA64DFR0::PMSVER) != 0 {
        v.modify(MDCR_EL2::TPMS::SET);
    }
    if dfr0.read(HW_ID_AA64DFR0::TRACEFILT) != 0 {
        v.modify(MDCR_EL2::TTRF::SET);
    }
    v.get()
}

/// Whether `ID_AA64DFR0_EL1` = `dfr0` describes an architected PMU (so
/// that `PMCR_EL0` can be read at EL2).
pub fn has_pmu(dfr0: u64) -> bool {
    /// PMUVer 0xf: an IMPLEMENTATION DEFINED PMU, not PMUv3.
    const PMU_IMPDEF: u64 = 0xf;
    let ver = HW_ID_AA64DFR0::PMUVER.read(dfr0);
    ver != 0 && ver != PMU_IMPDEF
}

/// The HCR_EL2 trap bits for hidden features, on a CPU whose
/// `ID_AA64PFR0_EL1` is `pfr0` and `ID_AA64MMFR1_EL1` is `mmfr1`.
pub fn hcr_el2_feature_traps(pfr0: u64, mmfr1: u64) -> u64 {
    let mut v = HCR_TID3;
    if HW_ID_AA64PFR0::RAS.read(pfr0) != 0 {
        v |= HCR_TERR;
    }
    if HW_ID_AA64MMFR1::LO.read(mmfr1) != 0 {
        v |= HCR_TLOR;
    }
    v
}

/// The VMID width of a CPU whose `ID_AA64MMFR1_EL1` is `mmfr1`: 16 or 8.
pub fn vmid_bits(mmfr1: u64) -> u32 {
    let mmfr1 = LocalRegisterCopy::<u64, HW_ID_AA64MMFR1::Register>::new(mmfr1);
    if mmfr1.matches_all(HW_ID_AA64MMFR1::VMIDBITS::Bits16) {
        16
    } else {
        8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CPTR_EL2 (E2H = 0) per the ARM ARM: TZ 8, TFP 10, TSM 12, TTA 20,
    /// TAM 30, TCPAC 31; RES1 7:0, 9, 13.
    const TZ: u64 = 1 << 8;
    const TFP: u64 = 1 << 10;
    const TSM: u64 = 1 << 12;
    const TTA: u64 = 1 << 20;
    const TAM: u64 = 1 << 30;
    const TCPAC: u64 = 1 << 31;
    const RES1: u64 = 0xff | 1 << 9 | 1 << 13;

    #[test]
    fn cptr_traps_sve_sme_trace_not_fp() {
        let v = cptr_el2(0);
        assert_eq!(v, RES1 | TZ | TSM | TTA);
        assert_eq!(v & TFP, 0, "FP/SIMD must not trap");
        assert_eq!(v & (TAM | TCPAC), 0);
        // The old value trapped SVE and SME but not trace.
        assert_ne!(v, 0x33ff);
        assert_eq!(v & 0x33ff, 0x33ff);
        // With AMU (ID_AA64PFR0_EL1.AMU, bits 47:44) TAM traps it.
        assert_eq!(cptr_el2(1 << 44), RES1 | TZ | TSM | TTA | TAM);
    }

    /// MDCR_EL2 per the ARM ARM: HPMN 4:0, TPMCR 5, TPM 6, TDE 8, TDA 9,
    /// TDOSA 10, TDRA 11, E2PB 13:12, TPMS 14, TTRF 19, E2TB 25:24.
    #[test]
    fn mdcr_traps_pmu_and_debug() {
        let base = 1 << 5 | 1 << 6 | 1 << 9 | 1 << 10 | 1 << 11;
        // No PMU (PMUVer 0), no SPE, no TRF: PMCR not consulted.
        assert_eq!(mdcr_el2(0, u64::MAX), base);
        // PMUv3 (PMUVer 1, bits 11:8) with 6 counters (PMCR_EL0.N, 15:11).
        assert_eq!(mdcr_el2(1 << 8, 6 << 11), base | 6);
        // An IMPLEMENTATION DEFINED PMU (0xf) is not PMUv3.
        assert_eq!(mdcr_el2(0xf << 8, 6 << 11), base);
        // SPE (PMSVer, 35:32) and TRF (TraceFilt, 43:40).
        assert_eq!(mdcr_el2(1 << 32 | 1 << 40, 0), base | 1 << 14 | 1 << 19);
        assert_eq!(
            mdcr_el2(u64::MAX, 0) & (1 << 8 | 3 << 12 | 3 << 24),
            0,
            "TDE, E2PB, E2TB"
        );
    }

    #[test]
    fn hcr_traps_id_registers_and_hidden_features() {
        assert_eq!(hcr_el2_feature_traps(0, 0), 1 << 18);
        // RAS: ID_AA64PFR0_EL1 bits 31:28; LO: ID_AA64MMFR1_EL1 bits 19:16.
        assert_eq!(hcr_el2_feature_traps(1 << 28, 0), 1 << 18 | 1 << 36);
        assert_eq!(hcr_el2_feature_traps(0, 1 << 16), 1 << 18 | 1 << 35);
    }

    #[test]
    fn vmid_width() {
        // ID_AA64MMFR1_EL1.VMIDBits, bits 7:4: 0 = 8 bits, 2 = 16 bits.
        assert_eq!(vmid_bits(0), 8);
        assert_eq!(vmid_bits(2 << 4), 16);
        assert_eq!(vmid_bits(1 << 4), 8);
    }
}
