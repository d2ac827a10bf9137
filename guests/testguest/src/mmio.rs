//! Width-exact device accesses.
//!
//! Each access is one load or store instruction addressing `[Xn]` (no
//! offset, no writeback), so the hypervisor traps it with a valid syndrome
//! (ISV = 1) and sees exactly the width and sign extension chosen here.
//! Loads start from [`POISON`] in the destination register, so a caller can
//! see whether the load really wrote all 64 bits of it.

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

/// A load instruction: its width, and how it extends the value into the
/// 64-bit destination register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Load {
    /// `LDRB Wt`: zero-extends to 64 bits.
    U8,
    /// `LDRH Wt`: zero-extends to 64 bits.
    U16,
    /// `LDR Wt`: zero-extends to 64 bits.
    U32,
    /// `LDR Xt`.
    U64,
    /// `LDRSB Xt`: sign-extends to 64 bits.
    S8ToX,
    /// `LDRSH Xt`: sign-extends to 64 bits.
    S16ToX,
    /// `LDRSW Xt`: sign-extends to 64 bits.
    S32ToX,
    /// `LDRSB Wt`: sign-extends to 32 bits, then the W write zero-extends.
    S8ToW,
    /// `LDRSH Wt`: sign-extends to 32 bits, then the W write zero-extends.
    S16ToW,
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
            Load::U8 | Load::S8ToX | Load::S8ToW => Width::W8,
            Load::U16 | Load::S16ToX | Load::S16ToW => Width::W16,
            Load::U32 | Load::S32ToX => Width::W32,
            Load::U64 => Width::W64,
        }
    }
}

/// Performs `load` at `addr` and returns the whole 64-bit destination
/// register.
///
/// # Safety
///
/// `addr` must be aligned to the load's width and be a device register (or
/// memory no Rust object occupies) that may be read with that width, or an
/// address whose abort the exception handler has been told to expect.
pub unsafe fn load(addr: usize, load: Load) -> u64 {
    let mut value = POISON;
    // SAFETY: one load from `addr`, which the caller vouches for; the asm
    // touches no other memory and no stack.
    unsafe {
        match load {
            Load::U8 => {
                asm!("ldrb {v:w}, [{a}]", a = in(reg) addr, v = inout(reg) value, options(nostack, preserves_flags))
            }
            Load::U16 => {
                asm!("ldrh {v:w}, [{a}]", a = in(reg) addr, v = inout(reg) value, options(nostack, preserves_flags))
            }
            Load::U32 => {
                asm!("ldr {v:w}, [{a}]", a = in(reg) addr, v = inout(reg) value, options(nostack, preserves_flags))
            }
            Load::U64 => {
                asm!("ldr {v:x}, [{a}]", a = in(reg) addr, v = inout(reg) value, options(nostack, preserves_flags))
            }
            Load::S8ToX => {
                asm!("ldrsb {v:x}, [{a}]", a = in(reg) addr, v = inout(reg) value, options(nostack, preserves_flags))
            }
            Load::S16ToX => {
                asm!("ldrsh {v:x}, [{a}]", a = in(reg) addr, v = inout(reg) value, options(nostack, preserves_flags))
            }
            Load::S32ToX => {
                asm!("ldrsw {v:x}, [{a}]", a = in(reg) addr, v = inout(reg) value, options(nostack, preserves_flags))
            }
            Load::S8ToW => {
                asm!("ldrsb {v:w}, [{a}]", a = in(reg) addr, v = inout(reg) value, options(nostack, preserves_flags))
            }
            Load::S16ToW => {
                asm!("ldrsh {v:w}, [{a}]", a = in(reg) addr, v = inout(reg) value, options(nostack, preserves_flags))
            }
        }
    }
    value
}

/// Stores the low `width` bytes of `value` at `addr` with one `STRB`,
/// `STRH`, `STR Wt` or `STR Xt`.
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
            Width::W8 => {
                asm!("strb {v:w}, [{a}]", a = in(reg) addr, v = in(reg) value, options(nostack, preserves_flags))
            }
            Width::W16 => {
                asm!("strh {v:w}, [{a}]", a = in(reg) addr, v = in(reg) value, options(nostack, preserves_flags))
            }
            Width::W32 => {
                asm!("str {v:w}, [{a}]", a = in(reg) addr, v = in(reg) value, options(nostack, preserves_flags))
            }
            Width::W64 => {
                asm!("str {v:x}, [{a}]", a = in(reg) addr, v = in(reg) value, options(nostack, preserves_flags))
            }
        }
    }
}
