//! Performing a decoded [`MemOp`] on a guest's registers and memory.
//!
//! [`execute`] computes each access's virtual address from the base
//! register, finds its IPA, and performs the accesses in architectural
//! order through [`GuestMemory::access`]: the first register before the
//! second, the low half of a 128-bit register before the high half (a
//! Q register is two 8-byte accesses), a `DC ZVA` block as 8-byte zero
//! writes from its (aligned-down) start. Only when every access succeeded
//! does it write the loaded registers, the status of a store-exclusive and
//! the write-back of the base register; a failed access leaves every
//! register as it was (stores already performed stay performed, as on
//! hardware that aborts half-way through a pair).
//!
//! # Addresses
//!
//! The fault gives the IPA of one page ([`FaultContext::ipa`]) and the
//! virtual address in it (`FAR`). An access in that virtual page goes to
//! the same offset of that IPA page; any other page is translated by
//! [`GuestMemory::translate`] (the guest's stage 1). A single element that
//! crosses a 4 KiB boundary is refused ([`ExecError::CrossesPage`]):
//! devices are not accessed unaligned.
//!
//! # Registers
//!
//! Base register 31 is SP, transfer register 31 is XZR (reads 0, writes
//! vanish), and so is an index register 31. A W-register load clears the
//! upper 32 bits; a SIMD&FP load clears the bytes of the 128-bit register
//! above its size.
//!
//! # Exclusives
//!
//! A load-exclusive is a load. A store-exclusive to an emulated device
//! always performs its store and reports success (status 0): the device is
//! not shared memory that another observer could have written since the
//! load-exclusive, and a guest that retries until success would otherwise
//! never finish.

#![deny(unsafe_code)]

use axvcpu::AccessWidth;

use super::decode::{Base, Direction, Extend, Index, LoadExtend, MemOp, Reg, SP_OR_ZR, Target, Transfer};

/// The guest's registers as the executor sees them.
pub trait Registers {
    /// Xn (n < 31); 31 reads as zero (XZR).
    fn x(&self, n: Reg) -> u64;
    /// Sets Xn (n < 31); a write to 31 (XZR) is discarded.
    fn set_x(&mut self, n: Reg, value: u64);
    /// The stack pointer the faulting instruction used.
    fn sp(&self) -> u64;
    /// Sets that stack pointer.
    fn set_sp(&mut self, value: u64);
    /// The 128-bit SIMD&FP register Vn.
    fn v(&self, n: Reg) -> u128;
    /// Sets Vn.
    fn set_v(&mut self, n: Reg, value: u128);
}

/// Why an access could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessFailed;

/// The guest's memory as the executor sees it.
pub trait GuestMemory {
    /// The IPA of guest virtual address `va` for a read or a `write`, by
    /// the guest's stage-1 translation.
    fn translate(&mut self, va: u64, write: bool) -> Result<u64, AccessFailed>;
    /// One access of `width` at `ipa`: a read returns the value
    /// (zero-extended), a write writes the low `width` bytes of `data`.
    fn access(&mut self, ipa: u64, width: AccessWidth, write: bool, data: u64) -> Result<u64, AccessFailed>;
}

/// What the exit tells about the faulting access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultContext {
    /// The address of the instruction (the base of a literal load).
    pub pc: u64,
    /// The faulting virtual address (`FAR_EL2`).
    pub far: u64,
    /// The faulting IPA (`HPFAR_EL2` page plus the offset of `far`).
    pub ipa: u64,
    /// The `DC ZVA` block size in bytes (4 << `DCZID_EL0.BS`).
    pub zva_block: u64,
}

/// Why [`execute`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecError {
    /// The access at this virtual address failed on the bus.
    Access {
        /// The virtual address.
        va: u64,
    },
    /// The virtual address did not translate.
    Translation {
        /// The virtual address.
        va: u64,
    },
    /// One element at this virtual address crosses a 4 KiB boundary.
    CrossesPage {
        /// The virtual address.
        va: u64,
    },
    /// The `DC ZVA` block size is not a power of two from 4 to 2048.
    BadZvaBlock,
}

/// The size of the pages the same-page rule works in.
const PAGE: u64 = 0x1000;
/// The most accesses one instruction makes: a pair of Q registers.
const MAX_PIECES: usize = 4;
/// The largest `DC ZVA` block the architecture allows (BS = 9).
const MAX_ZVA_BLOCK: u64 = 2048;

/// Performs `op` on `regs` and `mem` (see the module doc). `Ok` when every
/// access succeeded and the registers are updated; the caller then moves
/// the PC past the instruction.
pub fn execute(
    op: &MemOp,
    ctx: &FaultContext,
    regs: &mut impl Registers,
    mem: &mut impl GuestMemory,
) -> Result<(), ExecError> {
    match op {
        MemOp::Transfer(t) => transfer(t, ctx, regs, mem),
        MemOp::ZeroBlock { rt } => zero_block(*rt, ctx, regs, mem),
    }
}

/// The IPA of the `bytes` at `va`.
fn ipa_of(va: u64, bytes: u64, write: bool, ctx: &FaultContext, mem: &mut impl GuestMemory) -> Result<u64, ExecError> {
    let offset = va % PAGE;
    if offset + bytes > PAGE {
        return Err(ExecError::CrossesPage { va });
    }
    if va / PAGE == ctx.far / PAGE {
        Ok((ctx.ipa - ctx.ipa % PAGE) | offset)
    } else {
        mem.translate(va, write).map_err(|_| ExecError::Translation { va })
    }
}

/// One access of `bytes` (1, 2, 4 or 8) at `va`.
fn access(
    va: u64,
    bytes: u8,
    write: bool,
    data: u64,
    ctx: &FaultContext,
    mem: &mut impl GuestMemory,
) -> Result<u64, ExecError> {
    let width = match bytes {
        1 => AccessWidth::Byte,
        2 => AccessWidth::Word,
        4 => AccessWidth::Dword,
        _ => AccessWidth::Qword,
    };
    let ipa = ipa_of(va, u64::from(bytes), write, ctx, mem)?;
    let mask = if bytes >= 8 {
        u64::MAX
    } else {
        (1u64 << (u32::from(bytes) * 8)) - 1
    };
    mem.access(ipa, width, write, data & mask)
        .map_err(|_| ExecError::Access { va })
}

/// The base value and the address of the first access, and the base's new
/// value when the form writes back.
fn address(t: &Transfer, ctx: &FaultContext, regs: &impl Registers) -> (u64, Option<u64>) {
    let base = match t.base {
        Base::Pc => ctx.pc,
        Base::Reg(SP_OR_ZR) => regs.sp(),
        Base::Reg(n) => regs.x(n),
    };
    // Offsets are two's complement: wrapping addition is the architectural
    // address arithmetic.
    match t.index {
        Index::Offset(off) => (base.wrapping_add(off as u64), None),
        Index::PreIndex(off) => {
            let addr = base.wrapping_add(off as u64);
            (addr, Some(addr))
        }
        Index::PostIndex(off) => (base, Some(base.wrapping_add(off as u64))),
        Index::Register { rm, extend, shift } => {
            let index = regs.x(rm);
            let extended = match extend {
                Extend::Uxtw => index & u64::from(u32::MAX),
                Extend::Sxtw => i64::from(index as u32 as i32) as u64,
                Extend::Lsl | Extend::Sxtx => index,
            };
            (base.wrapping_add(extended << (shift & 63)), None)
        }
    }
}

/// The 64-bit pieces of register `r` to store: one of `size` bytes, or two
/// of 8 for a Q register.
fn store_pieces(t: &Transfer, r: Reg, regs: &impl Registers) -> [u64; 2] {
    match t.target {
        Target::Gpr { .. } => [regs.x(r), 0],
        Target::Simd => {
            let v = regs.v(r);
            // Low and high halves of the 128-bit register.
            [v as u64, (v >> 64) as u64]
        }
    }
}

/// A loaded value, extended as the load says.
fn extend_load(value: u64, size: u8, extend: LoadExtend) -> u64 {
    let bits = u32::from(size) * 8;
    let signed = |v: u64| {
        if bits >= 64 {
            v
        } else {
            let shift = 64 - bits;
            (((v << shift) as i64) >> shift) as u64
        }
    };
    match extend {
        LoadExtend::Zero => value,
        LoadExtend::SignTo64 => signed(value),
        LoadExtend::SignTo32 => signed(value) & u64::from(u32::MAX),
    }
}

fn transfer(
    t: &Transfer,
    ctx: &FaultContext,
    regs: &mut impl Registers,
    mem: &mut impl GuestMemory,
) -> Result<(), ExecError> {
    let write = t.direction.is_write();
    let (addr, writeback) = address(t, ctx, regs);
    // A Q register is two 8-byte pieces; anything else one piece.
    let (piece, per_reg) = if t.size == 16 { (8u8, 2usize) } else { (t.size, 1) };
    let reg_list = [Some(t.rt), t.rt2];
    let mut loaded = [0u64; MAX_PIECES];
    let mut va = addr;
    let mut slot = 0;
    for r in reg_list.iter().flatten() {
        let data = store_pieces(t, *r, regs);
        for half in data.iter().take(per_reg) {
            let value = access(va, piece, write, if write { *half } else { 0 }, ctx, mem)?;
            if let Some(dst) = loaded.get_mut(slot) {
                *dst = value;
            }
            slot += 1;
            va = va.wrapping_add(u64::from(piece));
        }
    }
    if !write {
        for (i, r) in reg_list.iter().flatten().enumerate() {
            let pieces = loaded.get(i * per_reg..(i + 1) * per_reg).unwrap_or(&[]);
            match t.target {
                Target::Gpr { extend } => {
                    let value = pieces.first().copied().unwrap_or(0);
                    regs.set_x(*r, extend_load(value, t.size, extend));
                }
                Target::Simd => {
                    let low = u128::from(pieces.first().copied().unwrap_or(0));
                    let high = u128::from(pieces.get(1).copied().unwrap_or(0));
                    regs.set_v(*r, low | (high << 64));
                }
            }
        }
    }
    if let Direction::StoreExclusive { status } = t.direction {
        regs.set_x(status, 0);
    }
    if let (Some(new_base), Base::Reg(n)) = (writeback, t.base) {
        if n == SP_OR_ZR {
            regs.set_sp(new_base);
        } else {
            regs.set_x(n, new_base);
        }
    }
    Ok(())
}

fn zero_block(rt: Reg, ctx: &FaultContext, regs: &impl Registers, mem: &mut impl GuestMemory) -> Result<(), ExecError> {
    let block = ctx.zva_block;
    if !block.is_power_of_two() || !(4..=MAX_ZVA_BLOCK).contains(&block) {
        return Err(ExecError::BadZvaBlock);
    }
    let start = regs.x(rt) & !(block - 1);
    let piece: u8 = if block < 8 { 4 } else { 8 };
    let mut offset = 0;
    while offset < block {
        access(start.wrapping_add(offset), piece, true, 0, ctx, mem)?;
        offset += u64::from(piece);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
