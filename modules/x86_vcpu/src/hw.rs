//! Raw access to the current CPU's control registers and descriptor
//! tables, for both backends (the `x86` crate's CR accessors drop the bits
//! they do not name, which would clear them on a write back).

use core::arch::asm;

/// CR0 and CR4 bits the backends change on the host.
pub mod bits {
    /// CR0.EM: emulate the FPU (#UD on FP instructions).
    pub const CR0_EM: u64 = 1 << 2;
    /// CR0.TS: task switched (#NM on FP instructions).
    pub const CR0_TS: u64 = 1 << 3;
    /// CR4.OSFXSR: FXSAVE/FXRSTOR and SSE enabled.
    pub const CR4_OSFXSR: u64 = 1 << 9;
    /// CR4.VMXE.
    pub const CR4_VMXE: u64 = 1 << 13;
    /// CR4.OSXSAVE.
    pub const CR4_OSXSAVE: u64 = 1 << 18;
}

/// CR0.
pub fn cr0() -> u64 {
    let v;
    // SAFETY: reading CR0 has no side effect.
    unsafe { asm!("mov {}, cr0", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

/// CR3.
pub fn cr3() -> u64 {
    let v;
    // SAFETY: reading CR3 has no side effect.
    unsafe { asm!("mov {}, cr3", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

/// CR4.
pub fn cr4() -> u64 {
    let v;
    // SAFETY: reading CR4 has no side effect.
    unsafe { asm!("mov {}, cr4", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

/// Writes CR0.
///
/// # Safety
///
/// `value` keeps the host running: paging, protection and caching as they
/// were, only the bits the caller means to change differ.
pub unsafe fn write_cr0(value: u64) {
    // SAFETY: the caller's contract.
    unsafe { asm!("mov cr0, {}", in(reg) value, options(nostack, preserves_flags)) };
}

/// Writes CR4.
///
/// # Safety
///
/// As [`write_cr0`].
pub unsafe fn write_cr4(value: u64) {
    // SAFETY: the caller's contract.
    unsafe { asm!("mov cr4, {}", in(reg) value, options(nostack, preserves_flags)) };
}

/// Turns on what the host must have for guests' FP state to be switched:
/// CR4.OSFXSR, CR4.OSXSAVE when the CPU has XSAVE, and CR0.TS/EM clear.
/// Both backends call it from `hardware_enable`.
pub(crate) fn enable_host_fp() {
    use crate::cpuid::{Leaf1Ecx, host_cpuid, leaf};
    let xsave = Leaf1Ecx::from_bits_retain(host_cpuid(leaf::FEATURES, 0).ecx).contains(Leaf1Ecx::XSAVE);
    let mut c4 = cr4() | bits::CR4_OSFXSR;
    if xsave {
        c4 |= bits::CR4_OSXSAVE;
    }
    // SAFETY: these bits only enable FXSAVE/XSAVE and SSE instructions and
    // stop #NM/#UD on them; the host kernel (built without SSE) does not
    // depend on their being off.
    unsafe {
        write_cr4(c4);
        write_cr0(cr0() & !(bits::CR0_TS | bits::CR0_EM));
    }
}

/// A descriptor-table register (GDTR, IDTR) as SGDT/SIDT store it.
#[repr(C, packed)]
#[derive(Default, Clone, Copy)]
struct TableRegister {
    limit: u16,
    base: u64,
}

/// GDTR: (base, limit).
pub fn gdtr() -> (u64, u16) {
    let mut t = TableRegister::default();
    // SAFETY: SGDT stores 10 bytes into `t`.
    unsafe { asm!("sgdt [{}]", in(reg) &mut t, options(nostack, preserves_flags)) };
    (t.base, t.limit)
}

/// IDTR: (base, limit).
pub fn idtr() -> (u64, u16) {
    let mut t = TableRegister::default();
    // SAFETY: SIDT stores 10 bytes into `t`.
    unsafe { asm!("sidt [{}]", in(reg) &mut t, options(nostack, preserves_flags)) };
    (t.base, t.limit)
}

/// The segment selectors CS, SS, DS, ES, FS, GS and TR.
#[derive(Debug, Clone, Copy)]
pub struct Selectors {
    /// CS.
    pub cs: u16,
    /// SS.
    pub ss: u16,
    /// DS.
    pub ds: u16,
    /// ES.
    pub es: u16,
    /// FS.
    pub fs: u16,
    /// GS.
    pub gs: u16,
    /// TR.
    pub tr: u16,
}

/// The current segment selectors.
pub fn selectors() -> Selectors {
    let (cs, ss, ds, es, fs, gs, tr): (u16, u16, u16, u16, u16, u16, u16);
    // SAFETY: reading segment registers and TR has no side effect.
    unsafe {
        asm!("mov {:x}, cs", out(reg) cs, options(nomem, nostack, preserves_flags));
        asm!("mov {:x}, ss", out(reg) ss, options(nomem, nostack, preserves_flags));
        asm!("mov {:x}, ds", out(reg) ds, options(nomem, nostack, preserves_flags));
        asm!("mov {:x}, es", out(reg) es, options(nomem, nostack, preserves_flags));
        asm!("mov {:x}, fs", out(reg) fs, options(nomem, nostack, preserves_flags));
        asm!("mov {:x}, gs", out(reg) gs, options(nomem, nostack, preserves_flags));
        asm!("str {:x}", out(reg) tr, options(nomem, nostack, preserves_flags));
    }
    Selectors {
        cs,
        ss,
        ds,
        es,
        fs,
        gs,
        tr,
    }
}

/// The base of the 64-bit system descriptor (TSS) at `selector` in the
/// GDT at `gdt_base`; 0 for the null selector.
pub fn system_descriptor_base(gdt_base: u64, selector: u16) -> u64 {
    /// Selector bits 15:3 index the table.
    const INDEX_MASK: u16 = !0x7;
    if selector & INDEX_MASK == 0 {
        return 0;
    }
    let at = gdt_base + u64::from(selector & INDEX_MASK);
    // SAFETY: the host's own GDT, as SGDT reported it, holds a 16-byte
    // TSS descriptor at its TR selector (the CPU loaded TR from it).
    let (low, high) = unsafe {
        (
            (at as *const u64).read_unaligned(),
            ((at + 8) as *const u64).read_unaligned(),
        )
    };
    crate::mode::descriptor_base(low, high)
}
