//! Decoding the guest instruction that touched an emulated (MMIO) address.
//!
//! Neither backend gets the instruction from the hardware here: VMX reports
//! only the guest physical address of an EPT violation, and SVM under QEMU
//! has no decode assists. So the vCPU reads the bytes at the guest's RIP and
//! [`decode`] says what the instruction does to memory: a load into a
//! register (with zero or sign extension), a store of a register or an
//! immediate, or an ALU read-modify-write (`add`, `or`, `and`, `sub`, `xor`,
//! `inc`, `dec`, and the read-only `cmp` and `test`), its memory width and
//! its length, by which RIP advances once it is emulated.
//!
//! # Supported forms
//!
//! | opcode | instruction |
//! |---|---|
//! | `88`, `89` | `mov r/m, r` |
//! | `8A`, `8B` | `mov r, r/m` |
//! | `C6 /0`, `C7 /0` | `mov r/m, imm` |
//! | `A0`..`A3` | `mov al/ax/eax/rax, moffs` and back |
//! | `0F B6`, `0F B7`, `0F BE`, `0F BF` | `movzx`, `movsx` |
//! | `63` (64-bit mode) | `movsxd` |
//! | `00 01 08 09 20 21 28 29 30 31 38 39 84 85` | `add or and sub xor cmp test r/m, r` |
//! | `80 81 83 /0 /1 /4 /5 /6 /7` | `add or and sub xor cmp r/m, imm` |
//! | `F6 /0`, `F7 /0` | `test r/m, imm` |
//! | `FE /0 /1`, `FF /0 /1` | `inc`, `dec` |
//!
//! with the prefixes `66` (operand size), `67` (address size), `F0` (lock,
//! on the read-modify-write forms), the segment overrides (ignored: the
//! hardware already gave the address) and REX, in 16-, 32- and 64-bit code.
//!
//! Anything else is a [`DecodeError`]: string instructions, `xchg`,
//! `adc`/`sbb`, register-only forms (they cannot touch memory), `rep`
//! prefixes, `lock` on a non-read-modify-write form, and byte strings that
//! end early or run past the 15-byte limit. The decoder reads at most 15
//! bytes and never panics, whatever it is given.

use axvcpu::AccessWidth;

use crate::regs::{Gpr, GprPart};

mod cursor;
mod opcodes;
#[cfg(test)]
mod tests;

use cursor::Cursor;
use opcodes::{one_byte, two_byte};

/// The default operand and address size of the code the guest runs, from
/// its code segment (`CS.L`, `CS.D`) and mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeMode {
    /// Real mode, virtual-8086 mode, or a 16-bit code segment.
    Bits16,
    /// A 32-bit code segment (protected or compatibility mode).
    Bits32,
    /// 64-bit mode (`CS.L` = 1 in IA-32e mode).
    Bits64,
}

/// How a loaded value is widened into its destination register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extension {
    /// The register is as wide as the access (`mov`).
    None,
    /// Zero-extended (`movzx`).
    Zero,
    /// Sign-extended (`movsx`, `movsxd`).
    Sign,
}

/// The second operand of a store or ALU instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A register (or a part of one), read when the instruction is
    /// emulated.
    Reg(Gpr),
    /// An immediate, already extended and truncated to the access width.
    Imm(u64),
}

/// An ALU operation on a memory operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AluOp {
    /// `add m, src`.
    Add,
    /// `or m, src`.
    Or,
    /// `and m, src`.
    And,
    /// `sub m, src`.
    Sub,
    /// `xor m, src`.
    Xor,
    /// `cmp m, src`: flags only, memory is not written.
    Cmp,
    /// `test m, src`: flags only, memory is not written.
    Test,
    /// `inc m` (the source is ignored; CF is kept).
    Inc,
    /// `dec m` (the source is ignored; CF is kept).
    Dec,
}

impl AluOp {
    /// Whether the operation writes its result back to memory.
    pub const fn writes_memory(self) -> bool {
        !matches!(self, Self::Cmp | Self::Test)
    }
}

/// What an instruction does to its memory operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MmioOp {
    /// Reads memory into register `dst` (`dst.part` gives the register's
    /// width), widened by `ext`.
    Load {
        /// The destination register.
        dst: Gpr,
        /// How the value is widened.
        ext: Extension,
    },
    /// Writes `src` to memory.
    Store {
        /// The value written.
        src: Source,
    },
    /// Reads memory, combines it with `src` by `op`, updates the
    /// arithmetic flags and, unless `op` is `cmp`/`test`, writes the result
    /// back.
    Alu {
        /// The operation.
        op: AluOp,
        /// The second operand (ignored by `inc`/`dec`).
        src: Source,
    },
}

/// A decoded instruction with a memory operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MmioInstruction {
    /// The instruction's length in bytes (1..=15): how far RIP advances.
    pub len: u8,
    /// The width of the memory access.
    pub width: AccessWidth,
    /// What it does.
    pub op: MmioOp,
}

impl MmioInstruction {
    /// Whether the instruction reads memory.
    pub const fn reads_memory(&self) -> bool {
        !matches!(self.op, MmioOp::Store { .. })
    }

    /// Whether the instruction writes memory.
    pub const fn writes_memory(&self) -> bool {
        match self.op {
            MmioOp::Load { .. } => false,
            MmioOp::Store { .. } => true,
            MmioOp::Alu { op, .. } => op.writes_memory(),
        }
    }
}

/// Why bytes did not decode to a supported memory instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The bytes end before the instruction does (the caller may read more).
    Truncated,
    /// More than 15 bytes: the CPU would raise #GP.
    TooLong,
    /// A register-only form (ModRM.mod = 3): it does not access memory.
    NotMemory,
    /// An encoding the CPU refuses (#UD): `lock` on an instruction that
    /// cannot take it, `C6`/`C7` with a nonzero ModRM.reg.
    Invalid,
    /// A valid instruction this decoder does not emulate (its first opcode
    /// byte, `0x0F00 | second` for two-byte opcodes).
    Unsupported {
        /// The opcode.
        opcode: u16,
    },
}

/// The architectural maximum length of an instruction.
pub const MAX_INSTRUCTION_LEN: usize = 15;

/// Prefix bytes (SDM Vol. 2A, 2.1.1).
mod prefix {
    pub const OPERAND_SIZE: u8 = 0x66;
    pub const ADDRESS_SIZE: u8 = 0x67;
    pub const LOCK: u8 = 0xf0;
    pub const REPNE: u8 = 0xf2;
    pub const REP: u8 = 0xf3;
    pub const SEGMENTS: [u8; 6] = [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65];
    /// REX is 0100WRXB in 64-bit mode.
    pub const REX_MASK: u8 = 0xf0;
    pub const REX: u8 = 0x40;
    pub const REX_W: u8 = 1 << 3;
    pub const REX_R: u8 = 1 << 2;
}

/// The prefixes in front of the opcode.
#[derive(Debug, Default, Clone, Copy)]
struct Prefixes {
    operand_size: bool,
    address_size: bool,
    lock: bool,
    rep: bool,
    /// The REX byte, when it immediately precedes the opcode.
    rex: Option<u8>,
}

impl Prefixes {
    fn read(c: &mut Cursor<'_>, mode: DecodeMode) -> Result<Self, DecodeError> {
        let mut p = Self::default();
        loop {
            let b = c.peek()?;
            match b {
                prefix::OPERAND_SIZE => p.operand_size = true,
                prefix::ADDRESS_SIZE => p.address_size = true,
                prefix::LOCK => p.lock = true,
                prefix::REPNE | prefix::REP => p.rep = true,
                _ if prefix::SEGMENTS.contains(&b) => {}
                _ if mode == DecodeMode::Bits64 && b & prefix::REX_MASK == prefix::REX => {
                    c.next()?;
                    p.rex = Some(b);
                    continue;
                }
                _ => return Ok(p),
            }
            // A REX followed by another prefix is ignored (SDM 2.2.1).
            p.rex = None;
            c.next()?;
        }
    }

    fn rex_bit(&self, bit: u8) -> bool {
        self.rex.is_some_and(|r| r & bit != 0)
    }
}

/// Operand and address sizes for one instruction.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    operand: AccessWidth,
    address: AccessWidth,
}

impl Sizes {
    fn new(mode: DecodeMode, p: &Prefixes) -> Self {
        use AccessWidth::{Dword, Qword, Word};
        let (operand, address) = match mode {
            DecodeMode::Bits64 if p.rex_bit(prefix::REX_W) => (Qword, Qword),
            DecodeMode::Bits64 => (if p.operand_size { Word } else { Dword }, Qword),
            DecodeMode::Bits32 => (if p.operand_size { Word } else { Dword }, Dword),
            DecodeMode::Bits16 => (if p.operand_size { Dword } else { Word }, Word),
        };
        let address = match (mode, p.address_size) {
            (_, false) => address,
            (DecodeMode::Bits64, true) => Dword,
            (DecodeMode::Bits32, true) => Word,
            (DecodeMode::Bits16, true) => Dword,
        };
        Self { operand, address }
    }
}

/// The fields of a ModRM byte.
#[derive(Debug, Clone, Copy)]
struct ModRm {
    /// ModRM.reg extended by REX.R: a register number or an opcode digit.
    reg: u8,
    /// ModRM.reg alone (the `/digit` of group opcodes).
    digit: u8,
}

/// Reads a ModRM byte with a memory operand and skips its SIB byte and
/// displacement.
fn modrm_memory(c: &mut Cursor<'_>, p: &Prefixes, address: AccessWidth) -> Result<ModRm, DecodeError> {
    const MOD_SHIFT: u8 = 6;
    const REG_SHIFT: u8 = 3;
    const FIELD3: u8 = 0b111;
    const MOD_REGISTER: u8 = 0b11;
    /// rm = 100 (32/64-bit addressing): a SIB byte follows.
    const RM_SIB: u8 = 0b100;
    /// mod = 00 with rm = 101 (32/64-bit) or rm = 110 (16-bit), or SIB.base
    /// = 101: no base register, a full displacement.
    const RM_DISP32: u8 = 0b101;
    const RM_DISP16: u8 = 0b110;

    let modrm = c.next()?;
    let md = modrm >> MOD_SHIFT;
    let digit = (modrm >> REG_SHIFT) & FIELD3;
    let rm = modrm & FIELD3;
    if md == MOD_REGISTER {
        return Err(DecodeError::NotMemory);
    }
    let disp = if address == AccessWidth::Word {
        match md {
            0 if rm == RM_DISP16 => 2,
            0 => 0,
            1 => 1,
            _ => 2,
        }
    } else {
        let sib_base = if rm == RM_SIB { Some(c.next()? & FIELD3) } else { None };
        match md {
            0 if rm == RM_DISP32 || sib_base == Some(RM_DISP32) => 4,
            0 => 0,
            1 => 1,
            _ => 4,
        }
    };
    c.skip(disp)?;
    let reg = digit | if p.rex_bit(prefix::REX_R) { 8 } else { 0 };
    Ok(ModRm { reg, digit })
}

/// Register `num` (with REX.R) as an operand of `width`; without any REX,
/// byte registers 4..7 are `ah`, `ch`, `dh`, `bh`.
fn reg_operand(num: u8, width: AccessWidth, p: &Prefixes) -> Gpr {
    const HIGH_BYTE_FIRST: u8 = 4;
    const HIGH_BYTE_LAST: u8 = 7;
    if width == AccessWidth::Byte && p.rex.is_none() && (HIGH_BYTE_FIRST..=HIGH_BYTE_LAST).contains(&num) {
        Gpr {
            index: num - HIGH_BYTE_FIRST,
            part: GprPart::High8,
        }
    } else {
        Gpr::new(num, width)
    }
}

/// Reads an immediate of `size` bytes (1, 2 or 4), sign-extends it and
/// truncates it to `width`.
fn immediate(c: &mut Cursor<'_>, size: usize, width: AccessWidth) -> Result<u64, DecodeError> {
    let raw = c.read_le(size)?;
    let signed = match size {
        1 => i64::from(raw as u8 as i8),
        2 => i64::from(raw as u16 as i16),
        _ => i64::from(raw as u32 as i32),
    };
    Ok(signed as u64 & width.mask())
}

/// The size of the immediate of an `iz` operand: 2 for 16-bit operands, 4
/// otherwise (sign-extended for 64-bit ones).
const fn imm_z(width: AccessWidth) -> usize {
    if matches!(width, AccessWidth::Word) { 2 } else { 4 }
}

/// Width of the byte/full forms of a two-opcode pair: even = byte.
const fn pair_width(opcode: u8, operand: AccessWidth) -> AccessWidth {
    if opcode & 1 == 0 { AccessWidth::Byte } else { operand }
}

/// Decodes the instruction at the start of `bytes` (at most the first 15
/// are read), in code of `mode`. See the module doc for what is supported.
pub fn decode(bytes: &[u8], mode: DecodeMode) -> Result<MmioInstruction, DecodeError> {
    let mut c = Cursor::new(bytes);
    let p = Prefixes::read(&mut c, mode)?;
    let sizes = Sizes::new(mode, &p);
    let opcode = c.next()?;
    let (width, op) = if opcode == 0x0f {
        let second = c.next()?;
        two_byte(&mut c, &p, sizes, second)?
    } else {
        one_byte(&mut c, &p, sizes, opcode, mode)?
    };
    if p.rep {
        return Err(DecodeError::Unsupported {
            opcode: u16::from(opcode),
        });
    }
    if p.lock && !matches!(op, MmioOp::Alu { op, .. } if op.writes_memory()) {
        return Err(DecodeError::Invalid);
    }
    Ok(MmioInstruction {
        len: c.consumed(),
        width,
        op,
    })
}
