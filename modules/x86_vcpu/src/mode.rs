//! The guest's operating mode, from its control registers and code
//! segment: [`VmCpuMode`] (the seed's `get_cpu_mode`), the decoder's
//! [`DecodeMode`], and the initial state a vCPU starts in ([`StartMode`]).

use crate::decode::DecodeMode;

/// The operating mode of a vCPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmCpuMode {
    /// Real mode (CR0.PE = 0).
    Real,
    /// Protected mode (or virtual-8086), not IA-32e.
    Protected,
    /// IA-32e mode with a 16/32-bit code segment.
    Compatibility,
    /// 64-bit mode (IA-32e with CS.L = 1).
    Mode64,
}

/// Architectural bits the mode depends on.
pub mod bits {
    /// CR0.PE.
    pub const CR0_PE: u64 = 1 << 0;
    /// EFER.LMA.
    pub const EFER_LMA: u64 = 1 << 10;
}

/// The code segment's size bits.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CodeSegment {
    /// CS.L: 64-bit code.
    pub long: bool,
    /// CS.D: 32-bit default operand size.
    pub default_32: bool,
}

/// The mode for CR0 `cr0`, EFER `efer` and code segment `cs`.
pub const fn cpu_mode(cr0: u64, efer: u64, cs: CodeSegment) -> VmCpuMode {
    if cr0 & bits::CR0_PE == 0 {
        VmCpuMode::Real
    } else if efer & bits::EFER_LMA == 0 {
        VmCpuMode::Protected
    } else if cs.long {
        VmCpuMode::Mode64
    } else {
        VmCpuMode::Compatibility
    }
}

/// The default operand and address size of the code in `mode` with `cs`.
pub const fn decode_mode(mode: VmCpuMode, cs: CodeSegment) -> DecodeMode {
    match mode {
        VmCpuMode::Mode64 => DecodeMode::Bits64,
        // Real mode normally has D = 0; "big real" code may set it.
        _ if cs.default_32 => DecodeMode::Bits32,
        _ => DecodeMode::Bits16,
    }
}

/// The state a vCPU starts in at its entry address (the arch vCPUs'
/// `CreateConfig`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum StartMode {
    /// Real mode, as a CPU comes out of reset: CS base = the entry's
    /// 64 KiB-aligned part, IP = its low 16 bits, paging off. A 4 KiB
    /// aligned entry below 1 MiB starts as a STARTUP IPI starts a CPU:
    /// CS = entry >> 4, IP = 0.
    #[default]
    Real,
    /// 32-bit protected mode with flat 4 GiB code and data segments and
    /// paging off (the Linux 32-bit and Multiboot boot protocols): RIP =
    /// the entry.
    Protected32,
}

/// The `CreateConfig` of both x86 vCPUs.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct X86VCpuCreateConfig {
    /// The state the vCPU starts in at its entry.
    pub start_mode: StartMode,
}

/// Initial segment values for a start mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartSegments {
    /// CS selector.
    pub cs_selector: u16,
    /// CS base.
    pub cs_base: u64,
    /// Data segment selector (DS, ES, SS, FS, GS).
    pub data_selector: u16,
    /// Segment limit of every segment.
    pub limit: u32,
    /// Access rights of CS, VMX format (type, S, DPL, P, AVL, L, D, G).
    pub code_ar: u32,
    /// Access rights of the data segments, VMX format.
    pub data_ar: u32,
    /// The initial RIP.
    pub rip: u64,
    /// The initial CR0 (the guest's view).
    pub cr0: u64,
}

/// Access-rights bits (VMX layout, SDM table 25-2).
pub mod ar {
    /// Code, execute/read, accessed (type 0xb).
    pub const CODE: u32 = 0xb;
    /// Data, read/write, accessed (type 0x3).
    pub const DATA: u32 = 0x3;
    /// Code or data (not system).
    pub const S: u32 = 1 << 4;
    /// Present.
    pub const P: u32 = 1 << 7;
    /// 32-bit default size.
    pub const DB: u32 = 1 << 14;
    /// 4 KiB limit granularity.
    pub const G: u32 = 1 << 15;
    /// 64-bit code.
    pub const L: u32 = 1 << 13;
    /// Segment unusable (VMX only).
    pub const UNUSABLE: u32 = 1 << 16;
    /// LDT, present.
    pub const LDT: u32 = 0x2 | P;
    /// Busy 32-bit TSS, present.
    pub const TSS_BUSY: u32 = 0xb | P;
}

/// CR0.ET: always 1 on processors since the 486; the reset value of CR0 is
/// ET | CD | NW (0x6000_0010).
const CR0_ET: u64 = 1 << 4;
const CR0_RESET: u64 = CR0_ET | (1 << 29) | (1 << 30);

impl StartMode {
    /// The segments and registers for starting at `entry`.
    pub const fn segments(self, entry: u64) -> StartSegments {
        match self {
            Self::Real => {
                const REAL_LIMIT: u32 = 0xffff;
                /// A STARTUP vector's page: 4 KiB aligned, below 1 MiB.
                const STARTUP_PAGE: u64 = 0xfff;
                const REAL_MODE_END: u64 = 0x10_0000;
                let base = if entry & STARTUP_PAGE == 0 && entry < REAL_MODE_END {
                    entry
                } else {
                    entry & 0xffff_0000
                };
                StartSegments {
                    cs_selector: (base >> 4) as u16,
                    cs_base: base,
                    data_selector: 0,
                    limit: REAL_LIMIT,
                    code_ar: ar::CODE | ar::S | ar::P,
                    data_ar: ar::DATA | ar::S | ar::P,
                    rip: entry - base,
                    cr0: CR0_RESET,
                }
            }
            Self::Protected32 => {
                const FLAT_LIMIT: u32 = 0xffff_ffff;
                /// GDT selectors 0x10 (code) and 0x18 (data), as Linux's
                /// 32-bit boot protocol has them.
                const CODE_SEL: u16 = 0x10;
                const DATA_SEL: u16 = 0x18;
                StartSegments {
                    cs_selector: CODE_SEL,
                    cs_base: 0,
                    data_selector: DATA_SEL,
                    limit: FLAT_LIMIT,
                    code_ar: ar::CODE | ar::S | ar::P | ar::DB | ar::G,
                    data_ar: ar::DATA | ar::S | ar::P | ar::DB | ar::G,
                    rip: entry,
                    cr0: CR0_ET | bits::CR0_PE,
                }
            }
        }
    }
}

/// The SVM attribute format of VMX access rights `ar` (APM 15.5.1: the
/// same bits packed into 12: type..P in 7:0, AVL..G in 11:8).
pub const fn vmx_ar_to_svm_attrib(ar: u32) -> u16 {
    ((ar & 0xff) | ((ar >> 4) & 0xf00)) as u16
}

/// The base address in a 16-byte system descriptor (a TSS or LDT in the
/// GDT of a 64-bit host; SDM Vol. 3A, figure 8-4): base 15:0 in bits 31:16
/// of `low`, 23:16 in 39:32, 31:24 in 63:56, 63:32 in bits 31:0 of `high`.
pub const fn descriptor_base(low: u64, high: u64) -> u64 {
    ((low >> 16) & 0xff_ffff) | ((low >> 56) << 24) | ((high & 0xffff_ffff) << 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CS64: CodeSegment = CodeSegment {
        long: true,
        default_32: false,
    };
    const CS32: CodeSegment = CodeSegment {
        long: false,
        default_32: true,
    };
    const CS16: CodeSegment = CodeSegment {
        long: false,
        default_32: false,
    };

    #[test]
    fn modes() {
        assert_eq!(cpu_mode(0x10, 0, CS16), VmCpuMode::Real);
        assert_eq!(cpu_mode(0x11, 0, CS32), VmCpuMode::Protected);
        assert_eq!(cpu_mode(0x8000_0011, 0x500, CS64), VmCpuMode::Mode64);
        assert_eq!(cpu_mode(0x8000_0011, 0x500, CS32), VmCpuMode::Compatibility);
        assert_eq!(decode_mode(VmCpuMode::Mode64, CS64), DecodeMode::Bits64);
        assert_eq!(decode_mode(VmCpuMode::Compatibility, CS32), DecodeMode::Bits32);
        assert_eq!(decode_mode(VmCpuMode::Protected, CS16), DecodeMode::Bits16);
        assert_eq!(decode_mode(VmCpuMode::Real, CS16), DecodeMode::Bits16);
    }

    #[test]
    fn start_states() {
        // A STARTUP vector's page: CS = page >> 4, IP = 0.
        let sipi = StartMode::Real.segments(0x8000);
        assert_eq!((sipi.cs_selector, sipi.cs_base, sipi.rip), (0x800, 0x8000, 0));
        let top = StartMode::Real.segments(0x9_f000);
        assert_eq!((top.cs_selector, top.cs_base, top.rip), (0x9f00, 0x9_f000, 0));
        let r = StartMode::Real.segments(0x9_7c00);
        assert_eq!((r.cs_selector, r.cs_base, r.rip), (0x9000, 0x9_0000, 0x7c00));
        // Access rights 0x9b (code) and 0x93 (data), as after reset.
        assert_eq!((r.code_ar, r.data_ar), (0x9b, 0x93));
        assert_eq!(r.cr0, 0x6000_0010);
        let p = StartMode::Protected32.segments(0x10_0000);
        assert_eq!((p.cs_base, p.rip, p.limit), (0, 0x10_0000, 0xffff_ffff));
        // 0xc09b: G, D/B, P, S, code execute/read accessed.
        assert_eq!((p.code_ar, p.data_ar), (0xc09b, 0xc093));
        assert_eq!(p.cr0 & 1, 1);
    }

    #[test]
    fn tss_descriptor_base() {
        // A TSS at 0xffff_8000_1234_5678, limit 0x67, type 0x89 (available
        // 64-bit TSS, present).
        let low = 0x67 | (0x5678 << 16) | (0x34 << 32) | (0x89 << 40) | (0x12 << 56);
        assert_eq!(descriptor_base(low, 0xffff_8000), 0xffff_8000_1234_5678);
        assert_eq!(descriptor_base(0, 0), 0);
    }

    #[test]
    fn attribute_formats() {
        // 64-bit code (L, P, S, type 0xb): VMX 0x209b, SVM 0x029b.
        assert_eq!(vmx_ar_to_svm_attrib(0x209b), 0x029b);
        assert_eq!(vmx_ar_to_svm_attrib(0xc093), 0x0c93);
        // The VMX "unusable" bit has no SVM counterpart.
        assert_eq!(vmx_ar_to_svm_attrib(0x1_0000), 0);
    }
}
