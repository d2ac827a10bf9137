//! The opcode tables: what each supported opcode does to memory.

use axvcpu::AccessWidth;

use super::cursor::Cursor;
use super::{
    AluOp, DecodeError, DecodeMode, Extension, MmioOp, Prefixes, Sizes, Source, imm_z, immediate, modrm_memory,
    pair_width, reg_operand,
};
use crate::regs::Gpr;

/// `movzx` and `movsx` (`0F B6/B7/BE/BF`).
pub(super) fn two_byte(
    c: &mut Cursor<'_>,
    p: &Prefixes,
    sizes: Sizes,
    second: u8,
) -> Result<(AccessWidth, MmioOp), DecodeError> {
    let (width, ext) = match second {
        0xb6 => (AccessWidth::Byte, Extension::Zero),
        0xb7 => (AccessWidth::Word, Extension::Zero),
        0xbe => (AccessWidth::Byte, Extension::Sign),
        0xbf => (AccessWidth::Word, Extension::Sign),
        _ => {
            return Err(DecodeError::Unsupported {
                opcode: 0x0f00 | u16::from(second),
            });
        }
    };
    let m = modrm_memory(c, p, sizes.address)?;
    let dst = reg_operand(m.reg, sizes.operand, p);
    Ok((width, MmioOp::Load { dst, ext }))
}

/// The ALU operation of an `add/or/.../cmp r/m, r` opcode (`00`..`39`).
fn alu_of_reg_form(opcode: u8) -> Option<AluOp> {
    Some(match opcode & !1 {
        0x00 => AluOp::Add,
        0x08 => AluOp::Or,
        0x20 => AluOp::And,
        0x28 => AluOp::Sub,
        0x30 => AluOp::Xor,
        0x38 => AluOp::Cmp,
        0x84 => AluOp::Test,
        _ => return None,
    })
}

/// The ALU operation of group 1 (`80`, `81`, `83`) by ModRM digit; `adc`
/// (2) and `sbb` (3) are not emulated.
fn alu_of_group1(digit: u8) -> Option<AluOp> {
    Some(match digit {
        0 => AluOp::Add,
        1 => AluOp::Or,
        4 => AluOp::And,
        5 => AluOp::Sub,
        6 => AluOp::Xor,
        7 => AluOp::Cmp,
        _ => return None,
    })
}

pub(super) fn one_byte(
    c: &mut Cursor<'_>,
    p: &Prefixes,
    sizes: Sizes,
    opcode: u8,
    mode: DecodeMode,
) -> Result<(AccessWidth, MmioOp), DecodeError> {
    let unsupported = DecodeError::Unsupported {
        opcode: u16::from(opcode),
    };
    let operand = sizes.operand;
    Ok(match opcode {
        0x88 | 0x89 => {
            let width = pair_width(opcode, operand);
            let m = modrm_memory(c, p, sizes.address)?;
            let src = Source::Reg(reg_operand(m.reg, width, p));
            (width, MmioOp::Store { src })
        }
        0x8a | 0x8b => {
            let width = pair_width(opcode, operand);
            let m = modrm_memory(c, p, sizes.address)?;
            let dst = reg_operand(m.reg, width, p);
            (
                width,
                MmioOp::Load {
                    dst,
                    ext: Extension::None,
                },
            )
        }
        0xc6 | 0xc7 => {
            let width = pair_width(opcode, operand);
            let m = modrm_memory(c, p, sizes.address)?;
            if m.digit != 0 {
                return Err(DecodeError::Invalid);
            }
            let size = if width == AccessWidth::Byte { 1 } else { imm_z(width) };
            let src = Source::Imm(immediate(c, size, width)?);
            (width, MmioOp::Store { src })
        }
        0xa0..=0xa3 => {
            let width = pair_width(opcode, operand);
            c.skip(sizes.address.size())?;
            let acc = Gpr::accumulator(width);
            if opcode < 0xa2 {
                (
                    width,
                    MmioOp::Load {
                        dst: acc,
                        ext: Extension::None,
                    },
                )
            } else {
                (width, MmioOp::Store { src: Source::Reg(acc) })
            }
        }
        0x63 if mode == DecodeMode::Bits64 => {
            let m = modrm_memory(c, p, sizes.address)?;
            let dst = reg_operand(m.reg, operand, p);
            // Without REX.W it is a plain 32-bit load (SDM MOVSXD).
            let ext = if operand == AccessWidth::Qword {
                Extension::Sign
            } else {
                Extension::None
            };
            (operand.min(AccessWidth::Dword), MmioOp::Load { dst, ext })
        }
        _ if alu_of_reg_form(opcode).is_some() => {
            let op = alu_of_reg_form(opcode).ok_or(unsupported)?;
            let width = pair_width(opcode, operand);
            let m = modrm_memory(c, p, sizes.address)?;
            let src = Source::Reg(reg_operand(m.reg, width, p));
            (width, MmioOp::Alu { op, src })
        }
        0x80 | 0x81 | 0x83 => {
            let width = if opcode == 0x80 { AccessWidth::Byte } else { operand };
            let m = modrm_memory(c, p, sizes.address)?;
            let op = alu_of_group1(m.digit).ok_or(unsupported)?;
            let size = if opcode == 0x81 { imm_z(width) } else { 1 };
            let src = Source::Imm(immediate(c, size, width)?);
            (width, MmioOp::Alu { op, src })
        }
        0xf6 | 0xf7 => {
            let width = pair_width(opcode, operand);
            let m = modrm_memory(c, p, sizes.address)?;
            if m.digit != 0 {
                return Err(unsupported);
            }
            let size = if width == AccessWidth::Byte { 1 } else { imm_z(width) };
            let src = Source::Imm(immediate(c, size, width)?);
            (width, MmioOp::Alu { op: AluOp::Test, src })
        }
        0xfe | 0xff => {
            let width = pair_width(opcode, operand);
            let m = modrm_memory(c, p, sizes.address)?;
            let op = match m.digit {
                0 => AluOp::Inc,
                1 => AluOp::Dec,
                _ => return Err(unsupported),
            };
            (
                width,
                MmioOp::Alu {
                    op,
                    src: Source::Imm(1),
                },
            )
        }
        _ => return Err(unsupported),
    })
}
