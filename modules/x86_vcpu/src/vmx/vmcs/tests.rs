use super::*;

/// Every field of a group has the group's width and type, per the encoding
/// rules of SDM 25.11.2, and the "full" (not high) access type.
macro_rules! check_group {
    ($($group:ident),+) => {$(
        for f in $group::ALL {
            let e = FieldEncoding(f.encoding());
            assert_eq!(e.width(), $group::WIDTH, "{f:?}");
            assert_eq!(e.field_type(), $group::TYPE, "{f:?}");
            assert!(!e.is_high(), "{f:?}");
        }
    )+};
}

#[test]
fn every_field_is_in_the_group_its_encoding_says() {
    check_group!(
        VmcsControl16,
        VmcsControl32,
        VmcsControl64,
        VmcsControlNW,
        VmcsGuest16,
        VmcsGuest32,
        VmcsGuest64,
        VmcsGuestNW,
        VmcsHost16,
        VmcsHost32,
        VmcsHost64,
        VmcsHostNW,
        VmcsReadOnly32,
        VmcsReadOnly64,
        VmcsReadOnlyNW
    );
}

#[test]
fn encodings_from_the_sdm_appendix() {
    assert_eq!(VmcsGuestNW::RIP.encoding(), 0x681e);
    assert_eq!(VmcsGuestNW::RSP.encoding(), 0x681c);
    assert_eq!(VmcsReadOnly32::EXIT_REASON.encoding(), 0x4402);
    assert_eq!(VmcsControl64::EPTP.encoding(), 0x201a);
    assert_eq!(VmcsControl32::PINBASED_EXEC_CONTROLS.encoding(), 0x4000);
    assert_eq!(VmcsControl32::SECONDARY_PROCBASED_EXEC_CONTROLS.encoding(), 0x401e);
    assert_eq!(VmcsGuest32::INTERRUPTIBILITY_STATE.encoding(), 0x4824);
    assert_eq!(VmcsHostNW::RIP.encoding(), 0x6c16);
    assert_eq!(VmcsReadOnlyNW::EXIT_QUALIFICATION.encoding(), 0x6400);
    assert_eq!(VmcsReadOnly64::GUEST_PHYSICAL_ADDR.encoding(), 0x2400);
    // Decoding by hand: 0x681E = 0b110_1000_0001_1110: width 3 (natural),
    // type 2 (guest), index 15.
    let rip = FieldEncoding(0x681e);
    assert_eq!(
        (rip.width(), rip.field_type(), rip.index()),
        (FieldWidth::Natural, FieldType::Guest, 15)
    );
    // EXIT_REASON 0x4402: width 2 (32-bit), type 1 (read-only), index 1.
    let er = FieldEncoding(0x4402);
    assert_eq!(
        (er.width(), er.field_type(), er.index()),
        (FieldWidth::W32, FieldType::ReadOnly, 1)
    );
    // EPTP high half 0x201B.
    assert!(FieldEncoding(0x201b).is_high());
}

#[test]
fn groups_have_no_duplicates() {
    let mut all = std::vec::Vec::new();
    macro_rules! collect {
        ($($g:ident),+) => {$( all.extend($g::ALL.iter().map(|f| f.encoding())); )+};
    }
    collect!(
        VmcsControl16,
        VmcsControl32,
        VmcsControl64,
        VmcsControlNW,
        VmcsGuest16,
        VmcsGuest32,
        VmcsGuest64,
        VmcsGuestNW,
        VmcsHost16,
        VmcsHost32,
        VmcsHost64,
        VmcsHostNW,
        VmcsReadOnly32,
        VmcsReadOnly64,
        VmcsReadOnlyNW
    );
    let n = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), n);
}

#[cfg(target_arch = "x86_64")]
#[test]
fn encodings_match_the_x86_crate() {
    use x86::vmx::vmcs::{control as c, guest as g, host as h, ro};
    let pairs: &[(u32, u32)] = &[
        (VmcsControl16::VPID.encoding(), c::VPID),
        (VmcsControl16::EPTP_INDEX.encoding(), c::EPTP_INDEX),
        (VmcsControl64::IO_BITMAP_A_ADDR.encoding(), c::IO_BITMAP_A_ADDR_FULL),
        (VmcsControl64::IO_BITMAP_B_ADDR.encoding(), c::IO_BITMAP_B_ADDR_FULL),
        (VmcsControl64::MSR_BITMAPS_ADDR.encoding(), c::MSR_BITMAPS_ADDR_FULL),
        (VmcsControl64::TSC_OFFSET.encoding(), c::TSC_OFFSET_FULL),
        (VmcsControl64::EPTP.encoding(), c::EPTP_FULL),
        (VmcsControl64::TSC_MULTIPLIER.encoding(), c::TSC_MULTIPLIER_FULL),
        (
            VmcsControl32::PINBASED_EXEC_CONTROLS.encoding(),
            c::PINBASED_EXEC_CONTROLS,
        ),
        (
            VmcsControl32::PRIMARY_PROCBASED_EXEC_CONTROLS.encoding(),
            c::PRIMARY_PROCBASED_EXEC_CONTROLS,
        ),
        (VmcsControl32::EXCEPTION_BITMAP.encoding(), c::EXCEPTION_BITMAP),
        (VmcsControl32::VMEXIT_CONTROLS.encoding(), c::VMEXIT_CONTROLS),
        (VmcsControl32::VMENTRY_CONTROLS.encoding(), c::VMENTRY_CONTROLS),
        (
            VmcsControl32::VMENTRY_INTERRUPTION_INFO_FIELD.encoding(),
            c::VMENTRY_INTERRUPTION_INFO_FIELD,
        ),
        (
            VmcsControl32::VMENTRY_EXCEPTION_ERR_CODE.encoding(),
            c::VMENTRY_EXCEPTION_ERR_CODE,
        ),
        (
            VmcsControl32::VMENTRY_INSTRUCTION_LEN.encoding(),
            c::VMENTRY_INSTRUCTION_LEN,
        ),
        (
            VmcsControl32::SECONDARY_PROCBASED_EXEC_CONTROLS.encoding(),
            c::SECONDARY_PROCBASED_EXEC_CONTROLS,
        ),
        (VmcsControl32::PLE_WINDOW.encoding(), c::PLE_WINDOW),
        (VmcsControlNW::CR0_GUEST_HOST_MASK.encoding(), c::CR0_GUEST_HOST_MASK),
        (VmcsControlNW::CR4_READ_SHADOW.encoding(), c::CR4_READ_SHADOW),
        (VmcsControlNW::CR3_TARGET_VALUE3.encoding(), c::CR3_TARGET_VALUE3),
        (VmcsGuest16::CS_SELECTOR.encoding(), g::CS_SELECTOR),
        (VmcsGuest16::TR_SELECTOR.encoding(), g::TR_SELECTOR),
        (VmcsGuest16::PML_INDEX.encoding(), g::PML_INDEX),
        (VmcsGuest64::LINK_PTR.encoding(), g::LINK_PTR_FULL),
        (VmcsGuest64::IA32_EFER.encoding(), g::IA32_EFER_FULL),
        (VmcsGuest64::IA32_RTIT_CTL.encoding(), g::IA32_RTIT_CTL_FULL),
        (VmcsGuest32::CS_ACCESS_RIGHTS.encoding(), g::CS_ACCESS_RIGHTS),
        (
            VmcsGuest32::INTERRUPTIBILITY_STATE.encoding(),
            g::INTERRUPTIBILITY_STATE,
        ),
        (VmcsGuest32::ACTIVITY_STATE.encoding(), g::ACTIVITY_STATE),
        (
            VmcsGuest32::VMX_PREEMPTION_TIMER_VALUE.encoding(),
            g::VMX_PREEMPTION_TIMER_VALUE,
        ),
        (VmcsGuestNW::CR0.encoding(), g::CR0),
        (VmcsGuestNW::RSP.encoding(), g::RSP),
        (VmcsGuestNW::RIP.encoding(), g::RIP),
        (VmcsGuestNW::RFLAGS.encoding(), g::RFLAGS),
        (VmcsGuestNW::IA32_SYSENTER_EIP.encoding(), g::IA32_SYSENTER_EIP),
        (VmcsHost16::TR_SELECTOR.encoding(), h::TR_SELECTOR),
        (VmcsHost64::IA32_EFER.encoding(), h::IA32_EFER_FULL),
        (VmcsHost32::IA32_SYSENTER_CS.encoding(), h::IA32_SYSENTER_CS),
        (VmcsHostNW::CR3.encoding(), h::CR3),
        (VmcsHostNW::RSP.encoding(), h::RSP),
        (VmcsHostNW::RIP.encoding(), h::RIP),
        (
            VmcsReadOnly64::GUEST_PHYSICAL_ADDR.encoding(),
            ro::GUEST_PHYSICAL_ADDR_FULL,
        ),
        (
            VmcsReadOnly32::VM_INSTRUCTION_ERROR.encoding(),
            ro::VM_INSTRUCTION_ERROR,
        ),
        (VmcsReadOnly32::EXIT_REASON.encoding(), ro::EXIT_REASON),
        (
            VmcsReadOnly32::VMEXIT_INSTRUCTION_LEN.encoding(),
            ro::VMEXIT_INSTRUCTION_LEN,
        ),
        (VmcsReadOnly32::IDT_VECTORING_INFO.encoding(), ro::IDT_VECTORING_INFO),
        (VmcsReadOnlyNW::EXIT_QUALIFICATION.encoding(), ro::EXIT_QUALIFICATION),
        (VmcsReadOnlyNW::GUEST_LINEAR_ADDR.encoding(), ro::GUEST_LINEAR_ADDR),
    ];
    for &(ours, theirs) in pairs {
        assert_eq!(ours, theirs, "{ours:#x}");
    }
}

#[test]
fn instruction_errors_describe_themselves() {
    assert_eq!(
        std::format!("{}", VmxInstructionError(7)),
        "VM-instruction error 7: VM entry with invalid control field(s)"
    );
    assert_eq!(VmxInstructionError(14).description(), "unknown VM-instruction error");
    assert_eq!(
        VmxInstructionError(u32::MAX).description(),
        "unknown VM-instruction error"
    );
}
