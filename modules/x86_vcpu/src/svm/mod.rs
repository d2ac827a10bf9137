//! The AMD SVM backend (with nested paging), for CPUs without VMX and for
//! QEMU's software emulation, which emulates SVM and not VMX.
//!
//! - [`vmcb`]: the VMCB layout; [`definitions`]: intercept bits, the
//!   virtual-interrupt control, EVENTINJ, the EXITINFO1 layouts, the
//!   EFER/PAT rules; [`exit_map`]: exit codes and an exit to a
//!   [`GuestExit`](crate::exit::GuestExit).
//! - On the hypervisor only (`target_os = "none"`): `SvmPerCpuState`
//!   (EFER.SVME, VM_HSAVE_PA) and `SvmVcpu` (the VMCB, the world switch
//!   with VMLOAD/VMSAVE and CLGI/STGI, the exit loop).
//!
//! QEMU 7.2 has neither NRIPS nor decode assists: RIP is advanced by the
//! known length of each intercepted instruction, by EXITINFO2 (the next
//! RIP) for I/O, and by the decoded length for MMIO.

pub mod definitions;
pub mod exit_map;
pub mod vmcb;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
mod entry;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
mod percpu;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
mod vcpu;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
mod vcpu_exit;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub use percpu::SvmPerCpuState;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub use vcpu::SvmVcpu;

pub use exit_map::{SvmExitCode, SvmRawExit};
pub use vmcb::{Vmcb, VmcbControlArea, VmcbSegment, VmcbStateSaveArea};

use crate::mode::CodeSegment;

/// Whether this CPU has SVM with nested paging (CPUID); whether the
/// firmware allows it is checked by `hardware_enable`.
#[cfg(target_arch = "x86_64")]
pub fn has_hardware_support() -> bool {
    crate::backend::svm_supported(crate::cpuid::host_cpuid)
}

/// CS.L and CS.D from a VMCB segment attribute (L is bit 9, D/B bit 10).
pub const fn code_segment(attrib: u16) -> CodeSegment {
    const L: u16 = 1 << 9;
    const DB: u16 = 1 << 10;
    CodeSegment {
        long: attrib & L != 0,
        default_32: attrib & DB != 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_segment_bits() {
        // 64-bit code 0x29b, 32-bit flat code 0xc9b, real mode 0x9b.
        assert_eq!(
            code_segment(0x29b),
            CodeSegment {
                long: true,
                default_32: false
            }
        );
        assert_eq!(
            code_segment(0xc9b),
            CodeSegment {
                long: false,
                default_32: true
            }
        );
        assert_eq!(code_segment(0x9b), CodeSegment::default());
    }
}
