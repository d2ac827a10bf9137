//! The dispatch of trapped system registers, with encodings written from
//! the ARM ARM register names (`S<op0>_<op1>_C<n>_C<m>_<op2>`).

use super::*;
use crate::debug::DebugRegs;

fn enc(op0: u8, op1: u8, crn: u8, crm: u8, op2: u8) -> SysRegEncoding {
    SysRegEncoding {
        op0,
        op1,
        crn,
        crm,
        op2,
    }
}

/// Hardware whose every ID field is 1.
fn regs() -> EmulatedSysRegs {
    EmulatedSysRegs {
        id: GuestIdRegs::new(|_| 0x1111_1111_1111_1111),
        debug: DebugRegs::default(),
    }
}

use SysRegAccess::{Read, Write};
use SysRegAction as A;

#[test]
fn id_registers_read_filtered_and_writes_are_undefined() {
    let mut r = regs();
    // ID_AA64PFR0_EL1 = S3_0_C0_C4_0: SVE (35:32) hidden.
    let A::Read(pfr0) = emulate(&mut r, enc(3, 0, 0, 4, 0), Read) else {
        panic!("PFR0 not answered")
    };
    assert_eq!((pfr0 >> 32) & 0xf, 0);
    assert_eq!(pfr0 & 0xf, 1, "EL0");
    // ID_AA64ZFR0_EL1 = S3_0_C0_C4_4, an unallocated S3_0_C0_C7_7.
    assert_eq!(emulate(&mut r, enc(3, 0, 0, 4, 4), Read), A::Read(0));
    assert_eq!(emulate(&mut r, enc(3, 0, 0, 7, 7), Read), A::Read(0));
    assert_eq!(emulate(&mut r, enc(3, 0, 0, 4, 0), Write(0)), A::Undef);
    // MIDR_EL1 (CRm 0) is not in the trapped space.
    assert_eq!(emulate(&mut r, enc(3, 0, 0, 0, 0), Read), A::Host);
}

#[test]
fn pmu_registers_are_undefined() {
    let mut r = regs();
    let pmu = [
        enc(3, 3, 9, 12, 0),  // PMCR_EL0
        enc(3, 3, 9, 12, 1),  // PMCNTENSET_EL0
        enc(3, 3, 9, 13, 0),  // PMCCNTR_EL0
        enc(3, 3, 9, 14, 0),  // PMUSERENR_EL0
        enc(3, 0, 9, 14, 1),  // PMINTENSET_EL1
        enc(3, 0, 9, 14, 6),  // PMMIR_EL1
        enc(3, 3, 14, 8, 0),  // PMEVCNTR0_EL0
        enc(3, 3, 14, 12, 0), // PMEVTYPER0_EL0
        enc(3, 3, 14, 15, 7), // PMCCFILTR_EL0
    ];
    for e in pmu {
        assert_eq!(emulate(&mut r, e, Read), A::Undef, "{e}");
        assert_eq!(emulate(&mut r, e, Write(1)), A::Undef, "{e}");
    }
}

#[test]
fn amu_spe_trace_and_ras_registers_are_undefined() {
    let mut r = regs();
    let hidden = [
        enc(3, 3, 13, 2, 0), // AMCR_EL0
        enc(3, 3, 13, 4, 0), // AMEVCNTR00_EL0
        enc(3, 3, 13, 7, 7), // AMEVTYPER1<15>_EL0 area
        enc(3, 0, 9, 9, 0),  // PMSCR_EL1
        enc(3, 0, 9, 10, 0), // PMBLIMITR_EL1
        enc(3, 0, 9, 11, 0), // TRBLIMITR_EL1
        enc(3, 0, 1, 2, 1),  // TRFCR_EL1
        enc(3, 0, 5, 3, 0),  // ERRIDR_EL1
        enc(3, 0, 5, 4, 2),  // ERXSTATUS_EL1
        enc(2, 1, 0, 0, 0),  // a trace unit register
    ];
    for e in hidden {
        assert_eq!(emulate(&mut r, e, Read), A::Undef, "{e}");
    }
}

#[test]
fn other_registers_go_to_the_host() {
    let mut r = regs();
    for e in [
        enc(3, 0, 12, 11, 5), // ICC_SGI1R_EL1
        enc(3, 0, 12, 11, 7), // ICC_SGI0R_EL1
        enc(3, 0, 1, 0, 0),   // SCTLR_EL1
        enc(3, 3, 14, 0, 1),  // CNTPCT_EL0
        enc(3, 0, 9, 14, 0),  // not a PMU register (op2 0)
    ] {
        assert_eq!(emulate(&mut r, e, Read), A::Host, "{e}");
    }
}

/// Every encoding `may_emulate` rules out goes to the host, read or
/// written; and it rules out the GIC's CPU interface registers.
#[test]
fn may_emulate_rules_out_only_host_registers() {
    let mut r = regs();
    let mut ruled_out = 0;
    for op0 in 0..4 {
        for op1 in 0..8 {
            for crn in 0..16 {
                for crm in 0..16 {
                    for op2 in 0..8 {
                        let e = enc(op0, op1, crn, crm, op2);
                        if may_emulate(e) {
                            continue;
                        }
                        ruled_out += 1;
                        assert_eq!(emulate(&mut r, e, Read), A::Host, "{e}");
                        assert_eq!(emulate(&mut r, e, Write(!0)), A::Host, "{e}");
                    }
                }
            }
        }
    }
    assert!(ruled_out > 40_000, "{ruled_out}");
    assert!(!may_emulate(enc(3, 0, 12, 11, 5)), "ICC_SGI1R_EL1");
    assert!(!may_emulate(enc(3, 0, 12, 12, 4)), "ICC_CTLR_EL1");
    assert!(may_emulate(enc(3, 0, 0, 4, 0)), "ID_AA64PFR0_EL1");
    assert!(may_emulate(enc(2, 0, 0, 2, 2)), "MDSCR_EL1");
}

#[test]
fn breakpoints_and_watchpoints_are_kept_per_vcpu() {
    let mut r = regs();
    let mut other = regs();
    // DBGBVR1_EL1 = S2_0_C0_C1_4, DBGBCR0_EL1 = S2_0_C0_C0_5,
    // DBGWVR1_EL1 = S2_0_C0_C1_6, DBGWCR0_EL1 = S2_0_C0_C0_7.
    let regs_ = [
        enc(2, 0, 0, 1, 4),
        enc(2, 0, 0, 0, 5),
        enc(2, 0, 0, 1, 6),
        enc(2, 0, 0, 0, 7),
    ];
    for (i, e) in regs_.into_iter().enumerate() {
        let v = 0x1000 + i as u64;
        assert_eq!(emulate(&mut r, e, Write(v)), A::Written, "{e}");
        assert_eq!(emulate(&mut r, e, Read), A::Read(v), "{e}");
        assert_eq!(emulate(&mut other, e, Read), A::Read(0), "{e} of another vCPU");
    }
    // Breakpoint 2 and watchpoint 2 do not exist.
    assert_eq!(emulate(&mut r, enc(2, 0, 0, 2, 4), Read), A::Undef);
    assert_eq!(emulate(&mut r, enc(2, 0, 0, 2, 7), Write(1)), A::Undef);
    assert_eq!(emulate(&mut r, enc(2, 0, 0, 15, 5), Read), A::Undef);
}

#[test]
fn os_lock_and_double_lock() {
    let mut r = regs();
    // OSLSR_EL1 = S2_0_C1_C1_4: OSLM = 0b10 (bit 3), locked at reset (bit 1).
    assert_eq!(emulate(&mut r, enc(2, 0, 1, 1, 4), Read), A::Read(0b1010));
    // OSLAR_EL1 = S2_0_C1_C0_4: write-only.
    assert_eq!(emulate(&mut r, enc(2, 0, 1, 0, 4), Write(0)), A::Written);
    assert_eq!(emulate(&mut r, enc(2, 0, 1, 1, 4), Read), A::Read(0b1000));
    assert_eq!(emulate(&mut r, enc(2, 0, 1, 0, 4), Read), A::Undef);
    assert_eq!(emulate(&mut r, enc(2, 0, 1, 1, 4), Write(0)), A::Undef);
    assert!(!r.debug.os_locked());
    // OSDLR_EL1 = S2_0_C1_C3_4.
    assert_eq!(emulate(&mut r, enc(2, 0, 1, 3, 4), Write(0xff)), A::Written);
    assert_eq!(emulate(&mut r, enc(2, 0, 1, 3, 4), Read), A::Read(1));
}

#[test]
fn other_debug_registers() {
    let mut r = regs();
    // MDSCR_EL1 = S2_0_C0_C2_2: the live register.
    assert_eq!(emulate(&mut r, enc(2, 0, 0, 2, 2), Read), A::LiveMdscr);
    assert_eq!(emulate(&mut r, enc(2, 0, 0, 2, 2), Write(1)), A::LiveMdscr);
    // MDRAR_EL1 = S2_0_C1_C0_0: RAZ, read-only.
    assert_eq!(emulate(&mut r, enc(2, 0, 1, 0, 0), Read), A::Read(0));
    assert_eq!(emulate(&mut r, enc(2, 0, 1, 0, 0), Write(1)), A::Undef);
    // DBGCLAIMSET_EL1 = S2_0_C7_C8_6, DBGPRCR_EL1 = S2_0_C1_C4_4,
    // MDCCINT_EL1 = S2_0_C0_C2_0, DBGDTR_EL0 = S2_3_C0_C4_0: RAZ/WI.
    for e in [
        enc(2, 0, 7, 8, 6),
        enc(2, 0, 1, 4, 4),
        enc(2, 0, 0, 2, 0),
        enc(2, 3, 0, 4, 0),
    ] {
        assert_eq!(emulate(&mut r, e, Write(u64::MAX)), A::Written, "{e}");
        assert_eq!(emulate(&mut r, e, Read), A::Read(0), "{e}");
    }
    // MDCCSR_EL0 = S2_3_C0_C1_0: read-only zero.
    assert_eq!(emulate(&mut r, enc(2, 3, 0, 1, 0), Read), A::Read(0));
    assert_eq!(emulate(&mut r, enc(2, 3, 0, 1, 0), Write(0)), A::Undef);
    // An unallocated debug encoding.
    assert_eq!(emulate(&mut r, enc(2, 0, 3, 3, 3), Read), A::Undef);
}
