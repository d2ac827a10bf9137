//! The arithmetic of an emulated read-modify-write instruction: its result
//! and the status flags it leaves in RFLAGS (SDM Vol. 1, 3.4.3.1 and each
//! instruction's "Flags Affected").

use axvcpu::AccessWidth;
use bitflags::bitflags;

use crate::decode::AluOp;

bitflags! {
    /// The RFLAGS status flags an ALU instruction sets.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct StatusFlags: u64 {
        /// Carry.
        const CF = 1 << 0;
        /// Parity of the low byte of the result (set when even).
        const PF = 1 << 2;
        /// Auxiliary carry out of bit 3.
        const AF = 1 << 4;
        /// Zero.
        const ZF = 1 << 6;
        /// Sign (the result's top bit).
        const SF = 1 << 7;
        /// Signed overflow.
        const OF = 1 << 11;
    }
}

/// What an ALU instruction produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AluOutcome {
    /// The value to write back to memory (`None` for `cmp` and `test`).
    pub result: Option<u64>,
    /// The status flags the instruction defines, set or clear.
    pub flags: StatusFlags,
    /// The status flags the instruction changes (`inc`/`dec` keep CF).
    pub changed: StatusFlags,
}

impl AluOutcome {
    /// RFLAGS after the instruction, from RFLAGS before it.
    pub const fn apply(&self, rflags: u64) -> u64 {
        (rflags & !self.changed.bits()) | (self.flags.bits() & self.changed.bits())
    }
}

/// The sign bit of `width`.
const fn sign_bit(width: AccessWidth) -> u64 {
    1 << (width.bits() - 1)
}

/// ZF, SF and PF of `result` (already truncated to `width`).
fn result_flags(result: u64, width: AccessWidth) -> StatusFlags {
    let mut f = StatusFlags::empty();
    f.set(StatusFlags::ZF, result == 0);
    f.set(StatusFlags::SF, result & sign_bit(width) != 0);
    f.set(StatusFlags::PF, (result as u8).count_ones().is_multiple_of(2));
    f
}

/// `dst op src` on `width`-byte operands (`src` is ignored by `inc` and
/// `dec`). Inputs are truncated to `width` first; AF is left clear by the
/// logical operations, where the SDM leaves it undefined.
pub fn compute(op: AluOp, width: AccessWidth, dst: u64, src: u64) -> AluOutcome {
    let mask = width.mask();
    let sign = sign_bit(width);
    let (a, b) = (dst & mask, src & mask);
    let all = StatusFlags::all();
    let (result, carry_flags) = match op {
        AluOp::Add | AluOp::Inc => {
            let b = if op == AluOp::Inc { 1 } else { b };
            let r = a.wrapping_add(b) & mask;
            let mut f = StatusFlags::empty();
            // Unsigned carry out: the truncated sum wrapped below an input.
            f.set(StatusFlags::CF, r < a);
            f.set(StatusFlags::OF, (a ^ r) & (b ^ r) & sign != 0);
            f.set(StatusFlags::AF, (a ^ b ^ r) & 0x10 != 0);
            (r, f)
        }
        AluOp::Sub | AluOp::Cmp | AluOp::Dec => {
            let b = if op == AluOp::Dec { 1 } else { b };
            let r = a.wrapping_sub(b) & mask;
            let mut f = StatusFlags::empty();
            f.set(StatusFlags::CF, a < b);
            f.set(StatusFlags::OF, (a ^ b) & (a ^ r) & sign != 0);
            f.set(StatusFlags::AF, (a ^ b ^ r) & 0x10 != 0);
            (r, f)
        }
        AluOp::Or => (a | b, StatusFlags::empty()),
        AluOp::And | AluOp::Test => (a & b, StatusFlags::empty()),
        AluOp::Xor => (a ^ b, StatusFlags::empty()),
    };
    let changed = if matches!(op, AluOp::Inc | AluOp::Dec) {
        all - StatusFlags::CF
    } else {
        all
    };
    AluOutcome {
        result: op.writes_memory().then_some(result),
        flags: carry_flags | result_flags(result, width),
        changed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AccessWidth::{Byte, Dword, Qword, Word};

    const CF: u64 = 1 << 0;
    const PF: u64 = 1 << 2;
    const AF: u64 = 1 << 4;
    const ZF: u64 = 1 << 6;
    const SF: u64 = 1 << 7;
    const OF: u64 = 1 << 11;
    /// RFLAGS bit 1 is always 1; IF (bit 9) is not a status flag.
    const FIXED: u64 = (1 << 1) | (1 << 9);

    fn run(op: AluOp, width: AccessWidth, a: u64, b: u64, before: u64) -> (Option<u64>, u64) {
        let o = compute(op, width, a, b);
        (o.result, o.apply(before))
    }

    // Expected flags below were worked out by hand from the SDM's
    // definitions (and agree with what a CPU gives for the same operands).

    #[test]
    fn add() {
        // 0xff + 1 (byte) = 0 carry out, AF from bit 3, ZF, PF (0 is even).
        assert_eq!(
            run(AluOp::Add, Byte, 0xff, 1, FIXED),
            (Some(0), FIXED | CF | AF | ZF | PF)
        );
        // 0x7f + 1 = 0x80: signed overflow, SF, AF; 0x80 has one bit: PF clear.
        assert_eq!(
            run(AluOp::Add, Byte, 0x7f, 1, FIXED),
            (Some(0x80), FIXED | OF | SF | AF)
        );
        // 0x7fffffff + 1 (dword).
        assert_eq!(
            run(AluOp::Add, Dword, 0x7fff_ffff, 1, FIXED),
            (Some(0x8000_0000), FIXED | OF | SF | AF | PF)
        );
        // The upper bits of the inputs do not matter.
        assert_eq!(run(AluOp::Add, Word, 0xdead_0001, 0x1_0002, 0).0, Some(3));
        // Qword carry.
        assert_eq!(run(AluOp::Add, Qword, u64::MAX, 2, 0), (Some(1), CF | AF));
    }

    #[test]
    fn sub_and_cmp() {
        // 0 - 1 = 0xff: borrow, AF, SF, PF (eight ones).
        assert_eq!(run(AluOp::Sub, Byte, 0, 1, 0), (Some(0xff), CF | AF | SF | PF));
        // 0x80 - 1 = 0x7f: signed overflow, AF.
        assert_eq!(run(AluOp::Sub, Byte, 0x80, 1, 0), (Some(0x7f), OF | AF));
        // cmp 5, 5: equal: ZF, PF; memory not written.
        assert_eq!(run(AluOp::Cmp, Dword, 5, 5, CF | OF), (None, ZF | PF));
        // cmp 3, 5 (dword): 0xfffffffe, below.
        assert_eq!(run(AluOp::Cmp, Dword, 3, 5, 0), (None, CF | SF | AF));
    }

    #[test]
    fn logical_ops_clear_cf_and_of() {
        assert_eq!(
            run(AluOp::Or, Byte, 0x80, 0x01, CF | OF | FIXED),
            (Some(0x81), SF | PF | FIXED)
        );
        assert_eq!(run(AluOp::And, Word, 0xff00, 0x0ff0, CF), (Some(0x0f00), PF));
        assert_eq!(run(AluOp::Xor, Qword, 7, 7, 0), (Some(0), ZF | PF));
        assert_eq!(run(AluOp::Test, Dword, 0x40, 0x40, ZF), (None, 0));
        assert_eq!(run(AluOp::Test, Dword, 0x40, 0x80, 0), (None, ZF | PF));
    }

    #[test]
    fn inc_and_dec_keep_cf() {
        assert_eq!(run(AluOp::Inc, Byte, 0xff, 99, CF), (Some(0), CF | ZF | PF | AF));
        assert_eq!(run(AluOp::Inc, Byte, 0xff, 99, 0), (Some(0), ZF | PF | AF));
        assert_eq!(
            run(AluOp::Dec, Dword, 0, 99, CF),
            (Some(0xffff_ffff), CF | SF | PF | AF)
        );
        assert_eq!(run(AluOp::Dec, Word, 0x8000, 0, 0), (Some(0x7fff), OF | AF | PF));
    }

    #[test]
    fn other_rflags_bits_are_kept() {
        let before = FIXED | (1 << 10) | (1 << 8);
        let (_, after) = run(AluOp::Or, Byte, 1, 0, before | ZF);
        assert_eq!(after, before);
    }
}
