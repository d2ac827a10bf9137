//! Access widths against registers: masks and the bytes of a wider register
//! that a narrower access covers.

use axvcpu::AccessWidth;

/// The bytes of a register of `reg_size` bytes (at most 8) that an access of
/// `width` at byte `byte` of the register covers, when it lies fully inside
/// the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    /// The bit position of the first byte covered (below 64).
    shift: u32,
    /// The mask of the access, not shifted.
    mask: u64,
}

impl Window {
    /// The window, or `None` when the access reaches past the register (or
    /// the register is wider than 8 bytes).
    pub(crate) fn new(byte: usize, width: AccessWidth, reg_size: usize) -> Option<Self> {
        let end = byte.checked_add(width.size())?;
        if end > reg_size || reg_size > 8 {
            return None;
        }
        let shift = u32::try_from(byte.checked_mul(8)?).ok()?;
        Some(Self {
            shift,
            mask: width.mask(),
        })
    }

    /// The covered bytes of `reg`, in the low bytes of the result.
    pub(crate) fn read(self, reg: u64) -> u64 {
        reg.checked_shr(self.shift).unwrap_or(0) & self.mask
    }

    /// `reg` with the covered bytes replaced by the low bytes of `value`.
    pub(crate) fn write(self, reg: u64, value: u64) -> u64 {
        let field = self.mask.checked_shl(self.shift).unwrap_or(0);
        let bits = (value & self.mask).checked_shl(self.shift).unwrap_or(0);
        (reg & !field) | bits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_reads_and_writes_the_covered_bytes() {
        let reg = 0x8877_6655_4433_2211;
        let w = Window::new(2, AccessWidth::Word, 8).expect("inside");
        assert_eq!(w.read(reg), 0x4433);
        assert_eq!(w.write(reg, 0xffff_abcd), 0x8877_6655_abcd_2211);
        let w = Window::new(7, AccessWidth::Byte, 8).expect("inside");
        assert_eq!(w.read(reg), 0x88);
        assert_eq!(w.write(reg, 0x1ff), 0xff77_6655_4433_2211);
        let w = Window::new(0, AccessWidth::Qword, 8).expect("inside");
        assert_eq!(w.write(reg, 5), 5);
    }

    #[test]
    fn window_rejects_accesses_past_the_register() {
        assert_eq!(Window::new(4, AccessWidth::Qword, 8), None);
        assert_eq!(Window::new(7, AccessWidth::Word, 8), None);
        assert_eq!(Window::new(0, AccessWidth::Qword, 4), None);
        assert_eq!(Window::new(usize::MAX, AccessWidth::Byte, 8), None);
        assert_eq!(Window::new(0, AccessWidth::Byte, 16), None);
    }
}
