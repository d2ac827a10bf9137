//! `CPUID`: the leaves the checks read, the vendor, the hypervisor's
//! signature.

use core::arch::x86_64::__cpuid_count;

/// Leaf 0: the highest standard leaf and the vendor string.
pub const LEAF_VENDOR: u32 = 0;
/// Leaf 1: feature bits.
pub const LEAF_FEATURES: u32 = 1;
/// Leaf 1 `ECX` bit 5: VMX.
pub const FEATURES_ECX_VMX: u32 = 1 << 5;
/// Leaf 1 `ECX` bit 31: a hypervisor is present.
pub const FEATURES_ECX_HYPERVISOR: u32 = 1 << 31;
/// Leaf `0x4000_0000`: the highest hypervisor leaf and its signature.
pub const LEAF_HYPERVISOR: u32 = 0x4000_0000;
/// Leaf `0x8000_0000`: the highest extended leaf.
pub const LEAF_EXT_MAX: u32 = 0x8000_0000;
/// Leaf `0x8000_0001`: extended feature bits.
pub const LEAF_EXT_FEATURES: u32 = 0x8000_0001;
/// Leaf `0x8000_0001` `ECX` bit 2: SVM.
pub const EXT_FEATURES_ECX_SVM: u32 = 1 << 2;

/// The vendor string of Intel CPUs.
const VENDOR_INTEL: &[u8; 12] = b"GenuineIntel";
/// Hypervisor signatures that are not this hypervisor's: QEMU itself
/// announces one under TCG (`-cpu max`) and KVM, with nothing behind the
/// hypercalls or the test device.
const FOREIGN_SIGNATURES: [&[u8; 12]; 2] = [b"TCGTCGTCGTCG", b"KVMKVMKVM\0\0\0"];

/// The four registers a `CPUID` leaf returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leaf {
    /// `EAX`.
    pub eax: u32,
    /// `EBX`.
    pub ebx: u32,
    /// `ECX`.
    pub ecx: u32,
    /// `EDX`.
    pub edx: u32,
}

/// Executes `CPUID` for `leaf` (sub-leaf 0).
pub fn leaf(leaf: u32) -> Leaf {
    let r = __cpuid_count(leaf, 0);
    Leaf {
        eax: r.eax,
        ebx: r.ebx,
        ecx: r.ecx,
        edx: r.edx,
    }
}

/// Twelve bytes from three registers, in the order given, little-endian
/// each (how vendor strings and hypervisor signatures are spelled).
fn twelve_bytes(a: u32, b: u32, c: u32) -> [u8; 12] {
    let mut out = [0; 12];
    for (chunk, reg) in out.chunks_exact_mut(4).zip([a, b, c]) {
        chunk.copy_from_slice(&reg.to_le_bytes());
    }
    out
}

/// The CPU vendor string (leaf 0 `EBX`, `EDX`, `ECX`).
pub fn vendor() -> [u8; 12] {
    let r = leaf(LEAF_VENDOR);
    twelve_bytes(r.ebx, r.edx, r.ecx)
}

/// Whether the vendor is Intel (whose hypervisor call is `VMCALL`; every
/// other vendor's is taken to be AMD's `VMMCALL`).
pub fn is_intel() -> bool {
    &vendor() == VENDOR_INTEL
}

/// Leaf `0x4000_0000`: the highest hypervisor leaf (`EAX`) and the
/// signature (`EBX`, `ECX`, `EDX`).
pub fn hypervisor_leaf() -> (u32, [u8; 12]) {
    let r = leaf(LEAF_HYPERVISOR);
    (r.eax, twelve_bytes(r.ebx, r.ecx, r.edx))
}

/// Whether the hypervisor bit (leaf 1 `ECX` bit 31) is set.
pub fn hypervisor_bit() -> bool {
    leaf(LEAF_FEATURES).ecx & FEATURES_ECX_HYPERVISOR != 0
}

/// Whether `signature` is QEMU's own (TCG or KVM), not this hypervisor's.
pub fn is_foreign(signature: &[u8; 12]) -> bool {
    FOREIGN_SIGNATURES.contains(&signature)
}
