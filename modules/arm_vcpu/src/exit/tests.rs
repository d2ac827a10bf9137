use super::*;
use crate::esr::decode_sync;
use crate::inject::{GuestException, GuestState, inject_fault};
use crate::test_util::{Dabt, Rng, esr, hpfar, iabt, sys64};

use AccessWidth::{Byte, Dword, Qword, Word};

/// Guest registers where Xn = 0x1111_1111_1111_1111 * n pattern-ish:
/// distinct, with bytes that have the sign bit set.
fn regs() -> [u64; 31] {
    let mut regs = [0u64; 31];
    for (n, reg) in regs.iter_mut().enumerate() {
        *reg = 0xf0e0_d0c0_b0a0_9080 ^ (n as u64);
    }
    regs
}

fn decide(esr: u64, far: u64, hpfar: u64, regs: &[u64; 31]) -> ExitDecision {
    exit_from_sync(decode_sync(esr, far, hpfar), regs)
}

fn exit(reason: AxVCpuExitReason, x0: Option<u64>, advance_pc: bool) -> ExitDecision {
    ExitDecision::Exit { reason, x0, advance_pc }
}

#[test]
fn instruction_length_follows_il() {
    assert_eq!(instruction_len(esr(0x24, true, 0)), 4);
    assert_eq!(instruction_len(esr(0x24, false, 0)), 2);
    assert_eq!(instruction_len(esr(0x01, false, 0x1ff_ffff)), 2);
    assert_eq!(instruction_len(u64::MAX), 4);
    assert_eq!(instruction_len(!(1 << 25)), 2);
}

#[test]
fn mmio_read_result_table() {
    // Value whose low byte, halfword and word are negative and whose
    // doubleword is positive, and the opposite.
    const A: u64 = 0x0123_4567_89ab_cdef;
    const B: u64 = 0xfedc_ba98_7654_3210;
    #[rustfmt::skip]
    let table: &[(u64, AccessWidth, bool, AccessWidth, u64)] = &[
        // value, width, signed, register, expected
        (A, Byte,  false, Dword, 0x0000_0000_0000_00ef),
        (A, Byte,  false, Qword, 0x0000_0000_0000_00ef),
        (A, Byte,  true,  Dword, 0x0000_0000_ffff_ffef), // LDRSB Wt
        (A, Byte,  true,  Qword, 0xffff_ffff_ffff_ffef), // LDRSB Xt
        (A, Word,  false, Dword, 0x0000_0000_0000_cdef),
        (A, Word,  false, Qword, 0x0000_0000_0000_cdef),
        (A, Word,  true,  Dword, 0x0000_0000_ffff_cdef), // LDRSH Wt
        (A, Word,  true,  Qword, 0xffff_ffff_ffff_cdef), // LDRSH Xt
        (A, Dword, false, Dword, 0x0000_0000_89ab_cdef),
        (A, Dword, false, Qword, 0x0000_0000_89ab_cdef),
        (A, Dword, true,  Dword, 0x0000_0000_89ab_cdef),
        (A, Dword, true,  Qword, 0xffff_ffff_89ab_cdef), // LDRSW Xt
        (A, Qword, false, Dword, 0x0000_0000_89ab_cdef),
        (A, Qword, false, Qword, 0x0123_4567_89ab_cdef),
        (A, Qword, true,  Dword, 0x0000_0000_89ab_cdef),
        (A, Qword, true,  Qword, 0x0123_4567_89ab_cdef),
        (B, Byte,  false, Dword, 0x0000_0000_0000_0010),
        (B, Byte,  false, Qword, 0x0000_0000_0000_0010),
        (B, Byte,  true,  Dword, 0x0000_0000_0000_0010),
        (B, Byte,  true,  Qword, 0x0000_0000_0000_0010),
        (B, Word,  false, Dword, 0x0000_0000_0000_3210),
        (B, Word,  false, Qword, 0x0000_0000_0000_3210),
        (B, Word,  true,  Dword, 0x0000_0000_0000_3210),
        (B, Word,  true,  Qword, 0x0000_0000_0000_3210),
        (B, Dword, false, Dword, 0x0000_0000_7654_3210),
        (B, Dword, false, Qword, 0x0000_0000_7654_3210),
        (B, Dword, true,  Dword, 0x0000_0000_7654_3210),
        (B, Dword, true,  Qword, 0x0000_0000_7654_3210),
        (B, Qword, false, Dword, 0x0000_0000_7654_3210),
        (B, Qword, false, Qword, 0xfedc_ba98_7654_3210),
        (B, Qword, true,  Dword, 0x0000_0000_7654_3210),
        (B, Qword, true,  Qword, 0xfedc_ba98_7654_3210),
    ];
    for &(value, width, signed, reg_width, expected) in table {
        assert_eq!(
            mmio_read_result(value, width, signed, reg_width),
            expected,
            "{value:#x} {width:?} signed={signed} {reg_width:?}"
        );
    }
    // Register widths the decoder never produces truncate the same way.
    assert_eq!(mmio_read_result(A, Byte, true, Word), 0xffef);
    assert_eq!(mmio_read_result(A, Word, true, Byte), 0xef);
}

#[test]
fn mmio_read_exit() {
    for (sas, width) in [(0, Byte), (1, Word), (2, Dword), (3, Qword)] {
        for sse in [false, true] {
            for sf in [false, true] {
                let d = Dabt {
                    sse,
                    sf,
                    ..Dabt::mmio(sas, 4, false)
                };
                assert_eq!(
                    decide(d.esr(), 0x0c, hpfar(0x0900_0000), &regs()),
                    exit(
                        AxVCpuExitReason::MmioRead {
                            addr: GuestPhysAddr::from(0x0900_000c),
                            width,
                            reg: 4,
                            reg_width: if sf { Qword } else { Dword },
                            signed_ext: sse,
                        },
                        None,
                        true,
                    )
                );
            }
        }
    }
}

#[test]
fn mmio_write_data_is_rt_masked_to_the_width() {
    let regs = regs();
    let x9 = regs[9];
    for (sas, width, mask) in [
        (0, Byte, 0xff),
        (1, Word, 0xffff),
        (2, Dword, 0xffff_ffff),
        (3, Qword, u64::MAX),
    ] {
        assert_eq!(
            decide(Dabt::mmio(sas, 9, true).esr(), 0, hpfar(0x0900_0000), &regs),
            exit(
                AxVCpuExitReason::MmioWrite {
                    addr: GuestPhysAddr::from(0x0900_0000),
                    width,
                    data: x9 & mask,
                },
                None,
                true,
            )
        );
    }
}

#[test]
fn mmio_write_of_xzr_is_zero() {
    // Every register non-zero: XZR must still read as 0.
    let regs = [u64::MAX; 31];
    assert_eq!(
        decide(Dabt::mmio(3, 31, true).esr(), 0, hpfar(0x0900_0000), &regs),
        exit(
            AxVCpuExitReason::MmioWrite {
                addr: GuestPhysAddr::from(0x0900_0000),
                width: Qword,
                data: 0,
            },
            None,
            true,
        )
    );
}

#[test]
fn mmio_read_into_xzr_names_register_31() {
    // The host's set_gpr ignores 31, which discards the value as the
    // architecture does.
    let decision = decide(Dabt::mmio(2, 31, false).esr(), 0, hpfar(0x1000), &regs());
    assert!(matches!(
        decision,
        ExitDecision::Exit {
            reason: AxVCpuExitReason::MmioRead { reg: 31, .. },
            ..
        }
    ));
}

#[test]
fn abort_decisions() {
    let regs = regs();
    let with = |dfsc: u64, base: Dabt| Dabt { dfsc, ..base };
    // Access flag fault with syndrome: the host fixes the mapping, retry.
    assert_eq!(
        decide(with(0b00_1011, Dabt::mmio(2, 0, true)).esr(), 0x4, hpfar(0x8000), &regs),
        exit(
            AxVCpuExitReason::NestedPageFault {
                addr: GuestPhysAddr::from(0x8004),
                access_flags: AccessFlags::READ | AccessFlags::WRITE,
            },
            None,
            false,
        )
    );
    // Address size fault: nothing can be there.
    assert_eq!(
        decide(
            with(0b00_0001, Dabt::mmio(2, 0, false)).esr(),
            0x4,
            hpfar(0x8000),
            &regs
        ),
        ExitDecision::InjectDataAbort { far: Some(0x4) }
    );
    // Permission fault: no IPA, inject.
    assert_eq!(
        decide(with(0b00_1111, Dabt::mmio(2, 0, true)).esr(), 0x44, 0, &regs),
        ExitDecision::InjectDataAbort { far: Some(0x44) }
    );
    // External abort with FnV: inject without an address.
    let sea = Dabt {
        fnv: true,
        dfsc: 0b01_0000,
        ..Dabt::default()
    };
    assert_eq!(
        decide(sea.esr(), 0x44, 0, &regs),
        ExitDecision::InjectDataAbort { far: None }
    );
}

#[test]
fn aborts_without_syndrome() {
    let regs = regs();
    let no_isv = |write| Dabt {
        isv: false,
        ..Dabt::mmio(0, 0, write)
    };
    for write in [false, true] {
        assert_eq!(
            decide(no_isv(write).esr(), 0xffff_0000_0000_0120, hpfar(0x0a00_0000), &regs),
            ExitDecision::DataAbortNoSyndrome {
                gpa: GuestPhysAddr::from(0x0a00_0120),
                far: 0xffff_0000_0000_0120,
                write,
            }
        );
    }
    // A cache maintenance instruction on an unmapped IPA is skipped.
    let cm = Dabt {
        cm: true,
        ..no_isv(true)
    };
    assert_eq!(
        decide(cm.esr(), 0, hpfar(0x0a00_0000), &regs),
        exit(AxVCpuExitReason::Nothing, None, true)
    );
    // Without syndrome, an access flag fault is still the host's.
    let af = Dabt {
        dfsc: 0b00_1010,
        ..no_isv(false)
    };
    assert_eq!(
        decide(af.esr(), 0, hpfar(0x0a00_0000), &regs),
        exit(
            AxVCpuExitReason::NestedPageFault {
                addr: GuestPhysAddr::from(0x0a00_0000),
                access_flags: AccessFlags::READ,
            },
            None,
            false,
        )
    );
}

#[test]
fn instruction_and_table_walk_aborts() {
    let regs = regs();
    assert_eq!(
        decide(iabt(0b00_0111, false, false), 0x4000_0010, hpfar(0x4000_0000), &regs),
        exit(
            AxVCpuExitReason::NestedPageFault {
                addr: GuestPhysAddr::from(0x4000_0010),
                access_flags: AccessFlags::EXECUTE,
            },
            None,
            false,
        )
    );
    assert_eq!(
        decide(iabt(0b00_1101, false, false), 0x4000_0010, 0, &regs),
        ExitDecision::InjectInstructionAbort { far: Some(0x4000_0010) }
    );
    assert_eq!(
        decide(iabt(0b01_0000, false, true), 0x4000_0010, 0, &regs),
        ExitDecision::InjectInstructionAbort { far: None }
    );
    // The guest's page tables are outside its memory.
    assert_eq!(
        decide(
            iabt(0b00_0110, true, false),
            0xffff_0000_0000_0000,
            hpfar(0x7_0000),
            &regs
        ),
        exit(
            AxVCpuExitReason::NestedPageFault {
                addr: GuestPhysAddr::from(0x7_0000),
                access_flags: AccessFlags::READ,
            },
            None,
            false,
        )
    );
    let walk = Dabt {
        s1ptw: true,
        dfsc: 0b00_0010,
        ..Dabt::default()
    };
    assert_eq!(
        decide(walk.esr(), 0x5000, hpfar(0x7_0000), &regs),
        ExitDecision::InjectDataAbort { far: Some(0x5000) }
    );
}

#[test]
fn sysreg_exits() {
    let regs = regs();
    assert_eq!(
        decide(sys64(3, 3, 14, 2, 2, 12, true), 0, 0, &regs),
        exit(
            AxVCpuExitReason::SysRegRead {
                addr: crate::sysreg::CNTP_CVAL_EL0,
                reg: 12,
            },
            None,
            true,
        )
    );
    assert_eq!(
        decide(sys64(3, 3, 14, 2, 1, 2, false), 0, 0, &regs),
        exit(
            AxVCpuExitReason::SysRegWrite {
                addr: crate::sysreg::CNTP_CTL_EL0,
                value: regs[2],
            },
            None,
            true,
        )
    );
    assert_eq!(
        decide(sys64(3, 3, 14, 2, 1, 31, false), 0, 0, &regs),
        exit(
            AxVCpuExitReason::SysRegWrite {
                addr: crate::sysreg::CNTP_CTL_EL0,
                value: 0,
            },
            None,
            true,
        )
    );
}

#[test]
fn sgi1r_write_sends_an_ipi() {
    let mut regs = regs();
    // INTID 3 to Aff0 {0, 2} of cluster Aff1 = 1.
    regs[1] = (3 << 24) | (1 << 16) | 0b101;
    assert_eq!(
        decide(sys64(3, 0, 12, 11, 5, 1, false), 0, 0, &regs),
        exit(
            AxVCpuExitReason::SendIPI {
                target_cpu: 0b101,
                target_cpu_aux: 0x100,
                send_to_all: false,
                send_to_self: false,
                vector: 3,
            },
            None,
            true,
        )
    );
    // Reading ICC_SGI1R_EL1 (write-only) is a plain read exit.
    assert!(matches!(
        decide(sys64(3, 0, 12, 11, 5, 1, true), 0, 0, &regs),
        ExitDecision::Exit {
            reason: AxVCpuExitReason::SysRegRead { .. },
            ..
        }
    ));
}

#[test]
fn wfx_exits() {
    let regs = regs();
    assert_eq!(
        decide(esr(0x01, true, 0), 0, 0, &regs),
        exit(AxVCpuExitReason::Halt, None, true)
    );
    for ti in [0b01, 0b10 | (1 << 2), 0b11 | (1 << 2)] {
        assert_eq!(
            decide(esr(0x01, true, ti), 0, 0, &regs),
            exit(AxVCpuExitReason::Nothing, None, true),
            "TI {ti:#b}"
        );
    }
}

/// Registers for an SMCCC call: X0 = function id, X1.. = arguments.
fn call(x: &[u64]) -> [u64; 31] {
    let mut regs = [0u64; 31];
    regs[..x.len()].copy_from_slice(x);
    regs
}

const HVC0: u64 = 0x16 << 26 | 1 << 25;
const SMC0: u64 = 0x17 << 26 | 1 << 25;

#[test]
fn hvc_does_not_advance_but_smc_does() {
    let regs = call(&[0x8400_0000]);
    assert_eq!(
        decide(HVC0, 0, 0, &regs),
        exit(AxVCpuExitReason::Nothing, Some(0x1_0001), false)
    );
    assert_eq!(
        decide(SMC0, 0, 0, &regs),
        exit(AxVCpuExitReason::Nothing, Some(0x1_0001), true)
    );
}

#[test]
fn nonzero_immediate_is_not_supported() {
    let regs = call(&[0x8400_0000]);
    assert_eq!(
        decide(HVC0 | 0x4711, 0, 0, &regs),
        exit(AxVCpuExitReason::Nothing, Some(u64::MAX), false)
    );
}

#[test]
fn psci_exits() {
    assert_eq!(
        decide(HVC0, 0, 0, &call(&[0xC400_0003, 0x1, 0x4008_0000, 0x55])),
        exit(
            AxVCpuExitReason::CpuUp {
                target_cpu: 0x1,
                entry_point: GuestPhysAddr::from(0x4008_0000),
                arg: 0x55,
            },
            Some(0),
            false,
        )
    );
    assert_eq!(
        decide(HVC0, 0, 0, &call(&[0xC400_0003, 0x1, 0x4008_0002, 0x55])),
        exit(AxVCpuExitReason::Nothing, Some(-9i64 as u64), false)
    );
    assert_eq!(
        decide(HVC0, 0, 0, &call(&[0x8400_0002])),
        exit(AxVCpuExitReason::CpuDown { state: 0 }, Some(-3i64 as u64), false)
    );
    assert_eq!(
        decide(HVC0, 0, 0, &call(&[0xC400_0001, 0x1_0000, 0x4000_0000, 0])),
        exit(AxVCpuExitReason::Halt, Some(0), false)
    );
    assert_eq!(
        decide(HVC0, 0, 0, &call(&[0x8400_0008])),
        exit(AxVCpuExitReason::SystemDown, None, false)
    );
    assert_eq!(
        decide(HVC0, 0, 0, &call(&[0x8400_0009])),
        exit(AxVCpuExitReason::SystemReset, None, false)
    );
    assert_eq!(
        decide(SMC0, 0, 0, &call(&[0xffff_0000_8400_0004, 0xffff_0000_0000_0101, 0])),
        exit(
            AxVCpuExitReason::Hypercall {
                nr: 0x8400_0004,
                args: [0x101, 0, 0, 0, 0, 0],
            },
            None,
            true,
        )
    );
}

#[test]
fn other_calls_are_hypercalls() {
    let regs = call(&[0xC600_0002, b'h' as u64, 2, 3, 4, 5, 6, 7]);
    assert_eq!(
        decide(HVC0, 0, 0, &regs),
        exit(
            AxVCpuExitReason::Hypercall {
                nr: 0xC600_0002,
                args: [b'h' as u64, 2, 3, 4, 5, 6],
            },
            None,
            false,
        )
    );
    let AxVCpuExitReason::Hypercall { nr, args } = (match decide(HVC0, 0, 0, &regs) {
        ExitDecision::Exit { reason, .. } => reason,
        other => panic!("{other:?}"),
    }) else {
        panic!("not a hypercall");
    };
    assert_eq!(
        crate::hypercall::decode_hypercall(nr, &args),
        Some(crate::hypercall::Hypercall::PutChar(b'h'))
    );
}

#[test]
fn unknown_classes() {
    let regs = regs();
    for ec in [
        0x00u64, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0C, 0x0E, 0x11, 0x12, 0x13, 0x15, 0x19, 0x1A, 0x1D,
        0x02, 0x0B, 0x14, 0x3F,
    ] {
        assert_eq!(
            decide(esr(ec, true, 0), 0, 0, &regs),
            ExitDecision::InjectUndef,
            "EC {ec:#x}"
        );
    }
    for ec in [
        0x0Du64, 0x1C, 0x21, 0x22, 0x25, 0x26, 0x2C, 0x2F, 0x30, 0x32, 0x34, 0x3C,
    ] {
        assert_eq!(
            decide(esr(ec, true, 0), 0, 0, &regs),
            ExitDecision::Unsupported {
                ec: ExceptionClass::from_code(ec as u8)
            },
            "EC {ec:#x}"
        );
    }
}

#[test]
fn guest_faults_of_decisions() {
    assert_eq!(ExitDecision::InjectUndef.guest_fault(), Some(GuestFault::Undef));
    assert_eq!(
        ExitDecision::InjectDataAbort { far: Some(1) }.guest_fault(),
        Some(GuestFault::DataAbort { far: Some(1) })
    );
    assert_eq!(
        ExitDecision::InjectInstructionAbort { far: None }.guest_fault(),
        Some(GuestFault::InstructionAbort { far: None })
    );
    assert_eq!(exit(AxVCpuExitReason::Halt, None, true).guest_fault(), None);
}

// A failed access: what the guest sees when the host finds nothing behind
// the address of an exit (`LastExitFault::Access`). The values are written
// from the ARM ARM (ESR_ELx, SPSR_ELx, the vector offsets), not from the
// crate's fields.

/// Just past the test guest's RAM (0x4000_0000, 64 MiB): nothing there.
const PAST_RAM: u64 = 0x4400_0000;
/// The guest's VBAR_EL1.
const VBAR: u64 = 0x4008_0800;
/// PSTATE.M: EL0t, EL1h; D, A, I, F; N, Z, C, V.
const EL0T: u64 = 0b0000;
const EL1H: u64 = 0b0101;
const DAIF: u64 = 0b1111 << 6;
const NZCV: u64 = 0b1111 << 28;
/// The FSC of a synchronous external abort (not on a walk); FnV.
const FSC_SEA: u64 = 0b01_0000;
const FNV: u64 = 1 << 10;
/// Exception classes: instruction abort from a lower / the same EL, data
/// abort from a lower / the same EL.
const EC_IABT_LOWER: u64 = 0x20;
const EC_IABT_SAME: u64 = 0x21;
const EC_DABT_LOWER: u64 = 0x24;
const EC_DABT_SAME: u64 = 0x25;
/// Vector offsets from VBAR_EL1: current EL with SP_ELx, lower EL AArch64.
const CURRENT_SPX: u64 = 0x200;
const LOWER_A64: u64 = 0x400;

/// The exception the guest takes when the access of the exit (`ESR_EL2`,
/// `FAR_EL2`, `HPFAR_EL2`, taken at `pc` with `pstate`) fails; checks the
/// host saw the exit as an access it has to decide about first.
fn failed_access(esr: u64, far: u64, hpfar: u64, pstate: u64, pc: u64) -> GuestException {
    let sync = decode_sync(esr, far, hpfar);
    let decision = exit_from_sync(sync, &regs());
    assert!(
        matches!(
            decision,
            ExitDecision::Exit {
                reason: AxVCpuExitReason::NestedPageFault { .. }
                    | AxVCpuExitReason::MmioRead { .. }
                    | AxVCpuExitReason::MmioWrite { .. },
                ..
            } | ExitDecision::DataAbortNoSyndrome { .. }
        ),
        "{decision:?}"
    );
    let state = GuestState {
        pstate,
        pc,
        vbar_el1: VBAR,
        sctlr_el1: 0,
        has_pan: false,
        has_ssbs: false,
    };
    inject_fault(access_abort(&sync), &state)
}

/// A branch to an unmapped IPA: stage 2 reports a translation fault on the
/// fetch (EC 0x20 to EL2 from the guest's EL1 or EL0), FAR_EL2 = the PC.
fn fetch_past_ram(pstate: u64) -> GuestException {
    failed_access(
        iabt(0b00_0110, false, false),
        PAST_RAM,
        hpfar(PAST_RAM),
        pstate,
        PAST_RAM,
    )
}

#[test]
fn failed_fetch_from_el1_is_an_instruction_abort() {
    let e = fetch_past_ram(EL1H | DAIF | NZCV);
    assert_eq!(e.esr_el1, esr(EC_IABT_SAME, true, FSC_SEA));
    assert_eq!(e.esr_el1, 0x8600_0010);
    assert_eq!(e.far_el1, Some(PAST_RAM));
    assert_eq!(e.elr_el1, PAST_RAM);
    assert_eq!(e.spsr_el1, EL1H | DAIF | NZCV);
    assert_eq!(e.pc, VBAR + CURRENT_SPX);
    assert_eq!(e.pstate, EL1H | DAIF | NZCV);
}

#[test]
fn failed_fetch_from_el0_is_an_instruction_abort_from_a_lower_el() {
    let e = fetch_past_ram(EL0T);
    assert_eq!(e.esr_el1, esr(EC_IABT_LOWER, true, FSC_SEA));
    assert_eq!(e.esr_el1, 0x8200_0010);
    assert_eq!(e.far_el1, Some(PAST_RAM));
    assert_eq!(e.elr_el1, PAST_RAM);
    assert_eq!(e.spsr_el1, EL0T);
    assert_eq!(e.pc, VBAR + LOWER_A64);
    assert_eq!(e.pstate, EL1H | DAIF);
}

#[test]
fn failed_fetch_on_a_table_walk_is_an_instruction_abort() {
    // The guest's stage-1 tables for the fetch are not in its memory.
    let e = failed_access(
        iabt(0b00_0111, true, false),
        0x1234_5000,
        hpfar(PAST_RAM),
        EL1H,
        0x1234_5000,
    );
    assert_eq!(e.esr_el1, esr(EC_IABT_SAME, true, FSC_SEA));
    assert_eq!(e.far_el1, Some(0x1234_5000));
    // Without a valid FAR (FnV), FnV is passed on and FAR_EL1 left alone.
    let e = failed_access(iabt(0b00_0111, true, true), 0, hpfar(PAST_RAM), EL0T, 0x1234_5000);
    assert_eq!(e.esr_el1, esr(EC_IABT_LOWER, true, FNV | FSC_SEA));
    assert_eq!(e.far_el1, None);
}

#[test]
fn failed_data_access_is_still_a_data_abort() {
    const PC: u64 = 0x4008_1000;
    // LDP (no syndrome) from EL1 and from EL0, and LDR X0 (with syndrome,
    // an MMIO exit) from EL1.
    let ldp = Dabt {
        dfsc: 0b00_0110,
        ..Dabt::default()
    };
    for (esr_el2, pstate, ec, vector) in [
        (ldp.esr(), EL1H | DAIF, EC_DABT_SAME, CURRENT_SPX),
        (ldp.esr(), EL0T, EC_DABT_LOWER, LOWER_A64),
        (Dabt::mmio(0b11, 0, false).esr(), EL1H | DAIF, EC_DABT_SAME, CURRENT_SPX),
    ] {
        let e = failed_access(esr_el2, PAST_RAM + 8, hpfar(PAST_RAM), pstate, PC);
        assert_eq!(e.esr_el1, esr(ec, true, FSC_SEA), "{esr_el2:#x}");
        assert_eq!(e.far_el1, Some(PAST_RAM + 8));
        assert_eq!(e.elr_el1, PC);
        assert_eq!(e.spsr_el1, pstate);
        assert_eq!(e.pc, VBAR + vector);
        assert_eq!(e.pstate, EL1H | DAIF);
    }
}

#[test]
fn access_abort_of_an_exit_without_access_has_no_address() {
    assert_eq!(
        access_abort(&decode_sync(esr(0x01, true, 0), 0x1234, 0)),
        GuestFault::DataAbort { far: None }
    );
}

#[test]
fn arbitrary_register_values_never_panic() {
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
    let mut regs = [0u64; 31];
    for _ in 0..200_000 {
        let raw = rng.next_u64();
        // Bias half the samples towards the classes with real decoding.
        let esr = if raw & 1 == 0 {
            let ec = [0x01, 0x16, 0x17, 0x18, 0x20, 0x24][(raw >> 1) as usize % 6];
            (raw & !(0x3f << 26)) | (ec << 26)
        } else {
            raw
        };
        for reg in regs.iter_mut().take(8) {
            *reg = rng.next_u64();
        }
        // Sometimes a real PSCI id in X0.
        if raw & 2 == 0 {
            regs[0] = 0x8400_0000 | (rng.next_u64() & 0x4000_001f);
        }
        let sync = decode_sync(esr, rng.next_u64(), rng.next_u64());
        let _ = access_abort(&sync);
        let decision = exit_from_sync(sync, &regs);
        if let ExitDecision::Exit {
            reason:
                AxVCpuExitReason::MmioRead {
                    width,
                    reg_width,
                    signed_ext,
                    ..
                },
            ..
        } = decision
        {
            let _ = mmio_read_result(rng.next_u64(), width, signed_ext, reg_width);
        }
    }
}
