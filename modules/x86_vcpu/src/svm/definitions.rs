//! SVM constants and field layouts (AMD APM Vol. 2, chapter 15 and
//! appendix C): intercept bits, exit codes, the virtual-interrupt control,
//! EVENTINJ, and the EXITINFO1 layouts of I/O and nested page faults.

#![allow(missing_docs)] // register_bitfields! items; each field is documented below.

use bitflags::bitflags;
use tock_registers::register_bitfields;

bitflags! {
    /// Intercept vector 3 (VMCB offset 0x00c, APM table B-1).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct InterceptVec3: u32 {
        /// Physical maskable interrupt.
        const INTR = 1 << 0;
        /// Physical NMI.
        const NMI = 1 << 1;
        /// SMI.
        const SMI = 1 << 2;
        /// INIT.
        const INIT = 1 << 3;
        /// Virtual interrupt (V_IRQ taken).
        const VINTR = 1 << 4;
        /// RDTSC.
        const RDTSC = 1 << 14;
        /// CPUID.
        const CPUID = 1 << 18;
        /// INVD.
        const INVD = 1 << 22;
        /// PAUSE.
        const PAUSE = 1 << 23;
        /// HLT.
        const HLT = 1 << 24;
        /// INVLPGA.
        const INVLPGA = 1 << 26;
        /// IN/OUT, through the I/O permission map.
        const IOIO_PROT = 1 << 27;
        /// RDMSR/WRMSR, through the MSR permission map.
        const MSR_PROT = 1 << 28;
        /// Shutdown (triple fault).
        const SHUTDOWN = 1 << 31;
    }

    /// Intercept vector 4 (VMCB offset 0x010).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct InterceptVec4: u32 {
        /// VMRUN (must be set, or VMRUN fails).
        const VMRUN = 1 << 0;
        /// VMMCALL.
        const VMMCALL = 1 << 1;
        /// VMLOAD.
        const VMLOAD = 1 << 2;
        /// VMSAVE.
        const VMSAVE = 1 << 3;
        /// STGI.
        const STGI = 1 << 4;
        /// CLGI.
        const CLGI = 1 << 5;
        /// SKINIT.
        const SKINIT = 1 << 6;
        /// RDTSCP.
        const RDTSCP = 1 << 7;
        /// WBINVD.
        const WBINVD = 1 << 9;
        /// MONITOR.
        const MONITOR = 1 << 10;
        /// MWAIT.
        const MWAIT = 1 << 11;
        /// MWAIT when armed.
        const MWAIT_CONDITIONAL = 1 << 12;
        /// XSETBV.
        const XSETBV = 1 << 13;
    }
}

register_bitfields! {u64,
    /// The virtual-interrupt control (VMCB offset 0x060).
    pub VINTR [
        /// The virtual TPR.
        V_TPR OFFSET(0) NUMBITS(8) [],
        /// A virtual interrupt is pending.
        V_IRQ OFFSET(8) NUMBITS(1) [],
        /// Its priority.
        V_INTR_PRIO OFFSET(16) NUMBITS(4) [],
        /// Ignore the virtual TPR.
        V_IGN_TPR OFFSET(20) NUMBITS(1) [],
        /// Virtualise interrupt masking: the guest's RFLAGS.IF masks only
        /// virtual interrupts.
        V_INTR_MASKING OFFSET(24) NUMBITS(1) [],
        /// Its vector.
        V_INTR_VECTOR OFFSET(32) NUMBITS(8) []
    ],

    /// EVENTINJ and EXITINTINFO (APM 15.20).
    pub EVENTINJ [
        /// The vector.
        VECTOR OFFSET(0) NUMBITS(8) [],
        /// The type.
        TYPE OFFSET(8) NUMBITS(3) [
            /// External interrupt.
            Interrupt = 0,
            /// NMI.
            Nmi = 2,
            /// Exception (fault or trap).
            Exception = 3,
            /// Software interrupt (INTn).
            SoftwareInterrupt = 4
        ],
        /// An error code is pushed.
        EV OFFSET(11) NUMBITS(1) [],
        /// Valid.
        V OFFSET(31) NUMBITS(1) [],
        /// The error code.
        ERRORCODE OFFSET(32) NUMBITS(32) []
    ],

    /// EXITINFO1 of an IOIO intercept (APM 15.10.2, figure 15-2).
    pub IOIO_INFO [
        /// 1 = IN.
        TYPE OFFSET(0) NUMBITS(1) [],
        /// String instruction.
        STR OFFSET(2) NUMBITS(1) [],
        /// REP prefix.
        REP OFFSET(3) NUMBITS(1) [],
        /// 8-bit operand.
        SZ8 OFFSET(4) NUMBITS(1) [],
        /// 16-bit operand.
        SZ16 OFFSET(5) NUMBITS(1) [],
        /// 32-bit operand.
        SZ32 OFFSET(6) NUMBITS(1) [],
        /// Address size 16, 32, 64 (bits 7, 8, 9).
        ADDR_SIZE OFFSET(7) NUMBITS(3) [],
        /// Effective segment of a string instruction.
        SEG OFFSET(10) NUMBITS(3) [],
        /// The port.
        PORT OFFSET(16) NUMBITS(16) []
    ],

    /// EXITINFO1 of a nested page fault (APM 15.25.6).
    pub NPF_INFO [
        /// The entry was present (a protection fault).
        P OFFSET(0) NUMBITS(1) [],
        /// A write.
        RW OFFSET(1) NUMBITS(1) [],
        /// A user-mode access.
        US OFFSET(2) NUMBITS(1) [],
        /// A reserved bit was set.
        RSV OFFSET(3) NUMBITS(1) [],
        /// An instruction fetch.
        ID OFFSET(4) NUMBITS(1) [],
        /// The fault was on the final guest physical address.
        FINAL_ADDR OFFSET(32) NUMBITS(1) [],
        /// The fault was on a guest page-table access.
        GUEST_TABLE OFFSET(33) NUMBITS(1) []
    ]
}

/// VMCB TLB_CONTROL: flush this guest's TLB entries on the next VMRUN
/// (flush all, since QEMU lacks flush-by-ASID).
pub const TLB_CONTROL_FLUSH_ALL: u8 = 1;
/// VMCB offset 0x090 bit 0: nested paging.
pub const NP_ENABLE: u64 = 1 << 0;
/// VMCB offset 0x068 bit 0: the guest is in an interrupt shadow.
pub const INT_STATE_SHADOW: u64 = 1 << 0;

/// EFER bits SVM cares about (APM 3.1.7).
pub mod efer {
    /// SYSCALL enable.
    pub const SCE: u64 = 1 << 0;
    /// Long mode enable.
    pub const LME: u64 = 1 << 8;
    /// Long mode active (read-only).
    pub const LMA: u64 = 1 << 10;
    /// No-execute enable.
    pub const NXE: u64 = 1 << 11;
    /// SVM enable: must stay 1 in the guest's EFER (a VMRUN check).
    pub const SVME: u64 = 1 << 12;
    /// Long mode segment limit enable.
    pub const LMSLE: u64 = 1 << 13;
    /// Fast FXSAVE/FXRSTOR.
    pub const FFXSR: u64 = 1 << 14;
    /// Translation cache extension.
    pub const TCE: u64 = 1 << 15;
    /// Every bit a guest may write.
    pub const WRITABLE: u64 = SCE | LME | LMA | NXE | LMSLE | FFXSR | TCE;
}

/// The EFER the guest sees: its own, without the SVME the hypervisor keeps
/// set.
pub const fn guest_visible_efer(vmcb_efer: u64) -> u64 {
    vmcb_efer & !efer::SVME
}

/// The VMCB EFER after the guest writes `value` (LMA cannot be written and
/// SVME stays set); `None` (a #GP) for a reserved bit or SVME.
pub const fn guest_efer_write(current: u64, value: u64) -> Option<u64> {
    if value & !efer::WRITABLE != 0 {
        return None;
    }
    Some((value & !efer::LMA) | (current & efer::LMA) | efer::SVME)
}

/// Whether `value` is a valid PAT: every entry a defined memory type (0,
/// 1, 4, 5, 6, 7).
pub const fn pat_valid(value: u64) -> bool {
    let mut i = 0;
    while i < 8 {
        let t = (value >> (8 * i)) & 0xff;
        if !matches!(t, 0 | 1 | 4 | 5 | 6 | 7) {
            return false;
        }
        i += 1;
    }
    true
}

/// An EVENTINJ value: a valid event of `kind` with `vector` and, for
/// exceptions that push one, `error_code`.
pub fn event_injection(vector: u8, kind: EventKind, error_code: Option<u32>) -> u64 {
    use tock_registers::LocalRegisterCopy;
    let ty = match kind {
        EventKind::Interrupt => EVENTINJ::TYPE::Interrupt,
        EventKind::Exception => EVENTINJ::TYPE::Exception,
    };
    let mut r = LocalRegisterCopy::<u64, EVENTINJ::Register>::new(0);
    r.modify(
        EVENTINJ::VECTOR.val(u64::from(vector))
            + ty
            + EVENTINJ::EV.val(u64::from(error_code.is_some()))
            + EVENTINJ::V::SET
            + EVENTINJ::ERRORCODE.val(u64::from(error_code.unwrap_or(0))),
    );
    r.get()
}

/// Whether EVENTINJ / EXITINTINFO value `v` is valid.
pub fn event_valid(v: u64) -> bool {
    EVENTINJ::V.is_set(v)
}

/// The kinds of event the vCPU injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// An external interrupt.
    Interrupt,
    /// An exception.
    Exception,
}

/// The virtual-interrupt control with interrupt masking virtualised and,
/// when `request` is set, a virtual interrupt pending at the highest
/// priority regardless of the TPR: the guest exits (VINTR) as soon as it
/// can take an interrupt, and the vCPU then injects the real one.
pub fn vintr_control(request: bool) -> u64 {
    use tock_registers::LocalRegisterCopy;
    /// The highest interrupt priority.
    const TOP_PRIORITY: u64 = 0xf;
    let mut r = LocalRegisterCopy::<u64, VINTR::Register>::new(0);
    r.modify(VINTR::V_INTR_MASKING::SET);
    if request {
        r.modify(VINTR::V_IRQ::SET + VINTR::V_INTR_PRIO.val(TOP_PRIORITY) + VINTR::V_IGN_TPR::SET);
    }
    r.get()
}

/// Emulates `RDMSR`/`WRMSR` of the two MSRs the SVM vCPU keeps in the VMCB
/// itself, EFER (whose SVME the guest must not see or clear) and PAT (the
/// guest's G_PAT); `None` for any other exit or MSR.
pub fn vmcb_msr(
    exit: &crate::exit::GuestExit,
    regs: &mut crate::regs::GeneralRegisters,
    efer: &mut u64,
    g_pat: &mut u64,
) -> Option<crate::exit::ExitAction> {
    use crate::event::Exception;
    use crate::exit::{ExitAction, GuestExit};
    use crate::msr::Msr;
    const EFER: u32 = Msr::IA32_EFER.number();
    const PAT: u32 = Msr::IA32_PAT.number();
    let (len, write) = match *exit {
        GuestExit::MsrRead { len } => (len, false),
        GuestExit::MsrWrite { len } => (len, true),
        _ => return None,
    };
    let value = regs.get_edx_eax();
    let ok = match (regs.ecx(), write) {
        (EFER, false) => {
            regs.set_edx_eax(guest_visible_efer(*efer));
            true
        }
        (EFER, true) => guest_efer_write(*efer, value).map(|v| *efer = v).is_some(),
        (PAT, false) => {
            regs.set_edx_eax(*g_pat);
            true
        }
        (PAT, true) => {
            pat_valid(value) && {
                *g_pat = value;
                true
            }
        }
        _ => return None,
    };
    Some(if ok {
        ExitAction::Resume { advance: len }
    } else {
        ExitAction::Inject(Exception::GP0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Exception;
    use crate::exit::{ExitAction, GuestExit};
    use crate::regs::GeneralRegisters;

    #[test]
    fn event_injection_encoding() {
        // APM 15.20: vector 7:0, type 10:8 (3 = exception), EV bit 11,
        // V bit 31, error code 63:32.
        assert_eq!(event_injection(13, EventKind::Exception, Some(0)), 0x8000_0b0d);
        assert_eq!(event_injection(6, EventKind::Exception, None), 0x8000_0306);
        assert_eq!(event_injection(14, EventKind::Exception, Some(5)), 0x5_8000_0b0e);
        assert_eq!(event_injection(0x20, EventKind::Interrupt, None), 0x8000_0020);
        assert!(event_valid(0x8000_0020) && !event_valid(0x20));
    }

    #[test]
    fn virtual_interrupt_request() {
        // V_INTR_MASKING is bit 24; V_IRQ 8, priority 19:16, V_IGN_TPR 20.
        assert_eq!(vintr_control(false), 1 << 24);
        assert_eq!(vintr_control(true), (1 << 24) | (1 << 20) | (0xf << 16) | (1 << 8));
    }

    #[test]
    fn efer_and_pat_live_in_the_vmcb() {
        let mut efer = efer::SVME | efer::LME | efer::LMA;
        let mut pat = 0x0007_0406_0007_0406;
        let mut regs = GeneralRegisters {
            rcx: 0xc000_0080,
            ..Default::default()
        };
        let read = GuestExit::MsrRead { len: 2 };
        let write = GuestExit::MsrWrite { len: 2 };
        assert_eq!(
            vmcb_msr(&read, &mut regs, &mut efer, &mut pat),
            Some(ExitAction::Resume { advance: 2 })
        );
        assert_eq!(regs.get_edx_eax(), efer::LME | efer::LMA, "SVME hidden");
        regs.set_edx_eax(efer::LME | efer::NXE | efer::SCE);
        vmcb_msr(&write, &mut regs, &mut efer, &mut pat);
        assert_eq!(efer, efer::SVME | efer::LME | efer::LMA | efer::NXE | efer::SCE);
        regs.set_edx_eax(efer::SVME);
        assert_eq!(
            vmcb_msr(&write, &mut regs, &mut efer, &mut pat),
            Some(ExitAction::Inject(Exception::GP0))
        );
        regs.rcx = 0x277;
        regs.set_edx_eax(0x0606_0606_0606_0606);
        vmcb_msr(&write, &mut regs, &mut efer, &mut pat);
        assert_eq!(pat, 0x0606_0606_0606_0606);
        regs.set_edx_eax(0x02);
        assert_eq!(
            vmcb_msr(&write, &mut regs, &mut efer, &mut pat),
            Some(ExitAction::Inject(Exception::GP0))
        );
        regs.rcx = 0x10;
        assert_eq!(vmcb_msr(&read, &mut regs, &mut efer, &mut pat), None);
        assert_eq!(
            vmcb_msr(&GuestExit::Hlt { len: 1 }, &mut regs, &mut efer, &mut pat),
            None
        );
    }

    #[test]
    fn intercept_bits_from_table_b1() {
        assert_eq!(InterceptVec3::CPUID.bits(), 1 << 18);
        assert_eq!(InterceptVec3::HLT.bits(), 1 << 24);
        assert_eq!(InterceptVec3::IOIO_PROT.bits(), 1 << 27);
        assert_eq!(InterceptVec3::MSR_PROT.bits(), 1 << 28);
        assert_eq!(InterceptVec3::SHUTDOWN.bits(), 1 << 31);
        assert_eq!(InterceptVec4::VMRUN.bits(), 1);
        assert_eq!(InterceptVec4::VMMCALL.bits(), 2);
        assert_eq!(InterceptVec4::XSETBV.bits(), 1 << 13);
    }

    #[test]
    fn efer_and_pat() {
        let lme_lma = efer::LME | efer::LMA | efer::SVME;
        assert_eq!(guest_visible_efer(lme_lma), efer::LME | efer::LMA);
        // LMA is kept from the current value whatever the guest writes.
        assert_eq!(
            guest_efer_write(lme_lma, efer::LME | efer::NXE),
            Some(lme_lma | efer::NXE)
        );
        assert_eq!(guest_efer_write(efer::SVME, efer::LMA), Some(efer::SVME));
        assert_eq!(guest_efer_write(efer::SVME, efer::SVME), None);
        assert_eq!(guest_efer_write(efer::SVME, 1 << 20), None);
        // The reset PAT, and one with the reserved type 2.
        assert!(pat_valid(0x0007_0406_0007_0406));
        assert!(!pat_valid(0x0007_0406_0007_0402));
        assert!(!pat_valid(0xff << 56));
    }
}
