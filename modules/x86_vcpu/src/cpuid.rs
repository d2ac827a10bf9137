//! What the guest's `CPUID` returns: the host's answer, filtered.
//!
//! The guest runs on the host's CPU model, so most leaves pass through. The
//! filter hides what a guest must not use (VMX, SVM, SMX, MONITOR/MWAIT,
//! the performance counters), says that a hypervisor is present (leaf 1
//! ECX bit 31) and answers the hypervisor leaves `0x4000_0000..=0x4000_00ff`
//! with [`HV_SIGNATURE`]. The parts that belong to the vCPU and not to the
//! host CPU are replaced: the initial APIC ID (leaf 1 EBX, leaves 0xB/0x1F
//! EDX) and OSXSAVE, which mirrors the guest's CR4.

use bitflags::bitflags;

/// The four registers a `CPUID` leaf returns.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CpuidResult {
    /// EAX.
    pub eax: u32,
    /// EBX.
    pub ebx: u32,
    /// ECX.
    pub ecx: u32,
    /// EDX.
    pub edx: u32,
}

/// Executes `CPUID` on the current CPU (unprivileged, so it also runs in
/// the unit tests).
#[cfg(target_arch = "x86_64")]
pub fn host_cpuid(leaf: u32, subleaf: u32) -> CpuidResult {
    let r = core::arch::x86_64::__cpuid_count(leaf, subleaf);
    CpuidResult {
        eax: r.eax,
        ebx: r.ebx,
        ecx: r.ecx,
        edx: r.edx,
    }
}

/// Leaf numbers (SDM Vol. 2A, CPUID; AMD APM Vol. 3, appendix E).
pub mod leaf {
    /// Feature information.
    pub const FEATURES: u32 = 0x1;
    /// Architectural performance monitoring.
    pub const PERF_MONITORING: u32 = 0xa;
    /// XSAVE features: sub-leaf 0 the XCR0 bits, sub-leaf 1 XSAVEOPT,
    /// XSAVEC, XGETBV1, XSAVES.
    pub const XSAVE: u32 = 0xd;
    /// Extended topology (x2APIC ID in EDX).
    pub const TOPOLOGY: u32 = 0xb;
    /// V2 extended topology (x2APIC ID in EDX).
    pub const TOPOLOGY_V2: u32 = 0x1f;
    /// The first hypervisor leaf: highest hypervisor leaf and signature.
    pub const HYPERVISOR: u32 = 0x4000_0000;
    /// Hypervisor feature bits (none here).
    pub const HYPERVISOR_FEATURES: u32 = 0x4000_0001;
    /// The last leaf of the hypervisor range.
    pub const HYPERVISOR_LAST: u32 = 0x4000_00ff;
    /// Highest extended leaf.
    pub const EXT_MAX: u32 = 0x8000_0000;
    /// Extended feature information.
    pub const EXT_FEATURES: u32 = 0x8000_0001;
    /// SVM revision and features.
    pub const SVM_FEATURES: u32 = 0x8000_000a;
}

bitflags! {
    /// Leaf 1 ECX bits this crate reads or changes.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Leaf1Ecx: u32 {
        /// MONITOR/MWAIT.
        const MONITOR = 1 << 3;
        /// Virtual Machine Extensions (VMX).
        const VMX = 1 << 5;
        /// Safer Mode Extensions (GETSEC).
        const SMX = 1 << 6;
        /// XSAVE family supported.
        const XSAVE = 1 << 26;
        /// CR4.OSXSAVE is set: the OS enabled XSAVE / XGETBV.
        const OSXSAVE = 1 << 27;
        /// AVX (needs XSAVE).
        const AVX = 1 << 28;
        /// A hypervisor is present (always 0 on hardware).
        const HYPERVISOR = 1 << 31;
    }

    /// Leaf 0x8000_0001 ECX bits this crate reads or changes.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct ExtLeaf1Ecx: u32 {
        /// Secure Virtual Machine (SVM).
        const SVM = 1 << 2;
    }

    /// Leaf 0x8000_000A EDX bits (AMD APM Vol. 3, E.4.9).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct SvmFeatures: u32 {
        /// Nested paging.
        const NP = 1 << 0;
        /// NRIP save (the VMCB next-RIP field).
        const NRIPS = 1 << 3;
        /// Decode assists.
        const DECODE_ASSISTS = 1 << 7;
    }
}

/// The hypervisor's signature in leaf 0x4000_0000 (EBX, ECX, EDX).
pub const HV_SIGNATURE: &[u8; 12] = b"ArceHvRust!!";

/// Leaf 0xD sub-leaf 1 EAX bit 3: XSAVES/XRSTORS and IA32_XSS.
const XSAVES: u32 = 1 << 3;

/// Leaf 1 EBX bits 31:24: the initial APIC ID.
const APIC_ID_SHIFT: u32 = 24;
const APIC_ID_MASK: u32 = 0xff << APIC_ID_SHIFT;

/// The state of the vCPU that some leaves report.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CpuidContext {
    /// The vCPU's APIC ID (its number in the VM).
    pub apic_id: u32,
    /// The guest's CR4.OSXSAVE.
    pub osxsave: bool,
    /// The XCR0 bits the guest may set (see `xstate::xcr0_fitting`).
    pub xcr0_supported: u64,
}

/// The little-endian word `i` of the signature.
const fn signature_word(i: usize) -> u32 {
    u32::from_le_bytes([
        HV_SIGNATURE[4 * i],
        HV_SIGNATURE[4 * i + 1],
        HV_SIGNATURE[4 * i + 2],
        HV_SIGNATURE[4 * i + 3],
    ])
}

/// The guest's answer to `CPUID` leaf `leaf`, sub-leaf `subleaf`; `host`
/// executes `CPUID` on the host (the backends pass [`host_cpuid`]).
pub fn guest_cpuid(leaf: u32, subleaf: u32, ctx: CpuidContext, host: impl Fn(u32, u32) -> CpuidResult) -> CpuidResult {
    match leaf {
        leaf::HYPERVISOR => CpuidResult {
            eax: leaf::HYPERVISOR_FEATURES,
            ebx: signature_word(0),
            ecx: signature_word(1),
            edx: signature_word(2),
        },
        leaf::HYPERVISOR_FEATURES..=leaf::HYPERVISOR_LAST => CpuidResult::default(),
        // No virtual performance counters, no SVM for the guest.
        leaf::PERF_MONITORING | leaf::SVM_FEATURES => CpuidResult::default(),
        leaf::FEATURES => {
            let mut r = host(leaf, subleaf);
            let mut ecx = Leaf1Ecx::from_bits_retain(r.ecx);
            ecx.remove(Leaf1Ecx::VMX | Leaf1Ecx::SMX | Leaf1Ecx::MONITOR);
            if ctx.xcr0_supported == 0 {
                // The host cannot switch XSAVE state: no XSAVE, so no AVX.
                ecx.remove(Leaf1Ecx::XSAVE | Leaf1Ecx::AVX);
            }
            ecx.insert(Leaf1Ecx::HYPERVISOR);
            ecx.set(Leaf1Ecx::OSXSAVE, ctx.osxsave && ecx.contains(Leaf1Ecx::XSAVE));
            r.ecx = ecx.bits();
            r.ebx = (r.ebx & !APIC_ID_MASK) | ((ctx.apic_id << APIC_ID_SHIFT) & APIC_ID_MASK);
            r
        }
        leaf::TOPOLOGY | leaf::TOPOLOGY_V2 => {
            let mut r = host(leaf, subleaf);
            r.edx = ctx.apic_id;
            r
        }
        leaf::XSAVE if subleaf == 0 => {
            let mut r = host(leaf, subleaf);
            r.eax &= ctx.xcr0_supported as u32;
            r.edx &= (ctx.xcr0_supported >> 32) as u32;
            r
        }
        leaf::XSAVE if subleaf == 1 => {
            // No XSAVES: the supervisor state (IA32_XSS) is not switched.
            let mut r = host(leaf, subleaf);
            r.eax &= !XSAVES;
            r.ecx = 0;
            r.edx = 0;
            r
        }
        leaf::EXT_FEATURES => {
            let mut r = host(leaf, subleaf);
            r.ecx &= !ExtLeaf1Ecx::SVM.bits();
            r
        }
        _ => host(leaf, subleaf),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A host with every feature bit set and a recognisable APIC ID.
    fn all_ones(leaf: u32, _subleaf: u32) -> CpuidResult {
        CpuidResult {
            eax: leaf,
            ebx: u32::MAX,
            ecx: u32::MAX,
            edx: u32::MAX,
        }
    }

    const CTX: CpuidContext = CpuidContext {
        apic_id: 3,
        osxsave: false,
        xcr0_supported: 0b111,
    };

    #[test]
    fn leaf1_hides_vmx_and_marks_a_hypervisor() {
        let r = guest_cpuid(1, 0, CTX, all_ones);
        assert_eq!(r.ecx & (1 << 5), 0, "VMX");
        assert_eq!(r.ecx & (1 << 6), 0, "SMX");
        assert_eq!(r.ecx & (1 << 3), 0, "MONITOR");
        assert_ne!(r.ecx & (1 << 31), 0, "hypervisor present");
        assert_eq!(r.ecx & (1 << 27), 0, "OSXSAVE follows the guest's CR4");
        assert_ne!(r.ecx & (1 << 26), 0, "XSAVE itself passes");
        assert_eq!(r.ebx >> 24, 3, "initial APIC ID is the vCPU's");
        assert_eq!(r.ebx & 0x00ff_ffff, 0x00ff_ffff);
        assert_eq!(r.edx, u32::MAX);
        let with_osxsave = CpuidContext { osxsave: true, ..CTX };
        assert_ne!(guest_cpuid(1, 0, with_osxsave, all_ones).ecx & (1 << 27), 0);
        // OSXSAVE never appears without XSAVE.
        let no_xsave = |l, s| CpuidResult {
            ecx: 0,
            ..all_ones(l, s)
        };
        assert_eq!(guest_cpuid(1, 0, with_osxsave, no_xsave).ecx, 1 << 31);
        // A host without usable XSAVE hides XSAVE and AVX.
        let no_host_xsave = CpuidContext {
            xcr0_supported: 0,
            ..with_osxsave
        };
        let ecx = guest_cpuid(1, 0, no_host_xsave, all_ones).ecx;
        assert_eq!(ecx & (0b111 << 26), 0);
    }

    #[test]
    fn extended_leaf_hides_svm() {
        let r = guest_cpuid(0x8000_0001, 0, CTX, all_ones);
        assert_eq!(r.ecx, !(1 << 2));
        assert_eq!(guest_cpuid(0x8000_000a, 0, CTX, all_ones), CpuidResult::default());
    }

    #[test]
    fn hypervisor_leaves() {
        let r = guest_cpuid(0x4000_0000, 0, CTX, all_ones);
        assert_eq!(r.eax, 0x4000_0001, "highest hypervisor leaf");
        let mut sig = [0u8; 12];
        sig[0..4].copy_from_slice(&r.ebx.to_le_bytes());
        sig[4..8].copy_from_slice(&r.ecx.to_le_bytes());
        sig[8..12].copy_from_slice(&r.edx.to_le_bytes());
        assert_eq!(&sig, b"ArceHvRust!!");
        // "Arce" little-endian in EBX, as a guest reads it.
        assert_eq!(r.ebx, 0x6563_7241);
        for l in [0x4000_0001, 0x4000_0002, 0x4000_00ff] {
            assert_eq!(guest_cpuid(l, 0, CTX, all_ones), CpuidResult::default(), "{l:#x}");
        }
        // Past the range: the host's.
        assert_eq!(guest_cpuid(0x4000_0100, 0, CTX, all_ones).eax, 0x4000_0100);
    }

    #[test]
    fn xsave_leaf_follows_what_fits() {
        let host = |_, _| CpuidResult {
            eax: u32::MAX,
            ebx: 0x240,
            ecx: 0x988,
            edx: u32::MAX,
        };
        let r = guest_cpuid(0xd, 0, CTX, host);
        assert_eq!((r.eax, r.edx), (0b111, 0));
        assert_eq!((r.ebx, r.ecx), (0x240, 0x988), "sizes pass");
        let r = guest_cpuid(0xd, 1, CTX, host);
        assert_eq!((r.eax & (1 << 3), r.ecx, r.edx), (0, 0, 0));
        assert_eq!(r.eax, !(1 << 3), "XSAVEOPT, XSAVEC, XGETBV1 pass");
        assert_eq!(guest_cpuid(0xd, 2, CTX, all_ones), all_ones(0xd, 2));
    }

    #[test]
    fn topology_and_pmu() {
        assert_eq!(guest_cpuid(0xb, 1, CTX, all_ones).edx, 3);
        assert_eq!(guest_cpuid(0x1f, 0, CTX, all_ones).edx, 3);
        assert_eq!(guest_cpuid(0xa, 0, CTX, all_ones), CpuidResult::default());
        assert_eq!(guest_cpuid(0, 0, CTX, all_ones), all_ones(0, 0));
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_build_machine_answers_and_is_filtered() {
        let r = guest_cpuid(1, 0, CTX, host_cpuid);
        assert_eq!(r.ecx & (1 << 5), 0);
        assert_ne!(r.ecx & (1 << 31), 0);
    }
}
