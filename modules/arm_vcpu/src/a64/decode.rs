//! The A64 load/store decoder: an instruction word in, a description of the
//! memory accesses it makes out ([`MemOp`]), or why it is not emulated
//! ([`Refusal`]).
//!
//! # What it covers
//!
//! Every class of the "Loads and Stores" encoding group that reads or
//! writes general-purpose or SIMD&FP registers from memory:
//!
//! | class | instructions |
//! |---|---|
//! | single register, unsigned offset | `LDR`/`STR` (B, H, W, X, signed forms, SIMD B/H/S/D/Q) `[Xn, #imm]` |
//! | single register, 9-bit offset | `LDUR`/`STUR`, post-index `[Xn], #imm`, pre-index `[Xn, #imm]!`, unprivileged `LDTR`/`STTR` |
//! | single register, register offset | `[Xn, Xm/Wm{, extend/LSL #s}]` |
//! | literal | `LDR`/`LDRSW` (W, X, SIMD S/D/Q) `label` |
//! | pair | `LDP`/`STP`/`LDPSW`/`LDNP`/`STNP` (W, X, SIMD S/D/Q), offset, pre- and post-index |
//! | exclusive | `LDXR`/`LDAXR`/`STXR`/`STLXR` (B, H, W, X), `LDXP`/`LDAXP`/`STXP`/`STLXP` |
//! | ordered | `LDAR`/`STLR`/`LDLAR`/`STLLR` (B, H, W, X) |
//! | RCpc | `LDAPR` (B, H, W, X), `LDAPUR`/`STLUR` and their signed forms |
//! | system | `DC ZVA` (a write of zeros over one block, [`MemOp::ZeroBlock`]) |
//!
//! # What it refuses
//!
//! Atomic memory operations (`LDADD`, `SWP`, `CAS`, `CASP`, ... :
//! [`Refusal::Atomic`]; a device access through one becomes an external
//! abort, as on a bus that cannot perform atomics), Advanced SIMD structure
//! loads and stores (`LD1`..`LD4`, `ST1`..`ST4`), prefetches (no access),
//! memory tagging, pointer-authenticated loads, memory copy/set (FEAT_MOPS,
//! which report their own exception class), the 64-byte and 128-bit
//! extensions, every UNALLOCATED encoding, and the CONSTRAINED
//! UNPREDICTABLE ones whose outcome cannot be a plain emulation: a load
//! with write-back into its own base register, a load pair into one
//! register twice, a store-exclusive whose status register is one of its
//! other registers.
//!
//! A store with write-back whose data register is its base register is
//! CONSTRAINED UNPREDICTABLE too; of the permitted outcomes this decoder
//! takes the one where the value stored is the register's value before the
//! write-back.
//!
//! [`decode`] is total: it returns for every `u32` and never panics.

#![deny(unsafe_code)]

use super::fields::LDST;

/// A general-purpose or SIMD&FP register number, 0..=31.
pub type Reg = u8;

/// The register number that means SP as a base and XZR as data.
pub const SP_OR_ZR: Reg = 31;

/// The memory accesses of one instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemOp {
    /// A load or store of one or two registers.
    Transfer(Transfer),
    /// `DC ZVA, Xt`: zero the naturally aligned block (of the size
    /// `DCZID_EL0` gives) that contains the address in `Xt` (31 is XZR).
    ZeroBlock {
        /// The address register.
        rt: Reg,
    },
}

/// A load or store of one register or a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    /// Load, store or store-exclusive.
    pub direction: Direction,
    /// Where the address comes from.
    pub base: Base,
    /// How the address is formed from the base, and any write-back.
    pub index: Index,
    /// The bytes transferred per register: 1, 2, 4, 8 or 16 (a Q register).
    pub size: u8,
    /// The first (or only) transfer register.
    pub rt: Reg,
    /// The second register of a pair, at `address + size`.
    pub rt2: Option<Reg>,
    /// The kind of register and, for loads, how the value is extended.
    pub target: Target,
    /// Acquire, release, exclusive: ordering only, nothing to emulate on a
    /// single vCPU's trapped access, kept for logs and tests.
    pub semantics: Semantics,
}

/// The direction of a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Memory to registers.
    Load,
    /// Registers to memory.
    Store,
    /// A store-exclusive: registers to memory, then the status register
    /// `status` (a W register) receives 0 for success or 1 for failure.
    StoreExclusive {
        /// The status register Ws.
        status: Reg,
    },
}

impl Direction {
    /// Whether the access writes memory.
    pub const fn is_write(self) -> bool {
        !matches!(self, Self::Load)
    }
}

/// The base of the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// A register: Xn, or SP for 31.
    Reg(Reg),
    /// The address of the instruction itself (literal loads).
    Pc,
}

/// How the address is formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    /// `base + offset`, no write-back.
    Offset(i64),
    /// `base + offset`, and the base register becomes that address.
    PreIndex(i64),
    /// `base`, and the base register becomes `base + offset` afterwards.
    PostIndex(i64),
    /// `base + (extend(Rm) << shift)`, no write-back (Rm 31 is XZR).
    Register {
        /// The index register.
        rm: Reg,
        /// How it is extended to 64 bits.
        extend: Extend,
        /// The left shift applied after extension (0 or log2(size)).
        shift: u8,
    },
}

/// The extension of a register-offset index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extend {
    /// The low 32 bits, zero-extended.
    Uxtw,
    /// All 64 bits (LSL / UXTX).
    Lsl,
    /// The low 32 bits, sign-extended.
    Sxtw,
    /// All 64 bits (SXTX; the same as `Lsl` for a 64-bit index).
    Sxtx,
}

/// What the transfer registers are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// General-purpose registers. A load zero-extends to 64 bits unless
    /// `extend` says otherwise (a W register's upper half is always zero).
    Gpr {
        /// How a loaded value is extended.
        extend: LoadExtend,
    },
    /// SIMD&FP registers Vn: a load writes the low `size` bytes and clears
    /// the rest of the 128-bit register.
    Simd,
}

/// How a general-purpose load extends its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadExtend {
    /// Zero-extended to 64 bits (also for W registers).
    Zero,
    /// Sign-extended to 32 bits, the upper 32 bits cleared (`LDRSB Wt`).
    SignTo32,
    /// Sign-extended to 64 bits (`LDRSB Xt`, `LDRSW`, `LDPSW`).
    SignTo64,
}

/// The ordering attributes of a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Semantics {
    /// Load-acquire (LDAR, LDAXR, LDAPR, ...).
    pub acquire: bool,
    /// Store-release (STLR, STLXR, STLUR, ...).
    pub release: bool,
    /// Exclusive (LDXR, STXR, ...).
    pub exclusive: bool,
}

/// Why an instruction is not emulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not in the load/store group at all.
    NotLoadStore,
    /// An UNALLOCATED encoding of the group.
    Unallocated,
    /// A CONSTRAINED UNPREDICTABLE encoding (the reason says which rule).
    Unpredictable(&'static str),
    /// An atomic memory operation (LDADD, SWP, CAS, CASP, LD64B, ...).
    Atomic,
    /// A prefetch: it makes no access.
    Prefetch,
    /// An Advanced SIMD structure load/store (LD1..LD4, ST1..ST4).
    SimdStructure,
    /// A memory-tagging instruction.
    Tagged,
    /// A pointer-authenticated load (LDRAA, LDRAB).
    PointerAuth,
    /// A memory copy or set instruction (FEAT_MOPS).
    MemoryCopy,
    /// A newer class this decoder does not implement (the reason names it).
    Unsupported(&'static str),
}

/// `DC ZVA, Xt` with Rt = 0: SYS #3, C7, C4, #1.
const DC_ZVA: u32 = 0xd50b_7420;
/// The bits of an instruction word other than Rt.
const RT_MASK: u32 = 0x1f;

/// Decodes `insn`: the memory accesses it makes, or why it is refused.
pub fn decode(insn: u32) -> Result<MemOp, Refusal> {
    if insn & !RT_MASK == DC_ZVA {
        return Ok(MemOp::ZeroBlock {
            rt: reg(LDST::RT, insn),
        });
    }
    if !LDST::OP1_27.is_set(insn) || LDST::OP0_25.is_set(insn) {
        return Err(Refusal::NotLoadStore);
    }
    match LDST::FAMILY.read(insn) {
        0b00 => family_exclusive(insn),
        0b01 => family_literal(insn),
        0b10 => pair(insn).map(MemOp::Transfer),
        _ => family_register(insn).map(MemOp::Transfer),
    }
}

/// A 5-bit register field.
fn reg(field: tock_registers::fields::Field<u32, LDST::Register>, insn: u32) -> Reg {
    // Five bits always fit a u8.
    (field.read(insn) & 0x1f) as Reg
}

/// The low `bits` bits of `value`, sign-extended.
fn sign_extend(value: u32, bits: u32) -> i64 {
    let shift = 64 - bits;
    (i64::from(value) << shift) >> shift
}

/// Bits 29:28 = 0b00: exclusive, ordered and compare-and-swap (V = 0),
/// Advanced SIMD structures (V = 1) and newer classes.
fn family_exclusive(insn: u32) -> Result<MemOp, Refusal> {
    if LDST::V.is_set(insn) {
        return Err(if LDST::SIZE.read(insn) & 0b10 == 0 {
            Refusal::SimdStructure
        } else {
            Refusal::Unsupported("LSE128 / RCPC3 SIMD class")
        });
    }
    if LDST::OP2_TOP.is_set(insn) {
        return Err(Refusal::Unsupported("LSE128 / RCPC3 class"));
    }
    exclusive(insn).map(MemOp::Transfer)
}

/// The exclusive / ordered / compare-and-swap class.
fn exclusive(insn: u32) -> Result<Transfer, Refusal> {
    let size_field = LDST::SIZE.read(insn);
    let ordered = LDST::O2.is_set(insn);
    let pair_or_cas = LDST::OP3_TOP.is_set(insn);
    let load = LDST::L.is_set(insn);
    let o0 = LDST::O0.is_set(insn);
    let (rt, rt2, rn, rs) = (
        reg(LDST::RT, insn),
        reg(LDST::RT2, insn),
        reg(LDST::RN, insn),
        reg(LDST::RM, insn),
    );
    // Compare-and-swap (o2 = 1, o1 = 1) and compare-and-swap pair (o2 = 0,
    // o1 = 1, size 0x) are atomics.
    if pair_or_cas && (ordered || size_field & 0b10 == 0) {
        return Err(Refusal::Atomic);
    }
    let (size, pair) = if pair_or_cas {
        // Exclusive pair: size 0b10 = two W, 0b11 = two X.
        (if size_field == 0b11 { 8 } else { 4 }, true)
    } else {
        (1u8 << size_field, false)
    };
    // LDLAR/STLLR (ordered, o0 = 0) are the LORegion variants: acquire /
    // release all the same for this purpose.
    let semantics = Semantics {
        acquire: load && (o0 || ordered),
        release: !load && (o0 || ordered),
        exclusive: !ordered,
    };
    let direction = if load {
        Direction::Load
    } else if ordered {
        Direction::Store
    } else {
        if rs == rt || (pair && rs == rt2) || (rs == rn && rn != SP_OR_ZR) {
            return Err(Refusal::Unpredictable("store-exclusive status register overlaps"));
        }
        Direction::StoreExclusive { status: rs }
    };
    if load && pair && rt == rt2 {
        return Err(Refusal::Unpredictable("load pair into one register"));
    }
    Ok(Transfer {
        direction,
        base: Base::Reg(rn),
        index: Index::Offset(0),
        size,
        rt,
        rt2: pair.then_some(rt2),
        target: Target::Gpr {
            extend: LoadExtend::Zero,
        },
        semantics,
    })
}

/// Bits 29:28 = 0b01: literal loads, RCpc unscaled, memory copy/set,
/// memory tags.
fn family_literal(insn: u32) -> Result<MemOp, Refusal> {
    if !LDST::OP2_TOP.is_set(insn) {
        return literal(insn).map(MemOp::Transfer);
    }
    if LDST::OP3_TOP.is_set(insn) {
        return Err(if LDST::OP0.read(insn) == 0b1101 {
            Refusal::Tagged
        } else {
            Refusal::Unallocated
        });
    }
    match (LDST::OP4.read(insn), LDST::V.is_set(insn)) {
        (0b00, false) => rcpc_unscaled(insn).map(MemOp::Transfer),
        (0b01, _) => Err(Refusal::MemoryCopy),
        (0b10, true) => Err(Refusal::Unsupported("RCPC3 SIMD LDAPUR/STLUR")),
        _ => Err(Refusal::Unallocated),
    }
}

/// `LDR (literal)`: PC-relative loads.
fn literal(insn: u32) -> Result<Transfer, Refusal> {
    let opc = LDST::SIZE.read(insn);
    let (size, target) = if LDST::V.is_set(insn) {
        match opc {
            0b00 => (4, Target::Simd),
            0b01 => (8, Target::Simd),
            0b10 => (16, Target::Simd),
            _ => return Err(Refusal::Unallocated),
        }
    } else {
        let gpr = |extend| Target::Gpr { extend };
        match opc {
            0b00 => (4, gpr(LoadExtend::Zero)),
            0b01 => (8, gpr(LoadExtend::Zero)),
            0b10 => (4, gpr(LoadExtend::SignTo64)),
            _ => return Err(Refusal::Prefetch),
        }
    };
    Ok(Transfer {
        direction: Direction::Load,
        base: Base::Pc,
        index: Index::Offset(sign_extend(LDST::IMM19.read(insn), 19) * 4),
        size,
        rt: reg(LDST::RT, insn),
        rt2: None,
        target,
        semantics: Semantics::default(),
    })
}

/// `LDAPUR`/`STLUR` and their signed forms (FEAT_LRCPC2).
fn rcpc_unscaled(insn: u32) -> Result<Transfer, Refusal> {
    let (direction, size, target) = single_kind(insn, false)?;
    let mut t = single(
        insn,
        direction,
        size,
        target,
        Index::Offset(sign_extend(LDST::IMM9.read(insn), 9)),
    )?;
    t.semantics = Semantics {
        acquire: !direction.is_write(),
        release: direction.is_write(),
        exclusive: false,
    };
    Ok(t)
}

/// Bits 29:28 = 0b11: single-register loads and stores, atomics, LDAPR,
/// pointer-authenticated loads.
fn family_register(insn: u32) -> Result<Transfer, Refusal> {
    if LDST::OP2_TOP.is_set(insn) {
        let (direction, size, target) = single_kind(insn, true)?;
        let offset = i64::from(LDST::IMM12.read(insn)) * i64::from(size);
        return single(insn, direction, size, target, Index::Offset(offset));
    }
    let imm9 = sign_extend(LDST::IMM9.read(insn), 9);
    match (LDST::OP3_TOP.is_set(insn), LDST::OP4.read(insn)) {
        (false, 0b00) => {
            let (direction, size, target) = single_kind(insn, true)?;
            single(insn, direction, size, target, Index::Offset(imm9))
        }
        (false, 0b01) => {
            let (direction, size, target) = single_kind(insn, false)?;
            single(insn, direction, size, target, Index::PostIndex(imm9))
        }
        (false, 0b10) => {
            if LDST::V.is_set(insn) {
                return Err(Refusal::Unallocated);
            }
            let (direction, size, target) = single_kind(insn, false)?;
            single(insn, direction, size, target, Index::Offset(imm9))
        }
        (false, _) => {
            let (direction, size, target) = single_kind(insn, false)?;
            single(insn, direction, size, target, Index::PreIndex(imm9))
        }
        (true, 0b00) => atomic(insn),
        (true, 0b10) => register_offset(insn),
        (true, _) => Err(Refusal::PointerAuth),
    }
}

/// The atomic class: only `LDAPR` (an ordered load) is emulated.
fn atomic(insn: u32) -> Result<Transfer, Refusal> {
    /// LDAPR: V = 0, A = 1, R = 0, Rs = 31, o3 = 1, opc = 0b100, i.e. bits
    /// 23:22 = 0b10 and bits 20:12 = 0b11111_1_100.
    const LDAPR_BITS: u32 = (0b10 << 22) | (0b1_1111_1100 << 12);
    const LDAPR_MASK: u32 = (1 << 26) | (0b11 << 22) | (0x1ff << 12);
    if insn & LDAPR_MASK != LDAPR_BITS {
        return Err(Refusal::Atomic);
    }
    Ok(Transfer {
        direction: Direction::Load,
        base: Base::Reg(reg(LDST::RN, insn)),
        index: Index::Offset(0),
        size: 1 << LDST::SIZE.read(insn),
        rt: reg(LDST::RT, insn),
        rt2: None,
        target: Target::Gpr {
            extend: LoadExtend::Zero,
        },
        semantics: Semantics {
            acquire: true,
            ..Semantics::default()
        },
    })
}

/// `[Xn, Rm{, extend {#s}}]`.
fn register_offset(insn: u32) -> Result<Transfer, Refusal> {
    let extend = match LDST::OPTION.read(insn) {
        0b010 => Extend::Uxtw,
        0b011 => Extend::Lsl,
        0b110 => Extend::Sxtw,
        0b111 => Extend::Sxtx,
        _ => return Err(Refusal::Unallocated),
    };
    let (direction, size, target) = single_kind(insn, true)?;
    let shift = if LDST::S.is_set(insn) {
        // size is a power of two from 1 to 16.
        size.trailing_zeros() as u8
    } else {
        0
    };
    let rm = reg(LDST::RM, insn);
    single(insn, direction, size, target, Index::Register { rm, extend, shift })
}

/// The direction, size and register kind of a single-register class from
/// `size`, `V` and `opc`; `prefetch_slot` says whether size 0b11 with
/// opc 0b10 is a prefetch (or else unallocated) in this class.
fn single_kind(insn: u32, prefetch_slot: bool) -> Result<(Direction, u8, Target), Refusal> {
    let size = LDST::SIZE.read(insn);
    let opc = LDST::OPC.read(insn);
    let bytes = 1u8 << size;
    let dir = |load: bool| if load { Direction::Load } else { Direction::Store };
    if LDST::V.is_set(insn) {
        return match (opc & 0b10 != 0, size) {
            (false, _) => Ok((dir(opc & 1 != 0), bytes, Target::Simd)),
            (true, 0b00) => Ok((dir(opc & 1 != 0), 16, Target::Simd)),
            (true, _) => Err(Refusal::Unallocated),
        };
    }
    let gpr = |extend| Target::Gpr { extend };
    match (opc, size) {
        (0b00, _) => Ok((Direction::Store, bytes, gpr(LoadExtend::Zero))),
        (0b01, _) => Ok((Direction::Load, bytes, gpr(LoadExtend::Zero))),
        (0b10, 0b11) if prefetch_slot => Err(Refusal::Prefetch),
        (0b10, 0b11) => Err(Refusal::Unallocated),
        (0b10, _) => Ok((Direction::Load, bytes, gpr(LoadExtend::SignTo64))),
        (_, 0b00 | 0b01) => Ok((Direction::Load, bytes, gpr(LoadExtend::SignTo32))),
        _ => Err(Refusal::Unallocated),
    }
}

/// A single-register transfer with base Rn and `index`, checked for a
/// load that writes back into its own data register.
fn single(insn: u32, direction: Direction, size: u8, target: Target, index: Index) -> Result<Transfer, Refusal> {
    let (rt, rn) = (reg(LDST::RT, insn), reg(LDST::RN, insn));
    let wback = matches!(index, Index::PreIndex(_) | Index::PostIndex(_));
    if wback && direction == Direction::Load && target != Target::Simd && rt == rn && rn != SP_OR_ZR {
        return Err(Refusal::Unpredictable("load with write-back into its base register"));
    }
    Ok(Transfer {
        direction,
        base: Base::Reg(rn),
        index,
        size,
        rt,
        rt2: None,
        target,
        semantics: Semantics::default(),
    })
}

/// Bits 29:28 = 0b10: register pairs.
fn pair(insn: u32) -> Result<Transfer, Refusal> {
    let opc = LDST::SIZE.read(insn);
    let load = LDST::L.is_set(insn);
    let index_kind = LDST::PAIR_INDEX.read(insn);
    let no_allocate = index_kind == 0b00;
    let (size, target) = if LDST::V.is_set(insn) {
        match opc {
            0b00 => (4u8, Target::Simd),
            0b01 => (8, Target::Simd),
            0b10 => (16, Target::Simd),
            _ => return Err(Refusal::Unallocated),
        }
    } else {
        let gpr = |extend| Target::Gpr { extend };
        match opc {
            0b00 => (4, gpr(LoadExtend::Zero)),
            0b01 if no_allocate => return Err(Refusal::Unallocated),
            0b01 if load => (4, gpr(LoadExtend::SignTo64)),
            0b01 => return Err(Refusal::Tagged),
            0b10 => (8, gpr(LoadExtend::Zero)),
            _ => return Err(Refusal::Unsupported("LDIAPP / STILP class")),
        }
    };
    let offset = sign_extend(LDST::IMM7.read(insn), 7) * i64::from(size);
    let index = match index_kind {
        0b00 | 0b10 => Index::Offset(offset),
        0b01 => Index::PostIndex(offset),
        _ => Index::PreIndex(offset),
    };
    let (rt, rt2, rn) = (reg(LDST::RT, insn), reg(LDST::RT2, insn), reg(LDST::RN, insn));
    if load && rt == rt2 {
        return Err(Refusal::Unpredictable("load pair into one register"));
    }
    let wback = matches!(index, Index::PreIndex(_) | Index::PostIndex(_));
    if load && wback && target != Target::Simd && (rt == rn || rt2 == rn) && rn != SP_OR_ZR {
        return Err(Refusal::Unpredictable(
            "load pair with write-back into its base register",
        ));
    }
    Ok(Transfer {
        direction: if load { Direction::Load } else { Direction::Store },
        base: Base::Reg(rn),
        index,
        size,
        rt,
        rt2: Some(rt2),
        target,
        semantics: Semantics::default(),
    })
}

#[cfg(test)]
mod tests;
