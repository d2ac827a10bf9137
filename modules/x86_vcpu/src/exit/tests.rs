use super::mmio::*;
use super::*;
use crate::decode::{AluOp, Extension, MmioInstruction, MmioOp, Source};
use crate::regs::{Gpr, GprPart};
use axvcpu::LastExitFault;

fn fake_cpuid(leaf: u32, subleaf: u32) -> CpuidResult {
    CpuidResult {
        eax: leaf,
        ebx: subleaf,
        ecx: 1 << 5,
        edx: 0xdd,
    }
}

const ENV: ExitEnv = ExitEnv {
    ids: (5, 1),
    cpuid: CpuidContext {
        apic_id: 0,
        osxsave: false,
        xcr0_supported: 0b111,
    },
    host_cpuid: fake_cpuid,
};

fn regs() -> GeneralRegisters {
    GeneralRegisters {
        rax: 0x1111_2222_3333_4444,
        rbx: 0xb,
        rcx: 0xffff_ffff_0000_000c,
        rdx: 0xd,
        rsi: 0x51,
        rdi: 0xd1,
        r8: 0x8,
        ..Default::default()
    }
}

#[test]
fn cpuid_is_answered_in_registers() {
    let mut r = regs();
    r.rax = 0xffff_ffff_0000_0007;
    r.rcx = 3;
    assert_eq!(
        decide(GuestExit::Cpuid { len: 2 }, &mut r, &ENV),
        ExitAction::Resume { advance: 2 }
    );
    // Leaf 7, sub-leaf 3, upper halves cleared.
    assert_eq!((r.rax, r.rbx, r.rcx, r.rdx), (7, 3, 1 << 5, 0xdd));
    r.rax = 1;
    decide(GuestExit::Cpuid { len: 2 }, &mut r, &ENV);
    assert_eq!(r.rcx, 1 << 31, "VMX hidden, hypervisor bit set");
}

#[test]
fn hlt_hypercall_and_io() {
    let mut r = regs();
    assert_eq!(
        decide(GuestExit::Hlt { len: 1 }, &mut r, &ENV),
        ExitAction::Exit {
            reason: AxVCpuExitReason::Halt,
            advance: 1
        }
    );
    assert_eq!(
        decide(GuestExit::Hypercall { len: 3 }, &mut r, &ENV),
        ExitAction::Exit {
            reason: AxVCpuExitReason::Hypercall {
                nr: 0x1111_2222_3333_4444,
                args: [0xb, 0xffff_ffff_0000_000c, 0xd, 0x51, 0xd1, 0x8]
            },
            advance: 3
        }
    );
    // The vCPU answers the hypervisor's calls it knows: VM 5's vCPU 1.
    let mut h = regs();
    for (nr, answer) in [(0xC600_0001, 5), (0xC600_0003, 1), (0xC600_0000, 1 << 16)] {
        h.rax = nr;
        assert_eq!(
            decide(GuestExit::Hypercall { len: 3 }, &mut h, &ENV),
            ExitAction::Resume { advance: 3 }
        );
        assert_eq!(h.rax, answer, "{nr:#x}");
    }
    // PUTCHAR is the host's; a number with upper bits set is none of the
    // ABI's (the host answers it NOT_SUPPORTED).
    for nr in [0xC600_0002, 0x1_C600_0001] {
        h.rax = nr;
        assert!(matches!(
            decide(GuestExit::Hypercall { len: 3 }, &mut h, &ENV),
            ExitAction::Exit {
                reason: AxVCpuExitReason::Hypercall { nr: n, .. },
                advance: 3
            } if n == nr
        ));
    }
    assert_eq!(
        decide(
            GuestExit::IoOut {
                port: 0x3f8,
                width: AccessWidth::Byte,
                len: 1
            },
            &mut r,
            &ENV
        ),
        ExitAction::Exit {
            reason: AxVCpuExitReason::IoWrite {
                port: Port(0x3f8),
                width: AccessWidth::Byte,
                data: 0x44
            },
            advance: 1
        }
    );
    assert_eq!(
        decide(
            GuestExit::IoIn {
                port: 0x60,
                width: AccessWidth::Word,
                len: 2
            },
            &mut r,
            &ENV
        ),
        ExitAction::Exit {
            reason: AxVCpuExitReason::IoRead {
                port: Port(0x60),
                width: AccessWidth::Word
            },
            advance: 2
        }
    );
}

#[test]
fn msrs() {
    let mut r = regs();
    r.rcx = 0xc000_0080;
    r.rax = 0xffff_ffff_0000_0d01;
    r.rdx = 0x1;
    assert_eq!(
        decide(GuestExit::MsrWrite { len: 2 }, &mut r, &ENV),
        ExitAction::Exit {
            reason: AxVCpuExitReason::SysRegWrite {
                addr: SysRegAddr(0xc000_0080),
                value: 0x1_0000_0d01
            },
            advance: 2
        }
    );
    assert_eq!(
        decide(GuestExit::MsrRead { len: 2 }, &mut r, &ENV),
        ExitAction::Exit {
            reason: AxVCpuExitReason::SysRegRead {
                addr: SysRegAddr(0xc000_0080),
                reg: RegTarget::EdxEax.number()
            },
            advance: 2
        }
    );
    r.rcx = 0x3a;
    assert_eq!(
        decide(GuestExit::MsrRead { len: 2 }, &mut r, &ENV),
        ExitAction::Resume { advance: 2 }
    );
    assert_eq!((r.rax, r.rdx), (1, 0));
    assert_eq!(
        decide(GuestExit::MsrWrite { len: 2 }, &mut r, &ENV),
        ExitAction::Inject(Exception::GP0)
    );
}

#[test]
fn xsetbv() {
    let mut r = regs();
    r.rcx = 0;
    r.rdx = 0;
    r.rax = 0b111;
    assert_eq!(
        decide(GuestExit::Xsetbv { len: 3 }, &mut r, &ENV),
        ExitAction::SetXcr0 {
            xcr0: 0b111,
            advance: 3
        }
    );
    for bad in [0b110, 0b101, 0b1111, 1 << 40] {
        r.rax = bad & 0xffff_ffff;
        r.rdx = bad >> 32;
        assert_eq!(
            decide(GuestExit::Xsetbv { len: 3 }, &mut r, &ENV),
            ExitAction::Inject(Exception::GP0),
            "{bad:#x}"
        );
    }
    r.rax = 1;
    r.rcx = 1;
    assert_eq!(
        decide(GuestExit::Xsetbv { len: 3 }, &mut r, &ENV),
        ExitAction::Inject(Exception::GP0)
    );
    assert!(xcr0_valid(0b1110_0111, u64::MAX));
    assert!(!xcr0_valid(0b0110_0111, u64::MAX), "AVX-512 all or none");
    assert!(!xcr0_valid(0b1110_0011, u64::MAX), "AVX-512 needs AVX");
    assert!(!xcr0_valid(0b1011, u64::MAX), "MPX both or none");
    assert!(!xcr0_valid(0b11 | 1 << 17, u64::MAX), "AMX both or none");
}

#[test]
fn nested_faults() {
    let mut r = regs();
    let gpa = GuestPhysAddr::from(0xfee0_0000);
    let fault = |access, kind| GuestExit::NestedFault { gpa, access, kind };
    assert_eq!(
        decide(fault(AccessFlags::WRITE, NestedFaultKind::NotPresent), &mut r, &ENV),
        ExitAction::DecodeMmio {
            gpa,
            access: AccessFlags::WRITE
        }
    );
    let npf = |access_flags| ExitAction::Exit {
        reason: AxVCpuExitReason::NestedPageFault {
            addr: gpa,
            access_flags,
        },
        advance: 0,
    };
    let fetch = AccessFlags::READ | AccessFlags::EXECUTE;
    assert_eq!(
        decide(fault(fetch, NestedFaultKind::NotPresent), &mut r, &ENV),
        npf(fetch)
    );
    assert_eq!(
        decide(fault(AccessFlags::WRITE, NestedFaultKind::Permission), &mut r, &ENV),
        npf(AccessFlags::WRITE)
    );
    assert_eq!(
        decide(fault(AccessFlags::READ, NestedFaultKind::GuestTableWalk), &mut r, &ENV),
        npf(AccessFlags::READ)
    );
}

#[test]
fn the_rest() {
    let mut r = regs();
    let cases = [
        (GuestExit::Skip { len: 2 }, ExitAction::Resume { advance: 2 }),
        (
            GuestExit::ExternalInterrupt { vector: Some(0x20) },
            ExitAction::HostInterrupt { vector: Some(0x20) },
        ),
        (GuestExit::Nmi, ExitAction::HostNmi),
        (GuestExit::InterruptWindow, ExitAction::InterruptWindowOpen),
        (GuestExit::PreemptionTimer, exit(AxVCpuExitReason::Nothing, 0)),
        (GuestExit::Shutdown, exit(AxVCpuExitReason::SystemReset, 0)),
        (GuestExit::UndefinedInstruction, ExitAction::Inject(Exception::UD)),
        (
            GuestExit::EntryFailure { reason: 0x8000_0021 },
            exit(
                AxVCpuExitReason::FailEntry {
                    hardware_entry_failure_reason: 0x8000_0021,
                },
                0,
            ),
        ),
        (
            GuestExit::Unsupported { raw: 9, detail: 1 },
            exit(AxVCpuExitReason::Unsupported { raw: 9, detail: 1 }, 0),
        ),
    ];
    for (e, action) in cases {
        assert_eq!(decide(e, &mut r, &ENV), action, "{e:?}");
    }
    assert_eq!(r, regs(), "none of them touches a register");
}

fn insn(width: AccessWidth, op: MmioOp) -> MmioInstruction {
    MmioInstruction { len: 3, width, op }
}

#[test]
fn mmio_load_store_and_fault() {
    let r = regs();
    let gpa = GuestPhysAddr::from(0x1000);
    let dst = Gpr::new(2, AccessWidth::Dword);
    let load = insn(
        AccessWidth::Byte,
        MmioOp::Load {
            dst,
            ext: Extension::Sign,
        },
    );
    let (reason, last) = mmio_step(&load, gpa, &r, 0);
    assert_eq!(
        reason,
        AxVCpuExitReason::MmioRead {
            addr: gpa,
            width: AccessWidth::Byte,
            reg: 16 + 2,
            reg_width: AccessWidth::Dword,
            signed_ext: true
        }
    );
    // Nothing there: all ones, sign-extended into edx.
    assert_eq!(
        fault_for_last_exit(&last, LastExitFault::Access),
        FaultAction::WriteReg {
            dst,
            value: 0xffff_ffff
        }
    );
    let store = insn(
        AccessWidth::Word,
        MmioOp::Store {
            src: Source::Reg(Gpr {
                index: 0,
                part: GprPart::Low16,
            }),
        },
    );
    let (reason, last) = mmio_step(&store, gpa, &r, 0);
    assert_eq!(
        reason,
        AxVCpuExitReason::MmioWrite {
            addr: gpa,
            width: AccessWidth::Word,
            data: 0x4444
        }
    );
    assert_eq!(fault_for_last_exit(&last, LastExitFault::Access), FaultAction::Drop);
    // A store of rsp reads the stack pointer the caller passes.
    let push_rsp = insn(
        AccessWidth::Qword,
        MmioOp::Store {
            src: Source::Reg(Gpr::full(4)),
        },
    );
    assert!(matches!(
        mmio_step(&push_rsp, gpa, &r, 0x7000).0,
        AxVCpuExitReason::MmioWrite { data: 0x7000, .. }
    ));
}

#[test]
fn load_values() {
    use AccessWidth::*;
    assert_eq!(load_value(0x80, Byte, Extension::Sign, Qword), u64::MAX - 0x7f);
    assert_eq!(load_value(0x80, Byte, Extension::Sign, Word), 0xff80);
    assert_eq!(load_value(0x1_8000, Word, Extension::Zero, Qword), 0x8000);
    assert_eq!(
        load_value(0x8000_0000, Dword, Extension::Sign, Qword),
        0xffff_ffff_8000_0000
    );
    assert_eq!(load_value(u64::MAX, Qword, Extension::None, Qword), u64::MAX);
}

#[test]
fn read_modify_write_round_trip() {
    let r = regs();
    let gpa = GuestPhysAddr::from(0x2000);
    let or = insn(
        AccessWidth::Dword,
        MmioOp::Alu {
            op: AluOp::Or,
            src: Source::Imm(0x80),
        },
    );
    let (reason, mut last) = mmio_step(&or, gpa, &r, 0);
    assert_eq!(
        reason,
        AxVCpuExitReason::MmioRead {
            addr: gpa,
            width: AccessWidth::Dword,
            reg: RegTarget::MmioLatch.number(),
            reg_width: AccessWidth::Dword,
            signed_ext: false
        }
    );
    // The host's set_gpr fills the latch; nothing else is written.
    assert_eq!(
        route_set_gpr(&mut last, RegTarget::MmioLatch.number(), 0x1_0000_0001),
        None
    );
    let LastExit::MmioAlu(p) = last else { panic!("{last:?}") };
    assert_eq!(p.value, Some(1));
    let (rflags, write) = complete_alu(&p, 0x2 | 1 << 6, true).unwrap();
    assert_eq!(rflags, 0x2 | 1 << 2, "ZF cleared; 0x81 has an even number of ones: PF");
    assert_eq!(
        write,
        Some(AxVCpuExitReason::MmioWrite {
            addr: gpa,
            width: AccessWidth::Dword,
            data: 0x81
        })
    );
    // cmp writes nothing; nothing behind the address: all ones, no write.
    let cmp = insn(
        AccessWidth::Byte,
        MmioOp::Alu {
            op: AluOp::Cmp,
            src: Source::Reg(Gpr::new(1, AccessWidth::Byte)),
        },
    );
    let (_, mut last) = mmio_step(&cmp, gpa, &r, 0);
    assert_eq!(
        fault_for_last_exit(&last, LastExitFault::Access),
        FaultAction::AluFromNothing
    );
    route_set_gpr(&mut last, RegTarget::MmioLatch.number(), 0x0c);
    let LastExit::MmioAlu(p) = last else { panic!() };
    let (rflags, write) = complete_alu(&p, 0x2, true).unwrap();
    assert_eq!(write, None);
    assert_eq!(rflags, 0x2 | 1 << 6 | 1 << 2, "equal: ZF, PF");
    // The host never gave a value.
    let (_, last) = mmio_step(&or, gpa, &r, 0);
    let LastExit::MmioAlu(p) = last else { panic!() };
    assert_eq!(complete_alu(&p, 0x2, true), None);
}

#[test]
fn set_gpr_routing() {
    let mut last = LastExit::IoIn {
        width: AccessWidth::Byte,
    };
    assert_eq!(
        route_set_gpr(&mut last, 0, 0x41),
        Some(RegWrite::Gpr(Gpr::new(0, AccessWidth::Byte), 0x41))
    );
    // Only the first write after the IN is the accumulator of its width.
    assert_eq!(
        route_set_gpr(&mut last, 0, 0x41),
        Some(RegWrite::Gpr(Gpr::full(0), 0x41))
    );
    assert_eq!(
        route_set_gpr(&mut last, RegTarget::EdxEax.number(), 5),
        Some(RegWrite::EdxEax(5))
    );
    assert_eq!(route_set_gpr(&mut last, 99, 5), None);
    // The latch outside a read-modify-write is ignored.
    assert_eq!(route_set_gpr(&mut last, RegTarget::MmioLatch.number(), 5), None);
    assert_eq!(last, LastExit::None);
}

#[test]
fn faults_for_other_exits() {
    use FaultAction::Inject;
    assert_eq!(
        fault_for_last_exit(&LastExit::Msr, LastExitFault::Undefined),
        Inject(Exception::GP0)
    );
    assert_eq!(
        fault_for_last_exit(&LastExit::Msr, LastExitFault::Access),
        Inject(Exception::GP0)
    );
    assert_eq!(
        fault_for_last_exit(&LastExit::Other, LastExitFault::Undefined),
        Inject(Exception::UD)
    );
    assert_eq!(
        fault_for_last_exit(&LastExit::None, LastExitFault::Access),
        Inject(Exception::GP0)
    );
    assert_eq!(
        fault_for_last_exit(
            &LastExit::IoIn {
                width: AccessWidth::Word
            },
            LastExitFault::Access
        ),
        FaultAction::WriteReg {
            dst: Gpr::new(0, AccessWidth::Word),
            value: 0xffff
        }
    );
}

#[test]
fn what_an_exit_leaves_behind() {
    let io = GuestExit::IoIn {
        port: 1,
        width: AccessWidth::Word,
        len: 1,
    };
    assert_eq!(
        last_exit_of(&io),
        LastExit::IoIn {
            width: AccessWidth::Word
        }
    );
    assert_eq!(last_exit_of(&GuestExit::MsrWrite { len: 2 }), LastExit::Msr);
    assert_eq!(last_exit_of(&GuestExit::Hlt { len: 1 }), LastExit::Other);
}

#[test]
fn decoded_access_must_match_the_fault() {
    let load = insn(
        AccessWidth::Dword,
        MmioOp::Load {
            dst: Gpr::new(0, AccessWidth::Dword),
            ext: Extension::None,
        },
    );
    let store = insn(AccessWidth::Dword, MmioOp::Store { src: Source::Imm(0) });
    let add = insn(
        AccessWidth::Dword,
        MmioOp::Alu {
            op: AluOp::Add,
            src: Source::Imm(1),
        },
    );
    let (r, w) = (AccessFlags::READ, AccessFlags::WRITE);
    assert!(access_matches(&load, r) && !access_matches(&load, w));
    assert!(access_matches(&store, w) && !access_matches(&store, r));
    assert!(access_matches(&add, r) && access_matches(&add, w) && access_matches(&add, r | w));
}
