//! The field enums; the encodings are those of SDM Vol. 3D, appendix B.
#![allow(non_camel_case_types, clippy::upper_case_acronyms)]

use super::{FieldType, FieldWidth};

/// Defines a field enum with its width, type and list of fields.
macro_rules! vmcs_fields {
    (
        $(#[$meta:meta])*
        $name:ident: $ty:ty, $width:ident, $ftype:ident, $access:ident {
            $( $(#[$fmeta:meta])* $field:ident = $enc:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u32)]
        pub enum $name {
            $( $(#[$fmeta])* $field = $enc, )+
        }

        impl $name {
            /// Every field of the group.
            pub const ALL: &'static [Self] = &[$(Self::$field),+];
            /// The width of every field of the group.
            pub const WIDTH: FieldWidth = FieldWidth::$width;
            /// The type of every field of the group.
            pub const TYPE: FieldType = FieldType::$ftype;

            /// The field's encoding.
            pub const fn encoding(self) -> u32 {
                self as u32
            }
        }

        vmcs_fields!(@$access $name, $ty);
    };
    (@rw $name:ident, $ty:ty) => {
        vmcs_fields!(@ro $name, $ty);

        #[cfg(all(target_arch = "x86_64", target_os = "none"))]
        impl $name {
            /// Writes the field of the current VMCS (VMWRITE).
            pub fn write(self, value: $ty) -> axerrno::AxResult {
                super::hw::write(self as u32, value as u64)
            }
        }
    };
    (@ro $name:ident, $ty:ty) => {
        #[cfg(all(target_arch = "x86_64", target_os = "none"))]
        impl $name {
            /// Reads the field of the current VMCS (VMREAD).
            pub fn read(self) -> axerrno::AxResult<$ty> {
                super::hw::read(self as u32).map(|v| v as $ty)
            }
        }
    };
}

vmcs_fields! {
    /// 16-bit control fields (B.1.1).
    VmcsControl16: u16, W16, Control, rw {
        /// Virtual-processor identifier (VPID).
        VPID = 0x0000,
        /// Posted-interrupt notification vector.
        POSTED_INTERRUPT_NOTIFICATION_VECTOR = 0x0002,
        /// EPTP index.
        EPTP_INDEX = 0x0004,
    }
}

vmcs_fields! {
    /// 64-bit control fields (B.2.1); the "full" encodings.
    VmcsControl64: u64, W64, Control, rw {
        /// Address of I/O bitmap A.
        IO_BITMAP_A_ADDR = 0x2000,
        /// Address of I/O bitmap B.
        IO_BITMAP_B_ADDR = 0x2002,
        /// Address of the MSR bitmap.
        MSR_BITMAPS_ADDR = 0x2004,
        /// VM-exit MSR-store address.
        VMEXIT_MSR_STORE_ADDR = 0x2006,
        /// VM-exit MSR-load address.
        VMEXIT_MSR_LOAD_ADDR = 0x2008,
        /// VM-entry MSR-load address.
        VMENTRY_MSR_LOAD_ADDR = 0x200a,
        /// Executive-VMCS pointer.
        EXECUTIVE_VMCS_PTR = 0x200c,
        /// PML address.
        PML_ADDR = 0x200e,
        /// TSC offset.
        TSC_OFFSET = 0x2010,
        /// Virtual-APIC address.
        VIRT_APIC_ADDR = 0x2012,
        /// APIC-access address.
        APIC_ACCESS_ADDR = 0x2014,
        /// Posted-interrupt descriptor address.
        POSTED_INTERRUPT_DESC_ADDR = 0x2016,
        /// VM-function controls.
        VM_FUNCTION_CONTROLS = 0x2018,
        /// EPT pointer.
        EPTP = 0x201a,
        /// EOI-exit bitmap 0.
        EOI_EXIT0 = 0x201c,
        /// EOI-exit bitmap 1.
        EOI_EXIT1 = 0x201e,
        /// EOI-exit bitmap 2.
        EOI_EXIT2 = 0x2020,
        /// EOI-exit bitmap 3.
        EOI_EXIT3 = 0x2022,
        /// EPTP-list address.
        EPTP_LIST_ADDR = 0x2024,
        /// VMREAD-bitmap address.
        VMREAD_BITMAP_ADDR = 0x2026,
        /// VMWRITE-bitmap address.
        VMWRITE_BITMAP_ADDR = 0x2028,
        /// Virtualization-exception information address.
        VIRT_EXCEPTION_INFO_ADDR = 0x202a,
        /// XSS-exiting bitmap.
        XSS_EXITING_BITMAP = 0x202c,
        /// ENCLS-exiting bitmap.
        ENCLS_EXITING_BITMAP = 0x202e,
        /// Sub-page-permission-table pointer.
        SUBPAGE_PERM_TABLE_PTR = 0x2030,
        /// TSC multiplier.
        TSC_MULTIPLIER = 0x2032,
    }
}

vmcs_fields! {
    /// 32-bit control fields (B.3.1).
    VmcsControl32: u32, W32, Control, rw {
        /// Pin-based VM-execution controls.
        PINBASED_EXEC_CONTROLS = 0x4000,
        /// Primary processor-based VM-execution controls.
        PRIMARY_PROCBASED_EXEC_CONTROLS = 0x4002,
        /// Exception bitmap.
        EXCEPTION_BITMAP = 0x4004,
        /// Page-fault error-code mask.
        PAGE_FAULT_ERR_CODE_MASK = 0x4006,
        /// Page-fault error-code match.
        PAGE_FAULT_ERR_CODE_MATCH = 0x4008,
        /// CR3-target count.
        CR3_TARGET_COUNT = 0x400a,
        /// VM-exit controls.
        VMEXIT_CONTROLS = 0x400c,
        /// VM-exit MSR-store count.
        VMEXIT_MSR_STORE_COUNT = 0x400e,
        /// VM-exit MSR-load count.
        VMEXIT_MSR_LOAD_COUNT = 0x4010,
        /// VM-entry controls.
        VMENTRY_CONTROLS = 0x4012,
        /// VM-entry MSR-load count.
        VMENTRY_MSR_LOAD_COUNT = 0x4014,
        /// VM-entry interruption-information field.
        VMENTRY_INTERRUPTION_INFO_FIELD = 0x4016,
        /// VM-entry exception error code.
        VMENTRY_EXCEPTION_ERR_CODE = 0x4018,
        /// VM-entry instruction length.
        VMENTRY_INSTRUCTION_LEN = 0x401a,
        /// TPR threshold.
        TPR_THRESHOLD = 0x401c,
        /// Secondary processor-based VM-execution controls.
        SECONDARY_PROCBASED_EXEC_CONTROLS = 0x401e,
        /// PLE_Gap.
        PLE_GAP = 0x4020,
        /// PLE_Window.
        PLE_WINDOW = 0x4022,
    }
}

vmcs_fields! {
    /// Natural-width control fields (B.4.1).
    VmcsControlNW: usize, Natural, Control, rw {
        /// CR0 guest/host mask.
        CR0_GUEST_HOST_MASK = 0x6000,
        /// CR4 guest/host mask.
        CR4_GUEST_HOST_MASK = 0x6002,
        /// CR0 read shadow.
        CR0_READ_SHADOW = 0x6004,
        /// CR4 read shadow.
        CR4_READ_SHADOW = 0x6006,
        /// CR3-target value 0.
        CR3_TARGET_VALUE0 = 0x6008,
        /// CR3-target value 1.
        CR3_TARGET_VALUE1 = 0x600a,
        /// CR3-target value 2.
        CR3_TARGET_VALUE2 = 0x600c,
        /// CR3-target value 3.
        CR3_TARGET_VALUE3 = 0x600e,
    }
}

vmcs_fields! {
    /// 16-bit guest-state fields (B.1.2).
    VmcsGuest16: u16, W16, Guest, rw {
        /// Guest ES selector.
        ES_SELECTOR = 0x0800,
        /// Guest CS selector.
        CS_SELECTOR = 0x0802,
        /// Guest SS selector.
        SS_SELECTOR = 0x0804,
        /// Guest DS selector.
        DS_SELECTOR = 0x0806,
        /// Guest FS selector.
        FS_SELECTOR = 0x0808,
        /// Guest GS selector.
        GS_SELECTOR = 0x080a,
        /// Guest LDTR selector.
        LDTR_SELECTOR = 0x080c,
        /// Guest TR selector.
        TR_SELECTOR = 0x080e,
        /// Guest interrupt status.
        INTERRUPT_STATUS = 0x0810,
        /// PML index.
        PML_INDEX = 0x0812,
    }
}

vmcs_fields! {
    /// 64-bit guest-state fields (B.2.3).
    VmcsGuest64: u64, W64, Guest, rw {
        /// VMCS link pointer.
        LINK_PTR = 0x2800,
        /// Guest IA32_DEBUGCTL.
        IA32_DEBUGCTL = 0x2802,
        /// Guest IA32_PAT.
        IA32_PAT = 0x2804,
        /// Guest IA32_EFER.
        IA32_EFER = 0x2806,
        /// Guest IA32_PERF_GLOBAL_CTRL.
        IA32_PERF_GLOBAL_CTRL = 0x2808,
        /// Guest PDPTE0.
        PDPTE0 = 0x280a,
        /// Guest PDPTE1.
        PDPTE1 = 0x280c,
        /// Guest PDPTE2.
        PDPTE2 = 0x280e,
        /// Guest PDPTE3.
        PDPTE3 = 0x2810,
        /// Guest IA32_BNDCFGS.
        IA32_BNDCFGS = 0x2812,
        /// Guest IA32_RTIT_CTL.
        IA32_RTIT_CTL = 0x2814,
    }
}

vmcs_fields! {
    /// 32-bit guest-state fields (B.3.3).
    VmcsGuest32: u32, W32, Guest, rw {
        /// Guest ES limit.
        ES_LIMIT = 0x4800,
        /// Guest CS limit.
        CS_LIMIT = 0x4802,
        /// Guest SS limit.
        SS_LIMIT = 0x4804,
        /// Guest DS limit.
        DS_LIMIT = 0x4806,
        /// Guest FS limit.
        FS_LIMIT = 0x4808,
        /// Guest GS limit.
        GS_LIMIT = 0x480a,
        /// Guest LDTR limit.
        LDTR_LIMIT = 0x480c,
        /// Guest TR limit.
        TR_LIMIT = 0x480e,
        /// Guest GDTR limit.
        GDTR_LIMIT = 0x4810,
        /// Guest IDTR limit.
        IDTR_LIMIT = 0x4812,
        /// Guest ES access rights.
        ES_ACCESS_RIGHTS = 0x4814,
        /// Guest CS access rights.
        CS_ACCESS_RIGHTS = 0x4816,
        /// Guest SS access rights.
        SS_ACCESS_RIGHTS = 0x4818,
        /// Guest DS access rights.
        DS_ACCESS_RIGHTS = 0x481a,
        /// Guest FS access rights.
        FS_ACCESS_RIGHTS = 0x481c,
        /// Guest GS access rights.
        GS_ACCESS_RIGHTS = 0x481e,
        /// Guest LDTR access rights.
        LDTR_ACCESS_RIGHTS = 0x4820,
        /// Guest TR access rights.
        TR_ACCESS_RIGHTS = 0x4822,
        /// Guest interruptibility state.
        INTERRUPTIBILITY_STATE = 0x4824,
        /// Guest activity state.
        ACTIVITY_STATE = 0x4826,
        /// Guest SMBASE.
        SMBASE = 0x4828,
        /// Guest IA32_SYSENTER_CS.
        IA32_SYSENTER_CS = 0x482a,
        /// VMX-preemption timer value.
        VMX_PREEMPTION_TIMER_VALUE = 0x482e,
    }
}

vmcs_fields! {
    /// Natural-width guest-state fields (B.4.3).
    VmcsGuestNW: usize, Natural, Guest, rw {
        /// Guest CR0.
        CR0 = 0x6800,
        /// Guest CR3.
        CR3 = 0x6802,
        /// Guest CR4.
        CR4 = 0x6804,
        /// Guest ES base.
        ES_BASE = 0x6806,
        /// Guest CS base.
        CS_BASE = 0x6808,
        /// Guest SS base.
        SS_BASE = 0x680a,
        /// Guest DS base.
        DS_BASE = 0x680c,
        /// Guest FS base.
        FS_BASE = 0x680e,
        /// Guest GS base.
        GS_BASE = 0x6810,
        /// Guest LDTR base.
        LDTR_BASE = 0x6812,
        /// Guest TR base.
        TR_BASE = 0x6814,
        /// Guest GDTR base.
        GDTR_BASE = 0x6816,
        /// Guest IDTR base.
        IDTR_BASE = 0x6818,
        /// Guest DR7.
        DR7 = 0x681a,
        /// Guest RSP.
        RSP = 0x681c,
        /// Guest RIP.
        RIP = 0x681e,
        /// Guest RFLAGS.
        RFLAGS = 0x6820,
        /// Guest pending debug exceptions.
        PENDING_DBG_EXCEPTIONS = 0x6822,
        /// Guest IA32_SYSENTER_ESP.
        IA32_SYSENTER_ESP = 0x6824,
        /// Guest IA32_SYSENTER_EIP.
        IA32_SYSENTER_EIP = 0x6826,
    }
}

vmcs_fields! {
    /// 16-bit host-state fields (B.1.3).
    VmcsHost16: u16, W16, Host, rw {
        /// Host ES selector.
        ES_SELECTOR = 0x0c00,
        /// Host CS selector.
        CS_SELECTOR = 0x0c02,
        /// Host SS selector.
        SS_SELECTOR = 0x0c04,
        /// Host DS selector.
        DS_SELECTOR = 0x0c06,
        /// Host FS selector.
        FS_SELECTOR = 0x0c08,
        /// Host GS selector.
        GS_SELECTOR = 0x0c0a,
        /// Host TR selector.
        TR_SELECTOR = 0x0c0c,
    }
}

vmcs_fields! {
    /// 64-bit host-state fields (B.2.4).
    VmcsHost64: u64, W64, Host, rw {
        /// Host IA32_PAT.
        IA32_PAT = 0x2c00,
        /// Host IA32_EFER.
        IA32_EFER = 0x2c02,
        /// Host IA32_PERF_GLOBAL_CTRL.
        IA32_PERF_GLOBAL_CTRL = 0x2c04,
    }
}

vmcs_fields! {
    /// 32-bit host-state field (B.3.4).
    VmcsHost32: u32, W32, Host, rw {
        /// Host IA32_SYSENTER_CS.
        IA32_SYSENTER_CS = 0x4c00,
    }
}

vmcs_fields! {
    /// Natural-width host-state fields (B.4.4).
    VmcsHostNW: usize, Natural, Host, rw {
        /// Host CR0.
        CR0 = 0x6c00,
        /// Host CR3.
        CR3 = 0x6c02,
        /// Host CR4.
        CR4 = 0x6c04,
        /// Host FS base.
        FS_BASE = 0x6c06,
        /// Host GS base.
        GS_BASE = 0x6c08,
        /// Host TR base.
        TR_BASE = 0x6c0a,
        /// Host GDTR base.
        GDTR_BASE = 0x6c0c,
        /// Host IDTR base.
        IDTR_BASE = 0x6c0e,
        /// Host IA32_SYSENTER_ESP.
        IA32_SYSENTER_ESP = 0x6c10,
        /// Host IA32_SYSENTER_EIP.
        IA32_SYSENTER_EIP = 0x6c12,
        /// Host RSP.
        RSP = 0x6c14,
        /// Host RIP.
        RIP = 0x6c16,
    }
}

vmcs_fields! {
    /// 64-bit read-only data fields (B.2.2).
    VmcsReadOnly64: u64, W64, ReadOnly, ro {
        /// Guest-physical address (of an EPT violation or misconfiguration).
        GUEST_PHYSICAL_ADDR = 0x2400,
    }
}

vmcs_fields! {
    /// 32-bit read-only data fields (B.3.2).
    VmcsReadOnly32: u32, W32, ReadOnly, ro {
        /// VM-instruction error.
        VM_INSTRUCTION_ERROR = 0x4400,
        /// Exit reason.
        EXIT_REASON = 0x4402,
        /// VM-exit interruption information.
        VMEXIT_INTERRUPTION_INFO = 0x4404,
        /// VM-exit interruption error code.
        VMEXIT_INTERRUPTION_ERR_CODE = 0x4406,
        /// IDT-vectoring information.
        IDT_VECTORING_INFO = 0x4408,
        /// IDT-vectoring error code.
        IDT_VECTORING_ERR_CODE = 0x440a,
        /// VM-exit instruction length.
        VMEXIT_INSTRUCTION_LEN = 0x440c,
        /// VM-exit instruction information.
        VMEXIT_INSTRUCTION_INFO = 0x440e,
    }
}

vmcs_fields! {
    /// Natural-width read-only data fields (B.4.2).
    VmcsReadOnlyNW: usize, Natural, ReadOnly, ro {
        /// Exit qualification.
        EXIT_QUALIFICATION = 0x6400,
        /// I/O RCX.
        IO_RCX = 0x6402,
        /// I/O RSI.
        IO_RSI = 0x6404,
        /// I/O RDI.
        IO_RDI = 0x6406,
        /// I/O RIP.
        IO_RIP = 0x6408,
        /// Guest-linear address.
        GUEST_LINEAR_ADDR = 0x640a,
    }
}
