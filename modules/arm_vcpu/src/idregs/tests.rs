//! The filter, checked against field positions written from the ARM ARM
//! register layouts with plain shifts (not the table's own numbers).

use super::fields::*;
use super::*;

/// `op0` 3, `op1` 0, `CRn` 0 encoding.
fn id(crm: u8, op2: u8) -> SysRegEncoding {
    SysRegEncoding {
        op0: 3,
        op1: 0,
        crn: 0,
        crm,
        op2,
    }
}

fn field(v: u64, shift: u32) -> u64 {
    (v >> shift) & 0xf
}

/// Every field of every register set to `value`.
fn all(value: u64) -> u64 {
    (0..16).fold(0, |acc, i| acc | (value << (4 * i)))
}

fn guest_with(hw: u64) -> GuestIdRegs {
    GuestIdRegs::new(|_| hw)
}

#[test]
fn sve_sme_amu_mpam_ras_are_hidden() {
    let g = guest_with(all(0x1));
    let pfr0 = g.read(id(4, 0)).expect("PFR0");
    assert_eq!(field(pfr0, 32), 0, "SVE");
    assert_eq!(field(pfr0, 44), 0, "AMU");
    assert_eq!(field(pfr0, 40), 0, "MPAM");
    assert_eq!(field(pfr0, 28), 0, "RAS");
    assert_eq!(field(pfr0, 8), 0, "EL2");
    let pfr1 = g.read(id(4, 1)).expect("PFR1");
    assert_eq!(field(pfr1, 24), 0, "SME");
    assert_eq!(field(pfr1, 8), 0, "MTE");
    // ID_AA64ZFR0_EL1 and ID_AA64SMFR0_EL1 read as zero whatever the CPU has.
    assert_eq!(g.read(id(4, 4)), Some(0));
    assert_eq!(g.read(id(4, 5)), Some(0));
}

#[test]
fn fp_simd_and_instruction_features_pass() {
    // FP and AdvSIMD are signed: 0xf = absent, 0 = present, 1 = with FP16.
    for hw_fp in [0x0, 0x1, 0xf] {
        let g = guest_with(hw_fp << 16 | hw_fp << 20);
        let pfr0 = g.read(id(4, 0)).expect("PFR0");
        assert_eq!(field(pfr0, 16), hw_fp, "FP");
        assert_eq!(field(pfr0, 20), hw_fp, "AdvSIMD");
    }
    let g = guest_with(all(0x2));
    let isar0 = g.read(id(6, 0)).expect("ISAR0");
    assert_eq!(field(isar0, 4), 2, "AES");
    assert_eq!(field(isar0, 20), 2, "Atomic");
    assert_eq!(field(isar0, 24), 0, "TME");
    let isar1 = g.read(id(6, 1)).expect("ISAR1");
    assert_eq!(field(isar1, 4), 0, "APA: keys are not switched");
    assert_eq!(field(isar1, 8), 0, "API");
    assert_eq!(field(isar1, 0), 2, "DPB");
}

#[test]
fn guest_is_aarch64_only_at_el0_and_el1() {
    // 2 = AArch64 and AArch32.
    let g = guest_with(0x2222);
    let pfr0 = g.read(id(4, 0)).expect("PFR0");
    assert_eq!(field(pfr0, 0), 1, "EL0");
    assert_eq!(field(pfr0, 4), 1, "EL1");
    assert_eq!(field(pfr0, 8), 0, "EL2");
    assert_eq!(field(pfr0, 12), 1, "EL3");
    // The AArch32 ID registers (CRm 1 to 3) read as zero.
    for crm in 1..=3 {
        for op2 in 0..8 {
            assert_eq!(g.read(id(crm, op2)), Some(0), "CRm {crm} op2 {op2}");
        }
    }
}

#[test]
fn debug_features_match_the_emulated_debug() {
    let hw = 0x6 // DebugVer v8.0
        | 0x1 << 4 // TraceVer
        | 0x4 << 8 // PMUVer PMUv3 for v8.1
        | 0x5 << 12 // 6 breakpoints
        | 0x3 << 20 // 4 watchpoints
        | 0x1 << 28 // 2 context-aware
        | 0x1 << 32 // SPE
        // DoubleLock (39:36) left 0: implemented
        | 0x1 << 40 // TraceFilt
        | 0x1 << 44 // TRBE
        | 0x1 << 52; // BRBE
    let g = guest_with(hw);
    let dfr0 = g.read(id(5, 0)).expect("DFR0");
    assert_eq!(field(dfr0, 0), 6, "DebugVer");
    assert_eq!(field(dfr0, 4), 0, "TraceVer");
    assert_eq!(field(dfr0, 8), 0, "PMUVer");
    assert_eq!(field(dfr0, 12) + 1, crate::debug::BREAKPOINTS as u64, "BRPs");
    assert_eq!(field(dfr0, 20) + 1, crate::debug::WATCHPOINTS as u64, "WRPs");
    assert_eq!(field(dfr0, 28), 0, "CTX_CMPs");
    assert_eq!(field(dfr0, 32), 0, "PMSVer");
    assert_eq!(field(dfr0, 36), 0, "DoubleLock");
    assert_eq!(field(dfr0, 40), 0, "TraceFilt");
    assert_eq!(field(dfr0, 44), 0, "TraceBuffer");
    assert_eq!(field(dfr0, 52), 0, "BRBE");
    // A newer debug architecture is capped at Armv8.2.
    let g = guest_with(0xb);
    assert_eq!(field(g.read(id(5, 0)).expect("DFR0"), 0), 8);
    // No double lock in the hardware: none for the guest either.
    let g = guest_with(0xf << 36);
    assert_eq!(field(g.read(id(5, 0)).expect("DFR0"), 36), 0xf);
}

#[test]
fn memory_model_caps_and_granules() {
    // PARange 48 bits (5); TGran4 and TGran64 absent (0xf, signed); TGran16
    // present (1).
    let hw = 0x5 | 0x1 << 20 | 0xf << 24 | 0xf << 28 | 0x2 << 32 | 0x1 << 56 | 0x1 << 60;
    let g = guest_with(hw);
    let mmfr0 = g.read(id(7, 0)).expect("MMFR0");
    assert_eq!(field(mmfr0, 0), 2, "PARange capped at 40 bits");
    assert_eq!(field(mmfr0, 20), 1, "TGran16");
    assert_eq!(field(mmfr0, 24), 0xf, "TGran64 absent stays absent");
    assert_eq!(field(mmfr0, 28), 0xf, "TGran4 absent stays absent");
    assert_eq!(field(mmfr0, 32), 0, "TGran16_2");
    assert_eq!(field(mmfr0, 56), 0, "FGT");
    assert_eq!(field(mmfr0, 60), 0, "ECV");
    // A smaller PARange passes.
    assert_eq!(field(guest_with(0x1).read(id(7, 0)).expect("MMFR0"), 0), 1);
    let g = guest_with(all(0x1));
    let mmfr1 = g.read(id(7, 1)).expect("MMFR1");
    assert_eq!(field(mmfr1, 4), 0, "VMIDBits");
    assert_eq!(field(mmfr1, 8), 0, "VH");
    assert_eq!(field(mmfr1, 20), 1, "PAN");
    let mmfr2 = g.read(id(7, 2)).expect("MMFR2");
    assert_eq!(field(mmfr2, 24), 0, "NV");
    assert_eq!(field(mmfr2, 4), 1, "UAO");
}

#[test]
fn csv2_is_capped_and_unknown_fields_read_as_zero() {
    let g = guest_with(u64::MAX);
    let pfr0 = g.read(id(4, 0)).expect("PFR0");
    assert_eq!(field(pfr0, 56), 1, "CSV2");
    // ID_AA64PFR1_EL1 bits 23:20 are not described: zero.
    assert_eq!(field(g.read(id(4, 1)).expect("PFR1"), 20), 0);
    // ID_AA64DFR0_EL1 bits 19:16 and 27:24 likewise.
    let dfr0 = g.read(id(5, 0)).expect("DFR0");
    assert_eq!(field(dfr0, 16), 0);
    assert_eq!(field(dfr0, 24), 0);
}

#[test]
fn whole_id_space_is_raz_except_the_table() {
    let g = guest_with(u64::MAX);
    let listed: Vec<_> = ID_REGS.iter().map(|r| (r.enc.crm, r.enc.op2)).collect();
    for crm in 1..=7u8 {
        for op2 in 0..8u8 {
            let v = g.read(id(crm, op2));
            if listed.contains(&(crm, op2)) {
                assert!(v.is_some_and(|v| v != 0), "CRm {crm} op2 {op2}");
            } else {
                assert_eq!(v, Some(0), "CRm {crm} op2 {op2}");
            }
        }
    }
    // Outside the ID space: not answered here.
    assert_eq!(g.read(id(0, 0)), None, "MIDR_EL1");
    assert_eq!(g.read(id(8, 0)), None);
    assert_eq!(g.read(SysRegEncoding { op1: 3, ..id(4, 0) }), None);
    assert_eq!(g.read(SysRegEncoding { crn: 1, ..id(4, 0) }), None);
}

#[test]
fn table_is_well_formed() {
    for reg in ID_REGS {
        assert!(is_id_space(reg.enc), "{}", reg.name);
        let mut covered = 0u64;
        for f in reg.fields {
            assert_eq!(f.shift % 4, 0, "{}.{}", reg.name, f.name);
            assert!(f.shift < 64, "{}.{}", reg.name, f.name);
            let mask = 0xfu64 << f.shift;
            assert_eq!(covered & mask, 0, "{}.{} overlaps", reg.name, f.name);
            covered |= mask;
        }
    }
    for (i, a) in ID_REGS.iter().enumerate() {
        for b in &ID_REGS[i + 1..] {
            assert_ne!(a.enc, b.enc, "{} and {}", a.name, b.name);
        }
    }
}

#[test]
fn filter_applies_each_rule() {
    const REG: IdRegRule = IdRegRule {
        name: "TEST",
        enc: SysRegEncoding {
            op0: 3,
            op1: 0,
            crn: 0,
            crm: 4,
            op2: 0,
        },
        fields: &[
            FieldRule {
                name: "P",
                shift: 0,
                rule: Rule::Pass,
            },
            FieldRule {
                name: "C",
                shift: 4,
                rule: Rule::Cap(2),
            },
            FieldRule {
                name: "Z",
                shift: 8,
                rule: Rule::Zero,
            },
            FieldRule {
                name: "F",
                shift: 60,
                rule: Rule::Fixed(0xf),
            },
        ],
    };
    assert_eq!(filter(&REG, 0x0000_0000_0000_0777), 0xf000_0000_0000_0027);
    assert_eq!(filter(&REG, 0x0fff_ffff_ffff_f111), 0xf000_0000_0000_0011);
}
