//! Which hardware virtualisation the CPU has: Intel VMX or AMD SVM with
//! nested paging ([`Backend`]).

use crate::cpuid::{CpuidResult, ExtLeaf1Ecx, Leaf1Ecx, SvmFeatures, leaf};

/// A hardware virtualisation backend of this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Intel VMX with EPT (`VmxVcpu`, `VmxPerCpuState`).
    Vmx,
    /// AMD SVM with nested paging (`SvmVcpu`, `SvmPerCpuState`).
    Svm,
}

impl Backend {
    /// `"vmx"` or `"svm"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Vmx => "vmx",
            Self::Svm => "svm",
        }
    }

    /// The backend the CPU that answers `cpuid` supports, VMX first; `None`
    /// when it has neither (or SVM without nested paging, which this
    /// crate needs).
    pub fn detect_with(cpuid: impl Fn(u32, u32) -> CpuidResult) -> Option<Self> {
        if vmx_supported(&cpuid) {
            Some(Self::Vmx)
        } else if svm_supported(&cpuid) {
            Some(Self::Svm)
        } else {
            None
        }
    }

    /// The backend the current CPU supports (see [`Backend::detect_with`]).
    #[cfg(target_arch = "x86_64")]
    pub fn detect() -> Option<Self> {
        Self::detect_with(crate::cpuid::host_cpuid)
    }
}

/// Whether the CPU has VMX (CPUID.1:ECX.VMX\[bit 5\]). Whether the firmware
/// allows it (IA32_FEATURE_CONTROL) is checked by `hardware_enable`.
pub fn vmx_supported(cpuid: impl Fn(u32, u32) -> CpuidResult) -> bool {
    Leaf1Ecx::from_bits_retain(cpuid(leaf::FEATURES, 0).ecx).contains(Leaf1Ecx::VMX)
}

/// Whether the CPU has SVM (CPUID.8000_0001:ECX.SVM\[bit 2\]) with nested
/// paging (CPUID.8000_000A:EDX.NP\[bit 0\]). Whether the firmware allows it
/// (VM_CR.SVMDIS) is checked by `hardware_enable`.
pub fn svm_supported(cpuid: impl Fn(u32, u32) -> CpuidResult) -> bool {
    let max_ext = cpuid(leaf::EXT_MAX, 0).eax;
    if max_ext < leaf::SVM_FEATURES {
        return false;
    }
    let svm = ExtLeaf1Ecx::from_bits_retain(cpuid(leaf::EXT_FEATURES, 0).ecx).contains(ExtLeaf1Ecx::SVM);
    svm && SvmFeatures::from_bits_retain(cpuid(leaf::SVM_FEATURES, 0).edx).contains(SvmFeatures::NP)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CPU model: leaf 1 ECX, the highest extended leaf, 8000_0001 ECX and
    /// 8000_000A EDX.
    fn cpu(ecx1: u32, max_ext: u32, ext_ecx: u32, svm_edx: u32) -> impl Fn(u32, u32) -> CpuidResult {
        move |l, _| match l {
            1 => CpuidResult {
                ecx: ecx1,
                ..Default::default()
            },
            0x8000_0000 => CpuidResult {
                eax: max_ext,
                ..Default::default()
            },
            0x8000_0001 => CpuidResult {
                ecx: ext_ecx,
                ..Default::default()
            },
            0x8000_000a => CpuidResult {
                edx: svm_edx,
                ..Default::default()
            },
            _ => CpuidResult::default(),
        }
    }

    #[test]
    fn intel_with_vmx() {
        assert_eq!(Backend::detect_with(cpu(1 << 5, 0x8000_0008, 0, 0)), Some(Backend::Vmx));
        assert_eq!(Backend::Vmx.name(), "vmx");
    }

    #[test]
    fn amd_with_svm_and_npt() {
        // What QEMU's TCG reports for `-cpu max` (SVM, NP, no NRIPS).
        assert_eq!(Backend::detect_with(cpu(0, 0x8000_0021, 1 << 2, 1)), Some(Backend::Svm));
        assert_eq!(Backend::Svm.name(), "svm");
    }

    #[test]
    fn svm_needs_nested_paging_and_the_leaf() {
        assert_eq!(Backend::detect_with(cpu(0, 0x8000_0021, 1 << 2, 0)), None);
        assert_eq!(Backend::detect_with(cpu(0, 0x8000_0008, 1 << 2, 1)), None);
        assert_eq!(Backend::detect_with(cpu(0, 0, 0, 0)), None);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_build_machine_can_be_asked() {
        // Whatever it has; a hosted Linux guest usually has neither.
        let _ = Backend::detect();
    }
}
