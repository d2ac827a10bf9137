//! The guest's general-purpose registers ([`GeneralRegisters`]) and the
//! register operands an exit names ([`Gpr`], [`RegTarget`]).
//!
//! # Register numbers
//!
//! Registers are numbered as the x86 instruction encoding numbers them
//! (ModRM.reg with REX.R): 0 `rax`, 1 `rcx`, 2 `rdx`, 3 `rbx`, 4 `rsp`,
//! 5 `rbp`, 6 `rsi`, 7 `rdi`, 8..15 `r8`..`r15`. `rsp` is not in
//! [`GeneralRegisters`]: VMX and SVM keep the guest's stack pointer in the
//! VMCS / VMCB, so the slot is padding and the vCPU reads it from there.
//!
//! [`AxArchVCpu::set_gpr`](axvcpu::AxArchVCpu::set_gpr) takes a
//! [`RegTarget::number`]: 0..15 is the whole 64-bit register, the other
//! numbers name a part of one with the x86 rule for writing it (a 32-bit
//! write clears bits 63:32, an 8- or 16-bit write keeps the rest), the
//! `edx:eax` pair of `RDMSR`, or the vCPU's own latch for a
//! read-modify-write MMIO instruction. An exit that asks the host for a
//! value (`MmioRead`, `SysRegRead`) carries the number to pass back.

use axvcpu::AccessWidth;

/// The general-purpose registers of a guest, in the order of their x86
/// numbers (`rsp`'s slot is unused padding, see the module doc). The layout
/// is `#[repr(C)]`: the world-switch code saves and loads it as a block.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct GeneralRegisters {
    /// `rax` (0): accumulator, return value, hypercall number.
    pub rax: u64,
    /// `rcx` (1).
    pub rcx: u64,
    /// `rdx` (2).
    pub rdx: u64,
    /// `rbx` (3).
    pub rbx: u64,
    /// The slot of `rsp` (4): unused, the VMCS / VMCB holds the guest's.
    pub(crate) _unused_rsp: u64,
    /// `rbp` (5).
    pub rbp: u64,
    /// `rsi` (6).
    pub rsi: u64,
    /// `rdi` (7).
    pub rdi: u64,
    /// `r8`.
    pub r8: u64,
    /// `r9`.
    pub r9: u64,
    /// `r10`.
    pub r10: u64,
    /// `r11`.
    pub r11: u64,
    /// `r12`.
    pub r12: u64,
    /// `r13`.
    pub r13: u64,
    /// `r14`.
    pub r14: u64,
    /// `r15`.
    pub r15: u64,
}

/// The number of `rsp`, which [`GeneralRegisters`] does not hold.
pub const RSP_INDEX: u8 = 4;

impl GeneralRegisters {
    /// The names of the registers by number.
    pub const REGISTER_NAMES: [&'static str; 16] = [
        "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
    ];

    /// The name of register `index`, `"?"` for a number above 15.
    pub const fn register_name(index: u8) -> &'static str {
        if (index as usize) < Self::REGISTER_NAMES.len() {
            Self::REGISTER_NAMES[index as usize]
        } else {
            "?"
        }
    }

    fn slot(&self, index: u8) -> Option<&u64> {
        Some(match index {
            0 => &self.rax,
            1 => &self.rcx,
            2 => &self.rdx,
            3 => &self.rbx,
            5 => &self.rbp,
            6 => &self.rsi,
            7 => &self.rdi,
            8 => &self.r8,
            9 => &self.r9,
            10 => &self.r10,
            11 => &self.r11,
            12 => &self.r12,
            13 => &self.r13,
            14 => &self.r14,
            15 => &self.r15,
            _ => return None,
        })
    }

    fn slot_mut(&mut self, index: u8) -> Option<&mut u64> {
        Some(match index {
            0 => &mut self.rax,
            1 => &mut self.rcx,
            2 => &mut self.rdx,
            3 => &mut self.rbx,
            5 => &mut self.rbp,
            6 => &mut self.rsi,
            7 => &mut self.rdi,
            8 => &mut self.r8,
            9 => &mut self.r9,
            10 => &mut self.r10,
            11 => &mut self.r11,
            12 => &mut self.r12,
            13 => &mut self.r13,
            14 => &mut self.r14,
            15 => &mut self.r15,
            _ => return None,
        })
    }

    /// The value of register `index` (see the module doc). `rsp` (4) and
    /// numbers above 15 are not held here and read as 0; the seed's version
    /// panicked on them.
    pub fn get_reg_of_index(&self, index: u8) -> u64 {
        self.slot(index).copied().unwrap_or(0)
    }

    /// Sets register `index` to `value`. `rsp` (4) and numbers above 15 are
    /// ignored (the seed's version panicked).
    pub fn set_reg_of_index(&mut self, index: u8, value: u64) {
        if let Some(slot) = self.slot_mut(index) {
            *slot = value;
        }
    }

    /// `edx:eax` as one 64-bit value (what `WRMSR` and `XSETBV` take).
    pub fn get_edx_eax(&self) -> u64 {
        (u64::from(self.edx()) << 32) | u64::from(self.eax())
    }

    /// Sets `edx:eax` to `value` as `RDMSR` does: each half zero-extended
    /// into its 64-bit register.
    pub fn set_edx_eax(&mut self, value: u64) {
        self.set_eax(value as u32);
        self.set_edx((value >> 32) as u32);
    }

    /// Reads operand `gpr`; `rsp` is the guest's stack pointer, which the
    /// caller keeps.
    pub fn read_gpr(&self, gpr: Gpr, rsp: u64) -> u64 {
        let full = if gpr.index == RSP_INDEX && gpr.part != GprPart::High8 {
            rsp
        } else {
            self.get_reg_of_index(gpr.index)
        };
        gpr.part.extract(full)
    }

    /// Writes `value` to operand `gpr` with the x86 rule for its width;
    /// `rsp` is the guest's stack pointer, which the caller keeps.
    pub fn write_gpr(&mut self, gpr: Gpr, value: u64, rsp: &mut u64) {
        let slot = if gpr.index == RSP_INDEX && gpr.part != GprPart::High8 {
            Some(rsp)
        } else {
            self.slot_mut(gpr.index)
        };
        if let Some(slot) = slot {
            *slot = gpr.part.merge(*slot, value);
        }
    }
}

/// Defines `get`/`set` pairs for a part of a 64-bit register.
macro_rules! part_accessors {
    ($part:expr, $ty:ty, $($name:ident, $set:ident, $reg:ident;)+) => {
        impl GeneralRegisters {
            $(
                #[doc = concat!("`", stringify!($name), "`, a part of `", stringify!($reg), "`.")]
                pub fn $name(&self) -> $ty {
                    $part.extract(self.$reg) as $ty
                }

                #[doc = concat!("Writes `", stringify!($name), "` with the x86 rule for its width ",
                    "(a 32-bit write clears bits 63:32 of `", stringify!($reg), "`; ",
                    "narrower writes keep the other bits).")]
                pub fn $set(&mut self, value: $ty) {
                    self.$reg = $part.merge(self.$reg, u64::from(value));
                }
            )+
        }
    };
}

part_accessors!(GprPart::Low32, u32,
    eax, set_eax, rax; ecx, set_ecx, rcx; edx, set_edx, rdx; ebx, set_ebx, rbx;
    ebp, set_ebp, rbp; esi, set_esi, rsi; edi, set_edi, rdi;
    r8d, set_r8d, r8; r9d, set_r9d, r9; r10d, set_r10d, r10; r11d, set_r11d, r11;
    r12d, set_r12d, r12; r13d, set_r13d, r13; r14d, set_r14d, r14; r15d, set_r15d, r15;
);

part_accessors!(GprPart::Low16, u16,
    ax, set_ax, rax; cx, set_cx, rcx; dx, set_dx, rdx; bx, set_bx, rbx;
    bp, set_bp, rbp; si, set_si, rsi; di, set_di, rdi;
    r8w, set_r8w, r8; r9w, set_r9w, r9; r10w, set_r10w, r10; r11w, set_r11w, r11;
    r12w, set_r12w, r12; r13w, set_r13w, r13; r14w, set_r14w, r14; r15w, set_r15w, r15;
);

part_accessors!(GprPart::Low8, u8,
    al, set_al, rax; cl, set_cl, rcx; dl, set_dl, rdx; bl, set_bl, rbx;
    bpl, set_bpl, rbp; sil, set_sil, rsi; dil, set_dil, rdi;
    r8b, set_r8b, r8; r9b, set_r9b, r9; r10b, set_r10b, r10; r11b, set_r11b, r11;
    r12b, set_r12b, r12; r13b, set_r13b, r13; r14b, set_r14b, r14; r15b, set_r15b, r15;
);

part_accessors!(GprPart::High8, u8,
    ah, set_ah, rax; ch, set_ch, rcx; dh, set_dh, rdx; bh, set_bh, rbx;
);

/// Which part of a 64-bit register an operand is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GprPart {
    /// All 64 bits.
    Full,
    /// Bits 31:0 (`eax`); a write clears bits 63:32.
    Low32,
    /// Bits 15:0 (`ax`); a write keeps the rest.
    Low16,
    /// Bits 7:0 (`al`, `spl`, `r8b`); a write keeps the rest.
    Low8,
    /// Bits 15:8 (`ah`, `ch`, `dh`, `bh`; register numbers 0..3 only).
    High8,
}

impl GprPart {
    /// The part for an operand of `width` (a low part).
    pub const fn low(width: AccessWidth) -> Self {
        match width {
            AccessWidth::Byte => Self::Low8,
            AccessWidth::Word => Self::Low16,
            AccessWidth::Dword => Self::Low32,
            AccessWidth::Qword => Self::Full,
        }
    }

    /// The width of the part.
    pub const fn width(self) -> AccessWidth {
        match self {
            Self::Full => AccessWidth::Qword,
            Self::Low32 => AccessWidth::Dword,
            Self::Low16 => AccessWidth::Word,
            Self::Low8 | Self::High8 => AccessWidth::Byte,
        }
    }

    /// The part's value in the whole register `full`, zero-extended.
    pub const fn extract(self, full: u64) -> u64 {
        match self {
            Self::Full => full,
            Self::Low32 => full & 0xffff_ffff,
            Self::Low16 => full & 0xffff,
            Self::Low8 => full & 0xff,
            Self::High8 => (full >> 8) & 0xff,
        }
    }

    /// The whole register after writing `value` (its low bits) to the part
    /// of `old`, with the x86 rule.
    pub const fn merge(self, old: u64, value: u64) -> u64 {
        match self {
            Self::Full => value,
            Self::Low32 => value & 0xffff_ffff,
            Self::Low16 => (old & !0xffff) | (value & 0xffff),
            Self::Low8 => (old & !0xff) | (value & 0xff),
            Self::High8 => (old & !0xff00) | ((value & 0xff) << 8),
        }
    }
}

/// A general-purpose register operand: register number (0..15; 0..3 for
/// [`GprPart::High8`], naming `rax`..`rbx`) and the part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Gpr {
    /// The register number.
    pub index: u8,
    /// The part of the register.
    pub part: GprPart,
}

impl Gpr {
    /// The low `width` part of register `index`.
    pub const fn new(index: u8, width: AccessWidth) -> Self {
        Self {
            index,
            part: GprPart::low(width),
        }
    }

    /// The whole register `index`.
    pub const fn full(index: u8) -> Self {
        Self {
            index,
            part: GprPart::Full,
        }
    }

    /// The accumulator of `width` (`al`, `ax`, `eax`, `rax`): the register
    /// of `IN` and `OUT`.
    pub const fn accumulator(width: AccessWidth) -> Self {
        Self::new(0, width)
    }
}

/// What a register number given to `set_gpr` names (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegTarget {
    /// A general-purpose register or a part of one.
    Gpr(Gpr),
    /// `edx:eax`, written as `RDMSR` writes it.
    EdxEax,
    /// The vCPU's latch for the value a read-modify-write MMIO instruction
    /// read; the vCPU completes the instruction on its next run.
    MmioLatch,
}

/// Register numbers: each part's range starts at a multiple of 16.
const PART_STRIDE: usize = 16;
const LOW32_BASE: usize = PART_STRIDE;
const LOW16_BASE: usize = 2 * PART_STRIDE;
const LOW8_BASE: usize = 3 * PART_STRIDE;
const HIGH8_BASE: usize = 4 * PART_STRIDE;
const EDX_EAX_NUMBER: usize = 5 * PART_STRIDE;
const MMIO_LATCH_NUMBER: usize = 5 * PART_STRIDE + 1;

impl RegTarget {
    /// The number to pass to `set_gpr` for this target.
    pub const fn number(self) -> usize {
        match self {
            Self::Gpr(Gpr { index, part }) => {
                let base = match part {
                    GprPart::Full => 0,
                    GprPart::Low32 => LOW32_BASE,
                    GprPart::Low16 => LOW16_BASE,
                    GprPart::Low8 => LOW8_BASE,
                    GprPart::High8 => HIGH8_BASE,
                };
                base + (index as usize % PART_STRIDE)
            }
            Self::EdxEax => EDX_EAX_NUMBER,
            Self::MmioLatch => MMIO_LATCH_NUMBER,
        }
    }

    /// The target a `set_gpr` number names, `None` for a number that names
    /// nothing (a high-byte number above `bh`, or past the last).
    pub const fn from_number(number: usize) -> Option<Self> {
        let index = (number % PART_STRIDE) as u8;
        let part = match number / PART_STRIDE {
            0 => GprPart::Full,
            1 => GprPart::Low32,
            2 => GprPart::Low16,
            3 => GprPart::Low8,
            4 if index < 4 => GprPart::High8,
            _ => {
                return match number {
                    EDX_EAX_NUMBER => Some(Self::EdxEax),
                    MMIO_LATCH_NUMBER => Some(Self::MmioLatch),
                    _ => None,
                };
            }
        };
        Some(Self::Gpr(Gpr { index, part }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_sixteen_qwords_in_encoding_order() {
        assert_eq!(core::mem::size_of::<GeneralRegisters>(), 16 * 8);
        assert_eq!(core::mem::offset_of!(GeneralRegisters, rax), 0);
        assert_eq!(core::mem::offset_of!(GeneralRegisters, rbx), 3 * 8);
        assert_eq!(core::mem::offset_of!(GeneralRegisters, rbp), 5 * 8);
        assert_eq!(core::mem::offset_of!(GeneralRegisters, r15), 15 * 8);
    }

    #[test]
    fn index_accessors_cover_every_register_but_rsp() {
        let mut regs = GeneralRegisters::default();
        for i in 0..16u8 {
            regs.set_reg_of_index(i, 0x100 + u64::from(i));
        }
        for i in 0..16u8 {
            let expected = if i == RSP_INDEX { 0 } else { 0x100 + u64::from(i) };
            assert_eq!(
                regs.get_reg_of_index(i),
                expected,
                "{}",
                GeneralRegisters::register_name(i)
            );
        }
        assert_eq!(regs.rax, 0x100);
        assert_eq!(regs.rdi, 0x107);
        assert_eq!(regs.r15, 0x10f);
        // Out of range: no panic, no effect.
        regs.set_reg_of_index(16, 1);
        regs.set_reg_of_index(255, 1);
        assert_eq!(regs.get_reg_of_index(200), 0);
        assert_eq!(GeneralRegisters::register_name(4), "rsp");
        assert_eq!(GeneralRegisters::register_name(99), "?");
    }

    #[test]
    fn width_accessors_follow_the_x86_write_rules() {
        let mut regs = GeneralRegisters {
            rax: 0x1122_3344_5566_7788,
            ..Default::default()
        };
        assert_eq!(regs.eax(), 0x5566_7788);
        assert_eq!(regs.ax(), 0x7788);
        assert_eq!(regs.al(), 0x88);
        assert_eq!(regs.ah(), 0x77);
        regs.set_al(0xaa);
        assert_eq!(regs.rax, 0x1122_3344_5566_77aa);
        regs.set_ah(0xbb);
        assert_eq!(regs.rax, 0x1122_3344_5566_bbaa);
        regs.set_ax(0x1234);
        assert_eq!(regs.rax, 0x1122_3344_5566_1234);
        regs.set_eax(0xdead_beef);
        assert_eq!(regs.rax, 0xdead_beef, "a 32-bit write clears the upper half");
        regs.r9 = u64::MAX;
        regs.set_r9b(0);
        regs.set_r9w(0x0100);
        assert_eq!(regs.r9, 0xffff_ffff_ffff_0100);
        regs.set_r9d(7);
        assert_eq!(regs.r9, 7);
        regs.rsi = u64::MAX;
        regs.set_sil(0x12);
        assert_eq!(regs.rsi, 0xffff_ffff_ffff_ff12);
    }

    #[test]
    fn edx_eax_pair() {
        let mut regs = GeneralRegisters {
            rax: 0xffff_ffff_0000_0001,
            rdx: 0xffff_ffff_0000_0002,
            ..Default::default()
        };
        assert_eq!(regs.get_edx_eax(), 0x2_0000_0001);
        regs.set_edx_eax(0x1234_5678_9abc_def0);
        assert_eq!(regs.rax, 0x9abc_def0);
        assert_eq!(regs.rdx, 0x1234_5678);
    }

    #[test]
    fn operands_reach_rsp_through_the_caller() {
        let mut regs = GeneralRegisters::default();
        let mut rsp = 0x8000_0000_0000_1000;
        regs.write_gpr(Gpr::new(RSP_INDEX, AccessWidth::Word), 0xbeef, &mut rsp);
        assert_eq!(rsp, 0x8000_0000_0000_beef);
        assert_eq!(regs.read_gpr(Gpr::new(RSP_INDEX, AccessWidth::Byte), rsp), 0xef);
        // High8 number 4 does not exist (it would be `spl` with a REX).
        let ah = Gpr {
            index: 0,
            part: GprPart::High8,
        };
        regs.write_gpr(ah, 0x1ff, &mut rsp);
        assert_eq!(regs.rax, 0xff00);
        assert_eq!(regs.read_gpr(ah, rsp), 0xff);
    }

    #[test]
    fn reg_numbers_round_trip() {
        let parts = [GprPart::Full, GprPart::Low32, GprPart::Low16, GprPart::Low8];
        for part in parts {
            for index in 0..16 {
                let t = RegTarget::Gpr(Gpr { index, part });
                assert_eq!(RegTarget::from_number(t.number()), Some(t));
            }
        }
        for index in 0..4 {
            let t = RegTarget::Gpr(Gpr {
                index,
                part: GprPart::High8,
            });
            assert_eq!(RegTarget::from_number(t.number()), Some(t));
        }
        for t in [RegTarget::EdxEax, RegTarget::MmioLatch] {
            assert_eq!(RegTarget::from_number(t.number()), Some(t));
        }
        // The whole registers keep the plain numbers set_gpr documents.
        assert_eq!(RegTarget::Gpr(Gpr::full(0)).number(), 0);
        assert_eq!(RegTarget::Gpr(Gpr::full(15)).number(), 15);
        for n in [68, 79, 82, 1000, usize::MAX] {
            assert_eq!(RegTarget::from_number(n), None, "{n}");
        }
    }
}
