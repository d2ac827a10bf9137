//! The model-specific registers this crate uses ([`Msr`]), with `read` and
//! `unsafe write` on the hypervisor.

/// An MSR, by its number (SDM Vol. 4; AMD APM Vol. 2, appendix A).
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Msr {
    /// Time-stamp counter.
    IA32_TSC = 0x10,
    /// Local APIC base address and mode.
    IA32_APIC_BASE = 0x1b,
    /// Lock bit and VMX enables (Intel).
    IA32_FEATURE_CONTROL = 0x3a,
    /// SYSENTER code segment.
    IA32_SYSENTER_CS = 0x174,
    /// SYSENTER stack pointer.
    IA32_SYSENTER_ESP = 0x175,
    /// SYSENTER target.
    IA32_SYSENTER_EIP = 0x176,
    /// Miscellaneous enables.
    IA32_MISC_ENABLE = 0x1a0,
    /// Debug control.
    IA32_DEBUGCTL = 0x1d9,
    /// Page attribute table.
    IA32_PAT = 0x277,
    /// VMX basic information: VMCS revision, region size, memory type.
    IA32_VMX_BASIC = 0x480,
    /// Allowed pin-based controls.
    IA32_VMX_PINBASED_CTLS = 0x481,
    /// Allowed primary processor-based controls.
    IA32_VMX_PROCBASED_CTLS = 0x482,
    /// Allowed VM-exit controls.
    IA32_VMX_EXIT_CTLS = 0x483,
    /// Allowed VM-entry controls.
    IA32_VMX_ENTRY_CTLS = 0x484,
    /// Miscellaneous VMX data.
    IA32_VMX_MISC = 0x485,
    /// CR0 bits fixed to 1 in VMX operation.
    IA32_VMX_CR0_FIXED0 = 0x486,
    /// CR0 bits that may be 1 in VMX operation.
    IA32_VMX_CR0_FIXED1 = 0x487,
    /// CR4 bits fixed to 1 in VMX operation.
    IA32_VMX_CR4_FIXED0 = 0x488,
    /// CR4 bits that may be 1 in VMX operation.
    IA32_VMX_CR4_FIXED1 = 0x489,
    /// Highest VMCS field index.
    IA32_VMX_VMCS_ENUM = 0x48a,
    /// Allowed secondary processor-based controls.
    IA32_VMX_PROCBASED_CTLS2 = 0x48b,
    /// EPT and VPID capabilities.
    IA32_VMX_EPT_VPID_CAP = 0x48c,
    /// Allowed pin-based controls, true values.
    IA32_VMX_TRUE_PINBASED_CTLS = 0x48d,
    /// Allowed primary processor-based controls, true values.
    IA32_VMX_TRUE_PROCBASED_CTLS = 0x48e,
    /// Allowed VM-exit controls, true values.
    IA32_VMX_TRUE_EXIT_CTLS = 0x48f,
    /// Allowed VM-entry controls, true values.
    IA32_VMX_TRUE_ENTRY_CTLS = 0x490,
    /// Allowed VM functions.
    IA32_VMX_VMFUNC = 0x491,
    /// Supervisor XSAVE state components.
    IA32_XSS = 0xda0,
    /// Extended feature enables (LME, LMA, NXE, SVME).
    IA32_EFER = 0xc000_0080,
    /// SYSCALL segments.
    IA32_STAR = 0xc000_0081,
    /// 64-bit SYSCALL target.
    IA32_LSTAR = 0xc000_0082,
    /// Compatibility-mode SYSCALL target.
    IA32_CSTAR = 0xc000_0083,
    /// SYSCALL RFLAGS mask.
    IA32_FMASK = 0xc000_0084,
    /// FS base.
    IA32_FS_BASE = 0xc000_0100,
    /// GS base.
    IA32_GS_BASE = 0xc000_0101,
    /// The GS base SWAPGS exchanges.
    IA32_KERNEL_GSBASE = 0xc000_0102,
    /// RDTSCP auxiliary value.
    IA32_TSC_AUX = 0xc000_0103,
    /// SVM control (AMD): SVMDIS, LOCK.
    VM_CR = 0xc001_0114,
    /// Host save area for VMRUN (AMD).
    VM_HSAVE_PA = 0xc001_0117,
}

impl Msr {
    /// The MSR's number.
    pub const fn number(self) -> u32 {
        self as u32
    }

    /// Reads the MSR on the current CPU.
    ///
    /// Every MSR listed here exists on the CPUs this crate runs on (the
    /// VMX ones are read only after CPUID reports VMX, the SVM ones after
    /// it reports SVM).
    #[cfg(all(target_arch = "x86_64", target_os = "none"))]
    pub fn read(self) -> u64 {
        // SAFETY: RDMSR at CPL 0 (the hypervisor) of an architectural MSR
        // has no side effect; the callers only read MSRs of the feature
        // CPUID reported.
        unsafe { x86::msr::rdmsr(self.number()) }
    }

    /// Writes `value` to the MSR on the current CPU.
    ///
    /// # Safety
    ///
    /// Writing an MSR changes how the CPU behaves (paging, system calls,
    /// virtualisation); the caller must know the value is valid for this
    /// MSR (or WRMSR raises #GP in the hypervisor) and keeps the host
    /// correct.
    #[cfg(all(target_arch = "x86_64", target_os = "none"))]
    pub unsafe fn write(self, value: u64) {
        // SAFETY: the caller's contract above.
        unsafe { x86::msr::wrmsr(self.number(), value) }
    }
}

/// MSRs a guest reads and writes without an exit on both backends: their
/// values are the guest's alone, kept in the VMCS / VMCB (FS and GS base,
/// SYSENTER; on SVM also the SYSCALL MSRs and the kernel GS base, through
/// VMLOAD/VMSAVE) or switched by the vCPU when it is bound and unbound
/// ([`VMX_SWITCHED`], [`SVM_SWITCHED`]).
pub const PASSTHROUGH: [Msr; 11] = [
    Msr::IA32_FS_BASE,
    Msr::IA32_GS_BASE,
    Msr::IA32_KERNEL_GSBASE,
    Msr::IA32_STAR,
    Msr::IA32_LSTAR,
    Msr::IA32_CSTAR,
    Msr::IA32_FMASK,
    Msr::IA32_SYSENTER_CS,
    Msr::IA32_SYSENTER_ESP,
    Msr::IA32_SYSENTER_EIP,
    Msr::IA32_TSC_AUX,
];

/// More MSRs a VMX guest owns: the VMCS loads and saves them on every
/// entry and exit.
pub const VMX_PASSTHROUGH: [Msr; 2] = [Msr::IA32_EFER, Msr::IA32_PAT];

/// Guest MSRs VMX does not switch, which the vCPU swaps with the host's
/// on `bind` and `unbind`. The host kernel uses none of them while a vCPU
/// is bound (it has no SYSCALL entry, no SWAPGS, no RDTSCP).
pub const VMX_SWITCHED: [Msr; 6] = [
    Msr::IA32_KERNEL_GSBASE,
    Msr::IA32_STAR,
    Msr::IA32_LSTAR,
    Msr::IA32_CSTAR,
    Msr::IA32_FMASK,
    Msr::IA32_TSC_AUX,
];

/// Guest MSRs SVM's VMLOAD/VMSAVE do not cover, swapped on `bind` and
/// `unbind`.
pub const SVM_SWITCHED: [Msr; 1] = [Msr::IA32_TSC_AUX];

/// The values of a set of MSRs, saved from and loaded into the CPU.
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[derive(Debug, Clone)]
pub struct MsrValues<const N: usize> {
    msrs: [Msr; N],
    values: [u64; N],
}

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
impl<const N: usize> MsrValues<N> {
    /// All zero.
    pub const fn new(msrs: [Msr; N]) -> Self {
        Self { msrs, values: [0; N] }
    }

    /// Reads the current values.
    pub fn save(&mut self) {
        for (v, m) in self.values.iter_mut().zip(self.msrs) {
            *v = m.read();
        }
    }

    /// Writes the values to the CPU.
    ///
    /// # Safety
    ///
    /// The values came from [`MsrValues::save`] on a CPU of the same
    /// model, or are zero (valid for every MSR of the switched sets).
    #[cfg(all(target_arch = "x86_64", target_os = "none"))]
    pub unsafe fn load(&self) {
        for (v, m) in self.values.iter().zip(self.msrs) {
            // SAFETY: the caller's contract.
            unsafe { m.write(*v) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_the_manuals() {
        assert_eq!(Msr::IA32_FEATURE_CONTROL.number(), 0x3a);
        assert_eq!(Msr::IA32_VMX_BASIC.number(), 0x480);
        assert_eq!(Msr::IA32_VMX_TRUE_ENTRY_CTLS.number(), 0x490);
        assert_eq!(Msr::IA32_EFER.number(), 0xc000_0080);
        assert_eq!(Msr::VM_HSAVE_PA.number(), 0xc001_0117);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn numbers_match_the_x86_crate() {
        use x86::msr as m;
        let table = [
            (Msr::IA32_TSC, m::TSC),
            (Msr::IA32_APIC_BASE, m::IA32_APIC_BASE),
            (Msr::IA32_FEATURE_CONTROL, m::IA32_FEATURE_CONTROL),
            (Msr::IA32_SYSENTER_CS, m::IA32_SYSENTER_CS),
            (Msr::IA32_SYSENTER_ESP, m::IA32_SYSENTER_ESP),
            (Msr::IA32_SYSENTER_EIP, m::IA32_SYSENTER_EIP),
            (Msr::IA32_MISC_ENABLE, m::IA32_MISC_ENABLE),
            (Msr::IA32_DEBUGCTL, m::IA32_DEBUGCTL),
            (Msr::IA32_PAT, m::IA32_PAT),
            (Msr::IA32_VMX_BASIC, m::IA32_VMX_BASIC),
            (Msr::IA32_VMX_PINBASED_CTLS, m::IA32_VMX_PINBASED_CTLS),
            (Msr::IA32_VMX_PROCBASED_CTLS, m::IA32_VMX_PROCBASED_CTLS),
            (Msr::IA32_VMX_EXIT_CTLS, m::IA32_VMX_EXIT_CTLS),
            (Msr::IA32_VMX_ENTRY_CTLS, m::IA32_VMX_ENTRY_CTLS),
            (Msr::IA32_VMX_MISC, m::IA32_VMX_MISC),
            (Msr::IA32_VMX_CR0_FIXED0, m::IA32_VMX_CR0_FIXED0),
            (Msr::IA32_VMX_CR0_FIXED1, m::IA32_VMX_CR0_FIXED1),
            (Msr::IA32_VMX_CR4_FIXED0, m::IA32_VMX_CR4_FIXED0),
            (Msr::IA32_VMX_CR4_FIXED1, m::IA32_VMX_CR4_FIXED1),
            (Msr::IA32_VMX_VMCS_ENUM, m::IA32_VMX_VMCS_ENUM),
            (Msr::IA32_VMX_PROCBASED_CTLS2, m::IA32_VMX_PROCBASED_CTLS2),
            (Msr::IA32_VMX_EPT_VPID_CAP, m::IA32_VMX_EPT_VPID_CAP),
            (Msr::IA32_VMX_TRUE_PINBASED_CTLS, m::IA32_VMX_TRUE_PINBASED_CTLS),
            (Msr::IA32_VMX_TRUE_PROCBASED_CTLS, m::IA32_VMX_TRUE_PROCBASED_CTLS),
            (Msr::IA32_VMX_TRUE_EXIT_CTLS, m::IA32_VMX_TRUE_EXIT_CTLS),
            (Msr::IA32_VMX_TRUE_ENTRY_CTLS, m::IA32_VMX_TRUE_ENTRY_CTLS),
            (Msr::IA32_VMX_VMFUNC, m::IA32_VMX_VMFUNC),
            (Msr::IA32_EFER, m::IA32_EFER),
            (Msr::IA32_STAR, m::IA32_STAR),
            (Msr::IA32_LSTAR, m::IA32_LSTAR),
            (Msr::IA32_CSTAR, m::IA32_CSTAR),
            (Msr::IA32_FMASK, m::IA32_FMASK),
            (Msr::IA32_FS_BASE, m::IA32_FS_BASE),
            (Msr::IA32_GS_BASE, m::IA32_GS_BASE),
            (Msr::IA32_KERNEL_GSBASE, m::IA32_KERNEL_GSBASE),
            (Msr::IA32_TSC_AUX, m::IA32_TSC_AUX),
        ];
        for (ours, theirs) in table {
            assert_eq!(ours.number(), theirs, "{ours:?}");
        }
    }
}
