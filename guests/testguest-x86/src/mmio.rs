//! Width-exact memory-mapped accesses, each one instruction whose form is
//! chosen here.
//!
//! Under the hypervisor every access to an emulated page exits and the
//! hypervisor decodes the instruction from guest memory, so the form
//! matters: `mov` of each width, `movzx`/`movsx`/`movsxd`, `mov` into a
//! partial register (`AL`, `AH`, `AX`, whose other bits must stay), REX
//! registers (`R9`, `R10`) and read-modify-write ALU forms. Loads start from
//! [`POISON`] in the destination register, so a caller can see exactly which
//! of its bits the load wrote.

use core::arch::asm;

/// What the destination register of a load holds before the load.
pub const POISON: u64 = 0xdead_beef_cafe_f00d;

/// An access width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    /// One byte.
    W8,
    /// Two bytes.
    W16,
    /// Four bytes.
    W32,
    /// Eight bytes.
    W64,
}

impl Width {
    /// Every width, narrowest first.
    pub const ALL: [Width; 4] = [Width::W8, Width::W16, Width::W32, Width::W64];

    /// The width in bytes.
    pub const fn bytes(self) -> usize {
        match self {
            Width::W8 => 1,
            Width::W16 => 2,
            Width::W32 => 4,
            Width::W64 => 8,
        }
    }

    /// The width in bits.
    pub const fn bits(self) -> u32 {
        self.bytes() as u32 * 8
    }

    /// A mask of the low `bits()` bits.
    pub const fn mask(self) -> u64 {
        match self {
            Width::W64 => u64::MAX,
            _ => (1 << self.bits()) - 1,
        }
    }
}

/// A load instruction: its width, and what it does to the rest of the
/// 64-bit destination register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Load {
    /// `movzx eax, byte ptr`: zero-extends to 64 bits.
    U8,
    /// `movzx eax, word ptr`: zero-extends to 64 bits.
    U16,
    /// `mov eax, dword ptr`: the 32-bit write zero-extends to 64 bits.
    U32,
    /// `mov rax, qword ptr`.
    U64,
    /// `mov al, byte ptr`: bits 8..64 stay.
    Mov8,
    /// `mov ah, byte ptr`: only bits 8..16 change.
    Mov8High,
    /// `mov ax, word ptr`: bits 16..64 stay.
    Mov16,
    /// `movsx rax, byte ptr`: sign-extends to 64 bits.
    S8ToR,
    /// `movsx rax, word ptr`: sign-extends to 64 bits.
    S16ToR,
    /// `movsxd rax, dword ptr`: sign-extends to 64 bits.
    S32ToR,
    /// `movsx eax, byte ptr`: sign-extends to 32 bits, then zero-extends.
    S8ToE,
    /// `movsx eax, word ptr`: sign-extends to 32 bits, then zero-extends.
    S16ToE,
    /// `movsx ax, byte ptr`: sign-extends to 16 bits; bits 16..64 stay.
    S8ToX,
    /// `movzx ax, byte ptr`: zero-extends to 16 bits; bits 16..64 stay.
    Z8ToX,
    /// `movsx r9, byte ptr [r10]`: sign-extends to 64 bits, with REX.R and
    /// REX.B registers.
    S8ToR9,
}

impl Load {
    /// The zero-extending load of `width`.
    pub const fn unsigned(width: Width) -> Self {
        match width {
            Width::W8 => Load::U8,
            Width::W16 => Load::U16,
            Width::W32 => Load::U32,
            Width::W64 => Load::U64,
        }
    }

    /// The number of bytes the load reads.
    pub const fn width(self) -> Width {
        match self {
            Load::U8
            | Load::Mov8
            | Load::Mov8High
            | Load::S8ToR
            | Load::S8ToE
            | Load::S8ToX
            | Load::Z8ToX
            | Load::S8ToR9 => Width::W8,
            Load::U16 | Load::Mov16 | Load::S16ToR | Load::S16ToE => Width::W16,
            Load::U32 | Load::S32ToR => Width::W32,
            Load::U64 => Width::W64,
        }
    }
}

/// One load `$insn` from `$addr` into `$v` (in the template: `{a}` the
/// address, `{v}` the destination, with its size modifier).
macro_rules! load_insn {
    ($insn:literal, $addr:expr, $v:ident) => {
        asm!($insn, a = in(reg) $addr, v = inout(reg) $v, options(nostack, preserves_flags))
    };
}

/// One store `$insn` of `$value` at `$addr` (`{a}` and `{v}` as above).
macro_rules! store_insn {
    ($insn:literal, $addr:expr, $value:expr) => {
        asm!($insn, a = in(reg) $addr, v = in(reg) $value, options(nostack, preserves_flags))
    };
}

/// Performs `load` at `addr` and returns the whole 64-bit destination
/// register, which held [`POISON`] before.
///
/// # Safety
///
/// `addr` must be aligned to the load's width and be a device register (or
/// memory no Rust object occupies) that may be read with that width.
pub unsafe fn load(addr: usize, load: Load) -> u64 {
    let mut v = POISON;
    // SAFETY: one load from `addr`, which the caller vouches for; the asm
    // touches no other memory and no stack.
    unsafe {
        match load {
            Load::U8 => load_insn!("movzx {v:e}, byte ptr [{a}]", addr, v),
            Load::U16 => load_insn!("movzx {v:e}, word ptr [{a}]", addr, v),
            Load::U32 => load_insn!("mov {v:e}, dword ptr [{a}]", addr, v),
            Load::U64 => load_insn!("mov {v:r}, qword ptr [{a}]", addr, v),
            Load::Mov8 => load_insn!("mov {v:l}, byte ptr [{a}]", addr, v),
            // AH cannot be encoded with a REX prefix: the address is in RSI.
            Load::Mov8High => {
                asm!("mov ah, byte ptr [rsi]", in("rsi") addr, inout("rax") v, options(nostack, preserves_flags))
            }
            Load::Mov16 => load_insn!("mov {v:x}, word ptr [{a}]", addr, v),
            Load::S8ToR => load_insn!("movsx {v:r}, byte ptr [{a}]", addr, v),
            Load::S16ToR => load_insn!("movsx {v:r}, word ptr [{a}]", addr, v),
            Load::S32ToR => load_insn!("movsxd {v:r}, dword ptr [{a}]", addr, v),
            Load::S8ToE => load_insn!("movsx {v:e}, byte ptr [{a}]", addr, v),
            Load::S16ToE => load_insn!("movsx {v:e}, word ptr [{a}]", addr, v),
            Load::S8ToX => load_insn!("movsx {v:x}, byte ptr [{a}]", addr, v),
            Load::Z8ToX => load_insn!("movzx {v:x}, byte ptr [{a}]", addr, v),
            Load::S8ToR9 => {
                asm!("movsx r9, byte ptr [r10]", in("r10") addr, inout("r9") v, options(nostack, preserves_flags))
            }
        }
    }
    v
}

/// Stores the low `width` bytes of `value` at `addr` with one `mov` from a
/// register of that width.
///
/// # Safety
///
/// `addr` must be aligned to `width` and be a device register (or memory no
/// Rust object occupies) that may be written with that width.
pub unsafe fn store(addr: usize, width: Width, value: u64) {
    // SAFETY: one store to `addr`, which the caller vouches for; the asm
    // touches no other memory and no stack.
    unsafe {
        match width {
            Width::W8 => store_insn!("mov byte ptr [{a}], {v:l}", addr, value),
            Width::W16 => store_insn!("mov word ptr [{a}], {v:x}", addr, value),
            Width::W32 => store_insn!("mov dword ptr [{a}], {v:e}", addr, value),
            Width::W64 => store_insn!("mov qword ptr [{a}], {v:r}", addr, value),
        }
    }
}

/// The immediate of [`Rmw::OrQwordImm8`] (sign-extended from 8 bits).
const OR_IMM8: u64 = 0x70;
/// The immediate of [`Rmw::AndDwordImm32`].
const AND_IMM32: u32 = 0xFFFF_00FF;

/// A read-modify-write ALU instruction on memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rmw {
    /// `or qword ptr [a], 0x70` (`REX.W 83 /1 ib`).
    OrQwordImm8,
    /// `and dword ptr [a], 0xFFFF00FF` (`81 /4 id`).
    AndDwordImm32,
    /// `add qword ptr [a], reg` (`REX.W 01 /r`).
    AddQwordReg(u64),
    /// `sub qword ptr [a], reg` (`REX.W 29 /r`).
    SubQwordReg(u64),
}

impl Rmw {
    /// What the instruction leaves in a 64-bit register that held `old`.
    pub const fn apply(self, old: u64) -> u64 {
        match self {
            Rmw::OrQwordImm8 => old | OR_IMM8,
            Rmw::AndDwordImm32 => old & (0xFFFF_FFFF_0000_0000 | AND_IMM32 as u64),
            Rmw::AddQwordReg(v) => old.wrapping_add(v),
            Rmw::SubQwordReg(v) => old.wrapping_sub(v),
        }
    }

    /// Whether the instruction sets `ZF` when the register held `old`.
    pub const fn zero_flag(self, old: u64) -> bool {
        match self {
            Rmw::AndDwordImm32 => self.apply(old) as u32 == 0,
            _ => self.apply(old) == 0,
        }
    }

    /// The instruction as its mnemonic, for failure lines.
    pub const fn name(self) -> &'static str {
        match self {
            Rmw::OrQwordImm8 => "or qword, imm8",
            Rmw::AndDwordImm32 => "and dword, imm32",
            Rmw::AddQwordReg(_) => "add qword, reg",
            Rmw::SubQwordReg(_) => "sub qword, reg",
        }
    }
}

/// Performs `op` on the memory at `addr`; returns `ZF` after it.
///
/// # Safety
///
/// `addr` must be 8-byte aligned and be a device register (or memory no
/// Rust object occupies) that may be read and written with the width of
/// `op`.
pub unsafe fn rmw(addr: usize, op: Rmw) -> bool {
    let zf: u8;
    // SAFETY: one read-modify-write of `addr`, which the caller vouches
    // for; the asm touches no other memory and no stack.
    unsafe {
        match op {
            Rmw::OrQwordImm8 => asm!(
                "or qword ptr [{a}], {imm}", "setz {z}",
                a = in(reg) addr, imm = const OR_IMM8, z = out(reg_byte) zf, options(nostack)
            ),
            Rmw::AndDwordImm32 => asm!(
                "and dword ptr [{a}], {imm}", "setz {z}",
                a = in(reg) addr, imm = const AND_IMM32 as i32, z = out(reg_byte) zf, options(nostack)
            ),
            Rmw::AddQwordReg(v) => asm!(
                "add qword ptr [{a}], {v}", "setz {z}",
                a = in(reg) addr, v = in(reg) v, z = out(reg_byte) zf, options(nostack)
            ),
            Rmw::SubQwordReg(v) => asm!(
                "sub qword ptr [{a}], {v}", "setz {z}",
                a = in(reg) addr, v = in(reg) v, z = out(reg_byte) zf, options(nostack)
            ),
        }
    }
    zf != 0
}
