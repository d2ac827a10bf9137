//! The VMCB (AMD APM Vol. 2, appendix B): a 4 KiB page with the control
//! area at offset 0 and the guest's state save area at 0x400. Both are
//! `#[repr(C)]` structs whose field offsets the tests check against the
//! APM's tables B-1 and B-2.

/// A segment register in the state save area.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct VmcbSegment {
    /// Selector.
    pub selector: u16,
    /// Attributes (type, S, DPL, P, AVL, L, D/B, G packed into 12 bits).
    pub attrib: u16,
    /// Limit.
    pub limit: u32,
    /// Base.
    pub base: u64,
}

/// The control area (table B-1).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VmcbControlArea {
    /// 0x000: CR0-15 read intercepts (bits 15:0), write intercepts (31:16).
    pub intercept_cr: u32,
    /// 0x004: DR0-15 read and write intercepts.
    pub intercept_dr: u32,
    /// 0x008: exception intercepts, bit per vector.
    pub intercept_exceptions: u32,
    /// 0x00c: intercept vector 3 ([`super::definitions::InterceptVec3`]).
    pub intercept_vec3: u32,
    /// 0x010: intercept vector 4 ([`super::definitions::InterceptVec4`]).
    pub intercept_vec4: u32,
    /// 0x014: intercept vector 5 (INVLPGB, INVPCID, MCOMMIT, TLBSYNC).
    pub intercept_vec5: u32,
    _reserved1: [u8; 0x3c - 0x18],
    /// 0x03c: PAUSE filter threshold.
    pub pause_filter_threshold: u16,
    /// 0x03e: PAUSE filter count.
    pub pause_filter_count: u16,
    /// 0x040: physical address of the I/O permission map.
    pub iopm_base_pa: u64,
    /// 0x048: physical address of the MSR permission map.
    pub msrpm_base_pa: u64,
    /// 0x050: TSC offset.
    pub tsc_offset: u64,
    /// 0x058: guest ASID.
    pub guest_asid: u32,
    /// 0x05c: TLB control (0 nothing, 1 flush all, 3 this ASID, 7 this
    /// ASID's non-global).
    pub tlb_control: u8,
    _reserved2: [u8; 3],
    /// 0x060: V_TPR, V_IRQ, V_INTR_PRIO, V_IGN_TPR, V_INTR_MASKING,
    /// V_INTR_VECTOR ([`super::definitions::VINTR`]).
    pub int_control: u64,
    /// 0x068: interrupt shadow (bit 0), guest interrupt mask (bit 1).
    pub int_state: u64,
    /// 0x070: EXITCODE.
    pub exit_code: u64,
    /// 0x078: EXITINFO1.
    pub exit_info_1: u64,
    /// 0x080: EXITINFO2.
    pub exit_info_2: u64,
    /// 0x088: EXITINTINFO: the event being delivered at the exit.
    pub exit_int_info: u64,
    /// 0x090: nested paging enable (bit 0), SEV, SEV-ES.
    pub nested_ctl: u64,
    /// 0x098: AVIC APIC_BAR.
    pub avic_apic_bar: u64,
    /// 0x0a0: guest physical address of the GHCB.
    pub ghcb_pa: u64,
    /// 0x0a8: EVENTINJ ([`super::definitions::EVENTINJ`]).
    pub event_inj: u64,
    /// 0x0b0: N_CR3, the nested page table root.
    pub n_cr3: u64,
    /// 0x0b8: LBR virtualization enable, VMSAVE/VMLOAD virtualization.
    pub virt_ext: u64,
    /// 0x0c0: VMCB clean bits.
    pub clean_bits: u32,
    _reserved3: u32,
    /// 0x0c8: next sequential RIP (NRIPS; QEMU does not write it).
    pub next_rip: u64,
    /// 0x0d0: bytes fetched (decode assists; not in QEMU).
    pub insn_len: u8,
    /// 0x0d1: the instruction bytes.
    pub insn_bytes: [u8; 15],
    /// 0x0e0: AVIC APIC backing page pointer.
    pub avic_backing_page: u64,
    _reserved4: u64,
    /// 0x0f0: AVIC logical table pointer.
    pub avic_logical_table: u64,
    /// 0x0f8: AVIC physical table pointer.
    pub avic_physical_table: u64,
    _reserved5: u64,
    /// 0x108: VMSA pointer (SEV-ES).
    pub vmsa_pa: u64,
    _reserved6: [u8; 0x400 - 0x110],
}

/// The state save area (table B-2), offsets relative to its start.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VmcbStateSaveArea {
    /// 0x000.
    pub es: VmcbSegment,
    /// 0x010.
    pub cs: VmcbSegment,
    /// 0x020.
    pub ss: VmcbSegment,
    /// 0x030.
    pub ds: VmcbSegment,
    /// 0x040.
    pub fs: VmcbSegment,
    /// 0x050.
    pub gs: VmcbSegment,
    /// 0x060: only limit and base are used.
    pub gdtr: VmcbSegment,
    /// 0x070.
    pub ldtr: VmcbSegment,
    /// 0x080: only limit and base are used.
    pub idtr: VmcbSegment,
    /// 0x090.
    pub tr: VmcbSegment,
    _reserved1: [u8; 0xcb - 0xa0],
    /// 0x0cb: the current privilege level.
    pub cpl: u8,
    _reserved2: u32,
    /// 0x0d0.
    pub efer: u64,
    _reserved3: [u8; 0x148 - 0xd8],
    /// 0x148.
    pub cr4: u64,
    /// 0x150.
    pub cr3: u64,
    /// 0x158.
    pub cr0: u64,
    /// 0x160.
    pub dr7: u64,
    /// 0x168.
    pub dr6: u64,
    /// 0x170.
    pub rflags: u64,
    /// 0x178.
    pub rip: u64,
    _reserved4: [u8; 0x1d8 - 0x180],
    /// 0x1d8.
    pub rsp: u64,
    /// 0x1e0: S_CET.
    pub s_cet: u64,
    /// 0x1e8: SSP.
    pub ssp: u64,
    /// 0x1f0: ISST_ADDR.
    pub isst_addr: u64,
    /// 0x1f8.
    pub rax: u64,
    /// 0x200.
    pub star: u64,
    /// 0x208.
    pub lstar: u64,
    /// 0x210.
    pub cstar: u64,
    /// 0x218.
    pub sfmask: u64,
    /// 0x220.
    pub kernel_gs_base: u64,
    /// 0x228.
    pub sysenter_cs: u64,
    /// 0x230.
    pub sysenter_esp: u64,
    /// 0x238.
    pub sysenter_eip: u64,
    /// 0x240.
    pub cr2: u64,
    _reserved5: [u8; 0x268 - 0x248],
    /// 0x268: the guest's PAT (with nested paging).
    pub g_pat: u64,
    /// 0x270.
    pub dbgctl: u64,
    /// 0x278.
    pub br_from: u64,
    /// 0x280.
    pub br_to: u64,
    /// 0x288.
    pub last_excp_from: u64,
    /// 0x290.
    pub last_excp_to: u64,
    _reserved6: [u8; 0xc00 - 0x298],
}

/// A whole VMCB page.
#[repr(C, align(4096))]
#[derive(Debug, Clone, Copy)]
pub struct Vmcb {
    /// Offset 0.
    pub control: VmcbControlArea,
    /// Offset 0x400.
    pub save: VmcbStateSaveArea,
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn sizes() {
        assert_eq!(size_of::<VmcbSegment>(), 16);
        assert_eq!(size_of::<VmcbControlArea>(), 0x400);
        assert_eq!(size_of::<Vmcb>(), 4096);
        assert_eq!(offset_of!(Vmcb, save), 0x400);
    }

    #[test]
    fn control_area_offsets_from_table_b1() {
        let c = |o: usize, name: &str, expected: usize| assert_eq!(o, expected, "{name}");
        c(offset_of!(VmcbControlArea, intercept_cr), "CR intercepts", 0x000);
        c(offset_of!(VmcbControlArea, intercept_vec3), "vector 3", 0x00c);
        c(offset_of!(VmcbControlArea, intercept_vec4), "vector 4", 0x010);
        c(offset_of!(VmcbControlArea, intercept_vec5), "vector 5", 0x014);
        c(
            offset_of!(VmcbControlArea, pause_filter_threshold),
            "PAUSE threshold",
            0x03c,
        );
        c(offset_of!(VmcbControlArea, iopm_base_pa), "IOPM_BASE_PA", 0x040);
        c(offset_of!(VmcbControlArea, msrpm_base_pa), "MSRPM_BASE_PA", 0x048);
        c(offset_of!(VmcbControlArea, tsc_offset), "TSC_OFFSET", 0x050);
        c(offset_of!(VmcbControlArea, guest_asid), "ASID", 0x058);
        c(offset_of!(VmcbControlArea, tlb_control), "TLB_CONTROL", 0x05c);
        c(offset_of!(VmcbControlArea, int_control), "V_TPR..", 0x060);
        c(offset_of!(VmcbControlArea, int_state), "INTERRUPT_SHADOW", 0x068);
        c(offset_of!(VmcbControlArea, exit_code), "EXITCODE", 0x070);
        c(offset_of!(VmcbControlArea, exit_info_1), "EXITINFO1", 0x078);
        c(offset_of!(VmcbControlArea, exit_info_2), "EXITINFO2", 0x080);
        c(offset_of!(VmcbControlArea, exit_int_info), "EXITINTINFO", 0x088);
        c(offset_of!(VmcbControlArea, nested_ctl), "NP_ENABLE", 0x090);
        c(offset_of!(VmcbControlArea, event_inj), "EVENTINJ", 0x0a8);
        c(offset_of!(VmcbControlArea, n_cr3), "N_CR3", 0x0b0);
        c(offset_of!(VmcbControlArea, clean_bits), "clean bits", 0x0c0);
        c(offset_of!(VmcbControlArea, next_rip), "nRIP", 0x0c8);
        c(offset_of!(VmcbControlArea, insn_len), "bytes fetched", 0x0d0);
        c(
            offset_of!(VmcbControlArea, avic_backing_page),
            "AVIC backing page",
            0x0e0,
        );
        c(offset_of!(VmcbControlArea, vmsa_pa), "VMSA", 0x108);
    }

    #[test]
    fn state_save_offsets_from_table_b2() {
        let s = |o: usize, name: &str, expected: usize| assert_eq!(o, expected, "{name}");
        s(offset_of!(VmcbStateSaveArea, cs), "CS", 0x010);
        s(offset_of!(VmcbStateSaveArea, gdtr), "GDTR", 0x060);
        s(offset_of!(VmcbStateSaveArea, tr), "TR", 0x090);
        s(offset_of!(VmcbStateSaveArea, cpl), "CPL", 0x0cb);
        s(offset_of!(VmcbStateSaveArea, efer), "EFER", 0x0d0);
        s(offset_of!(VmcbStateSaveArea, cr4), "CR4", 0x148);
        s(offset_of!(VmcbStateSaveArea, cr3), "CR3", 0x150);
        s(offset_of!(VmcbStateSaveArea, cr0), "CR0", 0x158);
        s(offset_of!(VmcbStateSaveArea, rflags), "RFLAGS", 0x170);
        s(offset_of!(VmcbStateSaveArea, rip), "RIP", 0x178);
        s(offset_of!(VmcbStateSaveArea, rsp), "RSP", 0x1d8);
        s(offset_of!(VmcbStateSaveArea, rax), "RAX", 0x1f8);
        s(offset_of!(VmcbStateSaveArea, star), "STAR", 0x200);
        s(offset_of!(VmcbStateSaveArea, kernel_gs_base), "KernelGsBase", 0x220);
        s(offset_of!(VmcbStateSaveArea, sysenter_eip), "SYSENTER_EIP", 0x238);
        s(offset_of!(VmcbStateSaveArea, cr2), "CR2", 0x240);
        s(offset_of!(VmcbStateSaveArea, g_pat), "G_PAT", 0x268);
        s(offset_of!(VmcbStateSaveArea, last_excp_to), "LASTEXCPTO", 0x290);
        // The absolute offsets the APM quotes for the whole VMCB.
        assert_eq!(offset_of!(Vmcb, save) + offset_of!(VmcbStateSaveArea, rip), 0x578);
        assert_eq!(offset_of!(Vmcb, save) + offset_of!(VmcbStateSaveArea, rax), 0x5f8);
        assert_eq!(offset_of!(Vmcb, control) + offset_of!(VmcbControlArea, exit_code), 0x70);
    }
}
