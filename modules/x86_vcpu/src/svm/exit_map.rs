//! SVM exit codes (APM appendix C) and an exit, from the VMCB's EXITCODE,
//! EXITINFO1 and EXITINFO2, to a [`GuestExit`].
//!
//! Without NRIPS (QEMU has none) the length of an intercepted instruction
//! is known only from the instruction: `CPUID` and `RDMSR`/`WRMSR` are 2
//! bytes, `HLT` 1, `VMMCALL` and `XSETBV` 3, `INVD` and `WBINVD` 2; an I/O
//! exit gives the next RIP in EXITINFO2.

use axvcpu::{AccessFlags, AccessWidth, GuestPhysAddr};
use tock_registers::LocalRegisterCopy;

use super::definitions::{IOIO_INFO, NPF_INFO};
use crate::exit::{GuestExit, NestedFaultKind};

/// An SVM exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SvmExitCode {
    /// 0x00..0x0f: read of CRn.
    CrRead(u8),
    /// 0x10..0x1f: write of CRn.
    CrWrite(u8),
    /// 0x20..0x2f: read of DRn.
    DrRead(u8),
    /// 0x30..0x3f: write of DRn.
    DrWrite(u8),
    /// 0x40..0x5f: exception vector n.
    Exception(u8),
    /// 0x60: physical interrupt.
    Intr,
    /// 0x61: physical NMI.
    Nmi,
    /// 0x62: SMI.
    Smi,
    /// 0x63: INIT.
    Init,
    /// 0x64: virtual interrupt.
    Vintr,
    /// 0x72: CPUID.
    Cpuid,
    /// 0x76: INVD.
    Invd,
    /// 0x77: PAUSE.
    Pause,
    /// 0x78: HLT.
    Hlt,
    /// 0x7a: INVLPGA.
    Invlpga,
    /// 0x7b: IN/OUT.
    Ioio,
    /// 0x7c: RDMSR/WRMSR.
    Msr,
    /// 0x7d: task switch.
    TaskSwitch,
    /// 0x7f: shutdown.
    Shutdown,
    /// 0x80: VMRUN.
    Vmrun,
    /// 0x81: VMMCALL.
    Vmmcall,
    /// 0x82: VMLOAD.
    Vmload,
    /// 0x83: VMSAVE.
    Vmsave,
    /// 0x84: STGI.
    Stgi,
    /// 0x85: CLGI.
    Clgi,
    /// 0x86: SKINIT.
    Skinit,
    /// 0x87: RDTSCP.
    Rdtscp,
    /// 0x89: WBINVD.
    Wbinvd,
    /// 0x8a: MONITOR.
    Monitor,
    /// 0x8b: MWAIT.
    Mwait,
    /// 0x8c: MWAIT, armed.
    MwaitConditional,
    /// 0x8d: XSETBV.
    Xsetbv,
    /// 0x400: nested page fault.
    Npf,
    /// -1: VMRUN refused the VMCB (QEMU reports it as 0xffff_ffff).
    Invalid,
    /// Any other code.
    Other(u64),
}

impl SvmExitCode {
    /// Decodes EXITCODE.
    pub fn from_raw(code: u64) -> Self {
        /// The low 32 bits of VMEXIT_INVALID (-1).
        const INVALID_LOW: u64 = 0xffff_ffff;
        let n = (code & 0xf) as u8;
        match code {
            0x00..=0x0f => Self::CrRead(n),
            0x10..=0x1f => Self::CrWrite(n),
            0x20..=0x2f => Self::DrRead(n),
            0x30..=0x3f => Self::DrWrite(n),
            0x40..=0x5f => Self::Exception((code - 0x40) as u8),
            0x60 => Self::Intr,
            0x61 => Self::Nmi,
            0x62 => Self::Smi,
            0x63 => Self::Init,
            0x64 => Self::Vintr,
            0x72 => Self::Cpuid,
            0x76 => Self::Invd,
            0x77 => Self::Pause,
            0x78 => Self::Hlt,
            0x7a => Self::Invlpga,
            0x7b => Self::Ioio,
            0x7c => Self::Msr,
            0x7d => Self::TaskSwitch,
            0x7f => Self::Shutdown,
            0x80 => Self::Vmrun,
            0x81 => Self::Vmmcall,
            0x82 => Self::Vmload,
            0x83 => Self::Vmsave,
            0x84 => Self::Stgi,
            0x85 => Self::Clgi,
            0x86 => Self::Skinit,
            0x87 => Self::Rdtscp,
            0x89 => Self::Wbinvd,
            0x8a => Self::Monitor,
            0x8b => Self::Mwait,
            0x8c => Self::MwaitConditional,
            0x8d => Self::Xsetbv,
            0x400 => Self::Npf,
            _ if code & INVALID_LOW == INVALID_LOW => Self::Invalid,
            _ => Self::Other(code),
        }
    }
}

/// The exit fields of the VMCB after a `#VMEXIT`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SvmRawExit {
    /// EXITCODE.
    pub exit_code: u64,
    /// EXITINFO1.
    pub exit_info_1: u64,
    /// EXITINFO2.
    pub exit_info_2: u64,
    /// The guest's RIP at the exit.
    pub rip: u64,
}

/// Instruction lengths of the intercepted instructions (no NRIPS).
mod len {
    pub const CPUID: u8 = 2;
    pub const HLT: u8 = 1;
    pub const VMMCALL: u8 = 3;
    pub const RDMSR_WRMSR: u8 = 2;
    pub const XSETBV: u8 = 3;
    pub const INVD_WBINVD: u8 = 2;
}

/// EXITINFO1 bit 0 of an MSR intercept: 1 = WRMSR.
const MSR_WRITE: u64 = 1;

fn ioio(raw: &SvmRawExit) -> Option<GuestExit> {
    let info = LocalRegisterCopy::<u64, IOIO_INFO::Register>::new(raw.exit_info_1);
    if info.is_set(IOIO_INFO::STR) {
        return None;
    }
    let width = if info.is_set(IOIO_INFO::SZ8) {
        AccessWidth::Byte
    } else if info.is_set(IOIO_INFO::SZ16) {
        AccessWidth::Word
    } else if info.is_set(IOIO_INFO::SZ32) {
        AccessWidth::Dword
    } else {
        return None;
    };
    let len = u8::try_from(raw.exit_info_2.wrapping_sub(raw.rip))
        .ok()
        .filter(|l| (1..=15).contains(l))?;
    let port = info.read(IOIO_INFO::PORT) as u16;
    Some(if info.is_set(IOIO_INFO::TYPE) {
        GuestExit::IoIn { port, width, len }
    } else {
        GuestExit::IoOut { port, width, len }
    })
}

fn npf(raw: &SvmRawExit) -> GuestExit {
    let info = LocalRegisterCopy::<u64, NPF_INFO::Register>::new(raw.exit_info_1);
    let access = if info.is_set(NPF_INFO::ID) {
        AccessFlags::EXECUTE
    } else if info.is_set(NPF_INFO::RW) {
        AccessFlags::WRITE
    } else {
        AccessFlags::READ
    };
    let kind = if info.is_set(NPF_INFO::GUEST_TABLE) {
        NestedFaultKind::GuestTableWalk
    } else if info.is_set(NPF_INFO::P) {
        NestedFaultKind::Permission
    } else {
        NestedFaultKind::NotPresent
    };
    GuestExit::NestedFault {
        gpa: GuestPhysAddr::from(raw.exit_info_2 as usize),
        access,
        kind,
    }
}

/// Decodes an exit. Every value decodes to something: what is not
/// recognised is [`GuestExit::Unsupported`] with EXITCODE and EXITINFO1.
pub fn decode_exit(raw: &SvmRawExit) -> GuestExit {
    use GuestExit as G;
    use SvmExitCode as C;
    let unsupported = G::Unsupported {
        raw: raw.exit_code,
        detail: raw.exit_info_1,
    };
    match SvmExitCode::from_raw(raw.exit_code) {
        C::Invalid => G::EntryFailure { reason: raw.exit_code },
        C::Intr => G::ExternalInterrupt { vector: None },
        C::Nmi => G::Nmi,
        C::Vintr => G::InterruptWindow,
        C::Cpuid => G::Cpuid { len: len::CPUID },
        C::Hlt => G::Hlt { len: len::HLT },
        C::Vmmcall => G::Hypercall { len: len::VMMCALL },
        C::Xsetbv => G::Xsetbv { len: len::XSETBV },
        C::Invd | C::Wbinvd => G::Skip { len: len::INVD_WBINVD },
        C::Msr if raw.exit_info_1 & MSR_WRITE != 0 => G::MsrWrite { len: len::RDMSR_WRMSR },
        C::Msr => G::MsrRead { len: len::RDMSR_WRMSR },
        C::Ioio => ioio(raw).unwrap_or(unsupported),
        C::Npf => npf(raw),
        C::Shutdown => G::Shutdown,
        C::Vmrun
        | C::Vmload
        | C::Vmsave
        | C::Stgi
        | C::Clgi
        | C::Skinit
        | C::Invlpga
        | C::Monitor
        | C::Mwait
        | C::MwaitConditional => G::UndefinedInstruction,
        _ => unsupported,
    }
}

#[cfg(test)]
mod tests;
