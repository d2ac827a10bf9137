//! A VMX exit, from the raw VMCS exit fields to a [`GuestExit`] (or the
//! one VMX-only exit, a control-register access).

use axvcpu::{AccessWidth, GuestPhysAddr};

use super::exit_info::{
    CrAccessInfo, EptViolationInfo, VmxExitInfo, VmxInterruptInfo, VmxInterruptionType, VmxIoExitInfo,
};
use super::exit_reason::VmxExitReason;
use crate::exit::GuestExit;

/// The exit fields the vCPU reads from the VMCS after every exit.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct VmxRawExit {
    /// Exit reason (the whole field, with the entry-failure bit).
    pub reason: u32,
    /// Exit qualification.
    pub qualification: u64,
    /// VM-exit instruction length.
    pub instruction_len: u32,
    /// Guest-physical address (EPT violations).
    pub guest_physical: u64,
    /// VM-exit interruption information.
    pub interrupt_info: u32,
}

/// A VMX exit, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmxExit {
    /// An exit both backends share.
    Common(GuestExit),
    /// `MOV to/from CR`, `CLTS`, `LMSW` on a bit the hypervisor owns.
    CrAccess {
        /// The qualification.
        info: CrAccessInfo,
        /// Instruction length.
        len: u8,
    },
}

/// The width of an I/O access of `size` bytes (1, 2, 4).
fn io_width(size: u8) -> Option<AccessWidth> {
    match size {
        1 => Some(AccessWidth::Byte),
        2 => Some(AccessWidth::Word),
        4 => Some(AccessWidth::Dword),
        _ => None,
    }
}

/// Decodes a raw exit. Every value decodes to something: what is not
/// recognised is [`GuestExit::Unsupported`] with the raw reason and
/// qualification.
pub fn decode_exit(raw: &VmxRawExit) -> VmxExit {
    use GuestExit as G;
    use VmxExitReason as R;
    let info = VmxExitInfo::new(raw.reason, raw.instruction_len, 0);
    // An instruction is at most 15 bytes; anything else is not a length.
    let len = u8::try_from(raw.instruction_len).unwrap_or(0).min(15);
    let unsupported = G::Unsupported {
        raw: u64::from(raw.reason),
        detail: raw.qualification,
    };
    if info.entry_failure {
        return VmxExit::Common(G::EntryFailure {
            reason: u64::from(raw.reason),
        });
    }
    let Ok(reason) = info.exit_reason else {
        return VmxExit::Common(unsupported);
    };
    let interrupt = VmxInterruptInfo::from_bits(raw.interrupt_info, 0).filter(|i| i.valid);
    VmxExit::Common(match reason {
        R::EXCEPTION_NMI => match interrupt {
            Some(i) if i.int_type == VmxInterruptionType::Nmi => G::Nmi,
            _ => G::Unsupported {
                raw: u64::from(raw.reason),
                detail: u64::from(raw.interrupt_info),
            },
        },
        R::EXTERNAL_INTERRUPT => G::ExternalInterrupt {
            vector: interrupt.map(|i| i.vector),
        },
        R::TRIPLE_FAULT => G::Shutdown,
        R::INTERRUPT_WINDOW => G::InterruptWindow,
        R::CPUID => G::Cpuid { len },
        R::HLT => G::Hlt { len },
        R::VMCALL => G::Hypercall { len },
        R::INVD | R::WBINVD => G::Skip { len },
        R::GETSEC
        | R::VMCLEAR
        | R::VMLAUNCH
        | R::VMPTRLD
        | R::VMPTRST
        | R::VMREAD
        | R::VMRESUME
        | R::VMWRITE
        | R::VMOFF
        | R::VMON
        | R::INVEPT
        | R::INVVPID
        | R::VMFUNC
        | R::MWAIT_INSTRUCTION
        | R::MONITOR_INSTRUCTION => G::UndefinedInstruction,
        R::CR_ACCESS => {
            return VmxExit::CrAccess {
                info: CrAccessInfo::from_qualification(raw.qualification),
                len,
            };
        }
        R::IO_INSTRUCTION => {
            let io = VmxIoExitInfo::from_qualification(raw.qualification);
            match io_width(io.access_size) {
                Some(width) if !io.is_string => {
                    if io.is_in {
                        G::IoIn {
                            port: io.port,
                            width,
                            len,
                        }
                    } else {
                        G::IoOut {
                            port: io.port,
                            width,
                            len,
                        }
                    }
                }
                // INS/OUTS are not emulated; reserved sizes.
                _ => unsupported,
            }
        }
        R::MSR_READ => G::MsrRead { len },
        R::MSR_WRITE => G::MsrWrite { len },
        R::EPT_VIOLATION => {
            let ept = EptViolationInfo::from_qualification(raw.qualification);
            G::NestedFault {
                gpa: GuestPhysAddr::from(raw.guest_physical as usize),
                access: ept.access,
                kind: ept.kind(),
            }
        }
        R::PREEMPTION_TIMER => G::PreemptionTimer,
        R::XSETBV => G::Xsetbv { len },
        _ => unsupported,
    })
}

#[cfg(test)]
mod tests;
