//! EXITINFO1 values composed by hand from the APM's layouts (figure 15-2
//! for IOIO, 15.25.6 for nested page faults; appendix C for the codes).

use super::*;

fn raw(exit_code: u64, exit_info_1: u64, exit_info_2: u64) -> SvmRawExit {
    SvmRawExit {
        exit_code,
        exit_info_1,
        exit_info_2,
        rip: 0x1000,
    }
}

#[test]
fn exit_codes() {
    assert_eq!(SvmExitCode::from_raw(0x14), SvmExitCode::CrWrite(4));
    assert_eq!(SvmExitCode::from_raw(0x4e), SvmExitCode::Exception(14));
    assert_eq!(SvmExitCode::from_raw(0x72), SvmExitCode::Cpuid);
    assert_eq!(SvmExitCode::from_raw(0x7b), SvmExitCode::Ioio);
    assert_eq!(SvmExitCode::from_raw(0x81), SvmExitCode::Vmmcall);
    assert_eq!(SvmExitCode::from_raw(0x400), SvmExitCode::Npf);
    assert_eq!(SvmExitCode::from_raw(0x401), SvmExitCode::Other(0x401));
    // VMEXIT_INVALID is -1; QEMU's TCG reports the 32-bit 0xffffffff.
    assert_eq!(SvmExitCode::from_raw(u64::MAX), SvmExitCode::Invalid);
    assert_eq!(SvmExitCode::from_raw(0xffff_ffff), SvmExitCode::Invalid);
}

#[test]
fn instructions_with_fixed_lengths() {
    assert_eq!(decode_exit(&raw(0x72, 0, 0)), GuestExit::Cpuid { len: 2 });
    assert_eq!(decode_exit(&raw(0x78, 0, 0)), GuestExit::Hlt { len: 1 });
    assert_eq!(decode_exit(&raw(0x81, 0, 0)), GuestExit::Hypercall { len: 3 });
    assert_eq!(decode_exit(&raw(0x7c, 0, 0)), GuestExit::MsrRead { len: 2 });
    assert_eq!(decode_exit(&raw(0x7c, 1, 0)), GuestExit::MsrWrite { len: 2 });
    assert_eq!(decode_exit(&raw(0x8d, 0, 0)), GuestExit::Xsetbv { len: 3 });
    assert_eq!(decode_exit(&raw(0x89, 0, 0)), GuestExit::Skip { len: 2 });
    for code in [0x80, 0x82, 0x83, 0x84, 0x85, 0x86, 0x7a, 0x8a, 0x8b, 0x8c] {
        assert_eq!(
            decode_exit(&raw(code, 0, 0)),
            GuestExit::UndefinedInstruction,
            "{code:#x}"
        );
    }
}

#[test]
fn io_exits() {
    // out dx, al to 0x3f8: SZ8 (bit 4), A64 (bit 9), port in 31:16; the
    // next RIP is one byte on.
    assert_eq!(
        decode_exit(&raw(0x7b, 0x03f8_0210, 0x1001)),
        GuestExit::IoOut {
            port: 0x3f8,
            width: AccessWidth::Byte,
            len: 1
        }
    );
    // in eax, 0x60: TYPE (bit 0), SZ32 (bit 6), two bytes.
    assert_eq!(
        decode_exit(&raw(0x7b, 0x0060_0241, 0x1002)),
        GuestExit::IoIn {
            port: 0x60,
            width: AccessWidth::Dword,
            len: 2
        }
    );
    // in ax, dx: SZ16 (bit 5).
    assert_eq!(
        decode_exit(&raw(0x7b, 0x0cfc_0221, 0x1002)),
        GuestExit::IoIn {
            port: 0xcfc,
            width: AccessWidth::Word,
            len: 2
        }
    );
    // rep outsb (STR, REP), no size, and a next RIP that is no length.
    for (info, next) in [
        (0x03f8_021c, 0x1002),
        (0x03f8_0200, 0x1001),
        (0x03f8_0210, 0x0fff),
        (0x03f8_0210, 0x1010),
    ] {
        assert_eq!(
            decode_exit(&raw(0x7b, info, next)),
            GuestExit::Unsupported {
                raw: 0x7b,
                detail: info
            },
            "{info:#x} {next:#x}"
        );
    }
}

#[test]
fn nested_page_faults() {
    let gpa = GuestPhysAddr::from(0xfee0_0030);
    let f = |info| decode_exit(&raw(0x400, info, 0xfee0_0030));
    // A write to nothing: RW (bit 1), final address (bit 32).
    assert_eq!(
        f(0x1_0000_0002),
        GuestExit::NestedFault {
            gpa,
            access: AccessFlags::WRITE,
            kind: NestedFaultKind::NotPresent
        }
    );
    // A write to a present, read-only page: P (bit 0).
    assert_eq!(
        f(0x1_0000_0003),
        GuestExit::NestedFault {
            gpa,
            access: AccessFlags::WRITE,
            kind: NestedFaultKind::Permission
        }
    );
    // A read during the guest's page walk (bit 33).
    assert_eq!(
        f(0x2_0000_0000),
        GuestExit::NestedFault {
            gpa,
            access: AccessFlags::READ,
            kind: NestedFaultKind::GuestTableWalk
        }
    );
    // A user-mode fetch (ID bit 4, US bit 2) from nothing.
    assert_eq!(
        f(0x1_0000_0014),
        GuestExit::NestedFault {
            gpa,
            access: AccessFlags::EXECUTE,
            kind: NestedFaultKind::NotPresent
        }
    );
}

#[test]
fn events_and_failures() {
    assert_eq!(
        decode_exit(&raw(0x60, 0, 0)),
        GuestExit::ExternalInterrupt { vector: None }
    );
    assert_eq!(decode_exit(&raw(0x61, 0, 0)), GuestExit::Nmi);
    assert_eq!(decode_exit(&raw(0x64, 0, 0)), GuestExit::InterruptWindow);
    assert_eq!(decode_exit(&raw(0x7f, 0, 0)), GuestExit::Shutdown);
    assert_eq!(
        decode_exit(&raw(0xffff_ffff, 0, 0)),
        GuestExit::EntryFailure { reason: 0xffff_ffff }
    );
    assert_eq!(
        decode_exit(&raw(0x4e, 2, 0)),
        GuestExit::Unsupported { raw: 0x4e, detail: 2 }
    );
    // Nothing panics, whatever the VMCB holds.
    for code in (0..0x500).chain([u64::MAX - 1, 1 << 40]) {
        for info in [0, u64::MAX] {
            let _ = decode_exit(&SvmRawExit {
                exit_code: code,
                exit_info_1: info,
                exit_info_2: info,
                rip: u64::MAX,
            });
        }
    }
}
