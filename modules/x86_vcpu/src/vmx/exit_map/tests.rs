//! Raw values composed by hand from the SDM's field layouts (tables 25-17,
//! 28-3, 28-5, 28-7; appendix C).

use super::*;
use crate::exit::NestedFaultKind;
use crate::vmx::exit_info::{CrAccessType, interrupt_shadow};
use axvcpu::AccessFlags;

fn raw(reason: u32, qualification: u64) -> VmxRawExit {
    VmxRawExit {
        reason,
        qualification,
        instruction_len: 2,
        ..Default::default()
    }
}

fn common(r: &VmxRawExit) -> GuestExit {
    match decode_exit(r) {
        VmxExit::Common(e) => e,
        other => panic!("{other:?}"),
    }
}

#[test]
fn io_instructions() {
    // out dx, al to 0x3f8: port in bits 31:16, size 0 (1 byte), OUT.
    assert_eq!(
        common(&raw(30, 0x03f8_0000)),
        GuestExit::IoOut {
            port: 0x3f8,
            width: AccessWidth::Byte,
            len: 2
        }
    );
    // in eax, 0x60: size 3 (4 bytes), IN (bit 3), immediate (bit 6).
    assert_eq!(
        common(&raw(30, 0x0060_004b)),
        GuestExit::IoIn {
            port: 0x60,
            width: AccessWidth::Dword,
            len: 2
        }
    );
    // in ax, dx from 0xcfc: size 1.
    assert_eq!(
        common(&raw(30, 0x0cfc_0009)),
        GuestExit::IoIn {
            port: 0xcfc,
            width: AccessWidth::Word,
            len: 2
        }
    );
    // rep outsb (string, rep) and the reserved size 2 are not emulated.
    for q in [0x03f8_0030, 0x03f8_0002] {
        assert_eq!(common(&raw(30, q)), GuestExit::Unsupported { raw: 30, detail: q });
    }
    let io = VmxIoExitInfo::from_qualification(0x03f8_0030);
    assert!(io.is_string && io.is_repeat && !io.is_in);
}

#[test]
fn cr_access() {
    // mov cr4, rbx: CR 4, access 0, GPR 3.
    let VmxExit::CrAccess { info, len } = decode_exit(&raw(28, 0x304)) else {
        panic!()
    };
    assert_eq!(len, 2);
    assert_eq!((info.cr, info.access, info.gpr), (4, CrAccessType::MovToCr, 3));
    // lmsw with source 0x0011: CR 0, access 3, data in bits 31:16.
    let VmxExit::CrAccess { info, .. } = decode_exit(&raw(28, 0x0011_0030)) else {
        panic!()
    };
    assert_eq!((info.cr, info.access, info.lmsw_data), (0, CrAccessType::Lmsw, 0x11));
    // mov r15, cr8 (from CR): access 1, GPR 15.
    let VmxExit::CrAccess { info, .. } = decode_exit(&raw(28, 0xf18)) else {
        panic!()
    };
    assert_eq!((info.cr, info.access, info.gpr), (8, CrAccessType::MovFromCr, 15));
}

#[test]
fn ept_violations() {
    let ept = |q| {
        let mut r = raw(48, q);
        r.guest_physical = 0xfee0_0030;
        common(&r)
    };
    let gpa = GuestPhysAddr::from(0xfee0_0030);
    // A write (bit 1) to nothing (bits 5:3 clear), linear address valid and
    // translated (bits 7, 8).
    assert_eq!(
        ept(0x182),
        GuestExit::NestedFault {
            gpa,
            access: AccessFlags::WRITE,
            kind: NestedFaultKind::NotPresent
        }
    );
    // A write to a readable, executable page.
    assert_eq!(
        ept(0x1aa),
        GuestExit::NestedFault {
            gpa,
            access: AccessFlags::WRITE,
            kind: NestedFaultKind::Permission
        }
    );
    // A read of a guest page-table entry (GLA valid, not translated).
    assert_eq!(
        ept(0x81),
        GuestExit::NestedFault {
            gpa,
            access: AccessFlags::READ,
            kind: NestedFaultKind::GuestTableWalk
        }
    );
    // A fetch from nothing.
    assert_eq!(
        ept(0x184),
        GuestExit::NestedFault {
            gpa,
            access: AccessFlags::EXECUTE,
            kind: NestedFaultKind::NotPresent
        }
    );
}

#[test]
fn interrupts_and_events() {
    let with_info = |reason, info| VmxRawExit {
        reason,
        interrupt_info: info,
        ..Default::default()
    };
    // External interrupt, vector 0x30, type 0, valid.
    assert_eq!(
        common(&with_info(1, 0x8000_0030)),
        GuestExit::ExternalInterrupt { vector: Some(0x30) }
    );
    assert_eq!(common(&with_info(1, 0)), GuestExit::ExternalInterrupt { vector: None });
    // NMI: vector 2, type 2.
    assert_eq!(common(&with_info(0, 0x8000_0202)), GuestExit::Nmi);
    // #PF (vector 14, type 3, error code): not intercepted, so unexpected.
    assert_eq!(
        common(&with_info(0, 0x8000_0b0e)),
        GuestExit::Unsupported {
            raw: 0,
            detail: 0x8000_0b0e
        }
    );
    assert_eq!(common(&with_info(7, 0)), GuestExit::InterruptWindow);
    assert_eq!(common(&with_info(2, 0)), GuestExit::Shutdown);
    assert_eq!(common(&with_info(52, 0)), GuestExit::PreemptionTimer);
}

#[test]
fn instructions_and_failures() {
    assert_eq!(common(&raw(10, 0)), GuestExit::Cpuid { len: 2 });
    assert_eq!(common(&raw(12, 0)), GuestExit::Hlt { len: 2 });
    assert_eq!(common(&raw(18, 0)), GuestExit::Hypercall { len: 2 });
    assert_eq!(common(&raw(31, 0)), GuestExit::MsrRead { len: 2 });
    assert_eq!(common(&raw(32, 0)), GuestExit::MsrWrite { len: 2 });
    assert_eq!(common(&raw(55, 0)), GuestExit::Xsetbv { len: 2 });
    assert_eq!(common(&raw(54, 0)), GuestExit::Skip { len: 2 });
    for vmx_insn in [19, 20, 21, 22, 23, 24, 25, 26, 27, 50, 53, 59, 11, 36, 39] {
        assert_eq!(common(&raw(vmx_insn, 0)), GuestExit::UndefinedInstruction, "{vmx_insn}");
    }
    // Entry failure (bit 31) with invalid guest state (33).
    assert_eq!(
        common(&raw(0x8000_0021, 0)),
        GuestExit::EntryFailure { reason: 0x8000_0021 }
    );
    // An undefined reason and one not handled.
    assert_eq!(common(&raw(35, 7)), GuestExit::Unsupported { raw: 35, detail: 7 });
    assert_eq!(common(&raw(9, 7)), GuestExit::Unsupported { raw: 9, detail: 7 });
    // Any raw value decodes without panicking.
    for reason in (0..100).chain([0xffff, 0x8000_ffff, u32::MAX]) {
        for q in [0, u64::MAX] {
            let _ = decode_exit(&VmxRawExit {
                reason,
                qualification: q,
                instruction_len: u32::MAX,
                guest_physical: u64::MAX,
                interrupt_info: u32::MAX,
            });
        }
    }
}

#[test]
fn interruption_info_encoding() {
    // #GP with error code: vector 13, type 3 (bits 10:8), bit 11, valid.
    assert_eq!(VmxInterruptInfo::exception(13, Some(0)).bits(), 0x8000_0b0d);
    // #UD: no error code.
    assert_eq!(VmxInterruptInfo::exception(6, None).bits(), 0x8000_0306);
    assert_eq!(VmxInterruptInfo::external(0x20).bits(), 0x8000_0020);
    let back = VmxInterruptInfo::from_bits(0x8000_0b0e, 0x2).unwrap();
    assert_eq!(back, VmxInterruptInfo::exception(14, Some(2)));
    // Type 1 is reserved.
    assert_eq!(VmxInterruptInfo::from_bits(0x8000_0100, 0), None);
    assert!(interrupt_shadow(1) && interrupt_shadow(2) && !interrupt_shadow(8));
    let info = VmxExitInfo::new(0x8000_0021, 3, 0x1000);
    assert!(info.entry_failure);
    assert_eq!(info.exit_reason, Ok(VmxExitReason::INVALID_GUEST_STATE));
}
