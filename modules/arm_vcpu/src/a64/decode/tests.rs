//! Decoder tests. The instruction words come from two independent sources:
//! words assembled by binutils (`aarch64-linux-gnu-as`, listed with the
//! source line), and encoders below written from the ARM ARM field
//! layouts with plain shifts (not the crate's field definitions).

use super::*;

// ---- Encoders from the ARM ARM "Loads and Stores" class layouts. ----

/// Load/store register, 9-bit immediate classes (unscaled, post, unpriv,
/// pre): size 111 V 00 opc 0 imm9 op4 Rn Rt.
fn imm9(size: u32, v: u32, opc: u32, imm: i32, op4: u32, rn: u32, rt: u32) -> u32 {
    (size << 30)
        | (0b111 << 27)
        | (v << 26)
        | (opc << 22)
        | (((imm as u32) & 0x1ff) << 12)
        | (op4 << 10)
        | (rn << 5)
        | rt
}

/// Load/store register, unsigned immediate: size 111 V 01 opc imm12 Rn Rt.
fn uimm(size: u32, v: u32, opc: u32, imm12: u32, rn: u32, rt: u32) -> u32 {
    (size << 30) | (0b111 << 27) | (v << 26) | (0b01 << 24) | (opc << 22) | (imm12 << 10) | (rn << 5) | rt
}

/// Load/store register, register offset: size 111 V 00 opc 1 Rm option S
/// 10 Rn Rt.
#[allow(clippy::too_many_arguments)]
fn regoff(size: u32, v: u32, opc: u32, rm: u32, option: u32, s: u32, rn: u32, rt: u32) -> u32 {
    (size << 30)
        | (0b111 << 27)
        | (v << 26)
        | (opc << 22)
        | (1 << 21)
        | (rm << 16)
        | (option << 13)
        | (s << 12)
        | (0b10 << 10)
        | (rn << 5)
        | rt
}

/// Load/store pair: opc 101 V index(2) L imm7 Rt2 Rn Rt.
#[allow(clippy::too_many_arguments)]
fn pair_enc(opc: u32, v: u32, index: u32, l: u32, imm7: i32, rt2: u32, rn: u32, rt: u32) -> u32 {
    (opc << 30)
        | (0b101 << 27)
        | (v << 26)
        | (index << 23)
        | (l << 22)
        | (((imm7 as u32) & 0x7f) << 15)
        | (rt2 << 10)
        | (rn << 5)
        | rt
}

/// Load/store exclusive / ordered / CAS: size 001000 o2 L o1 Rs o0 Rt2 Rn
/// Rt.
#[allow(clippy::too_many_arguments)]
fn excl(size: u32, o2: u32, l: u32, o1: u32, rs: u32, o0: u32, rt2: u32, rn: u32, rt: u32) -> u32 {
    (size << 30)
        | (0b00_1000 << 24)
        | (o2 << 23)
        | (l << 22)
        | (o1 << 21)
        | (rs << 16)
        | (o0 << 15)
        | (rt2 << 10)
        | (rn << 5)
        | rt
}

/// Load register (literal): opc 011 V 00 imm19 Rt.
fn lit(opc: u32, v: u32, imm19: i32, rt: u32) -> u32 {
    (opc << 30) | (0b011 << 27) | (v << 26) | (((imm19 as u32) & 0x7_ffff) << 5) | rt
}

// ---- Expected values. ----

fn gpr(direction: Direction, rn: Reg, index: Index, size: u8, rt: Reg) -> Transfer {
    Transfer {
        direction,
        base: Base::Reg(rn),
        index,
        size,
        rt,
        rt2: None,
        target: Target::Gpr {
            extend: LoadExtend::Zero,
        },
        semantics: Semantics::default(),
    }
}

fn signed(mut t: Transfer, extend: LoadExtend) -> Transfer {
    t.target = Target::Gpr { extend };
    t
}

fn simd(mut t: Transfer) -> Transfer {
    t.target = Target::Simd;
    t
}

fn with_pair(mut t: Transfer, rt2: Reg) -> Transfer {
    t.rt2 = Some(rt2);
    t
}

fn with_sem(mut t: Transfer, acquire: bool, release: bool, exclusive: bool) -> Transfer {
    t.semantics = Semantics {
        acquire,
        release,
        exclusive,
    };
    t
}

use Direction::{Load, Store};
use Index::{Offset, PostIndex, PreIndex};

fn transfer(insn: u32) -> Transfer {
    match decode(insn) {
        Ok(MemOp::Transfer(t)) => t,
        other => panic!("{insn:#010x}: {other:?}"),
    }
}

#[test]
fn binutils_words() {
    let cases: &[(u32, &str, Transfer)] = &[
        (
            0xa941_0861,
            "ldp x1, x2, [x3, #16]",
            with_pair(gpr(Load, 3, Offset(16), 8, 1), 2),
        ),
        (
            0x29bf_17e4,
            "stp w4, w5, [sp, #-8]!",
            with_pair(gpr(Store, 31, PreIndex(-8), 4, 4), 5),
        ),
        (
            0xa8c2_1d06,
            "ldp x6, x7, [x8], #32",
            with_pair(gpr(Load, 8, PostIndex(32), 8, 6), 7),
        ),
        (
            0x697f_a969,
            "ldpsw x9, x10, [x11, #-4]",
            with_pair(signed(gpr(Load, 11, Offset(-4), 4, 9), LoadExtend::SignTo64), 10),
        ),
        (
            0xac41_0440,
            "ldnp q0, q1, [x2, #32]",
            simd(with_pair(gpr(Load, 2, Offset(32), 16, 0), 1)),
        ),
        (
            0x6d3f_10a3,
            "stp d3, d4, [x5, #-16]",
            simd(with_pair(gpr(Store, 5, Offset(-16), 8, 3), 4)),
        ),
        (
            0x2cc1_1d06,
            "ldp s6, s7, [x8], #8",
            simd(with_pair(gpr(Load, 8, PostIndex(8), 4, 6), 7)),
        ),
        (0xf840_8c41, "ldr x1, [x2, #8]!", gpr(Load, 2, PreIndex(8), 8, 1)),
        (0xb81f_c483, "str w3, [x4], #-4", gpr(Store, 4, PostIndex(-4), 4, 3)),
        (
            0x38c0_1cc5,
            "ldrsb w5, [x6, #1]!",
            signed(gpr(Load, 6, PreIndex(1), 1, 5), LoadExtend::SignTo32),
        ),
        (
            0x7880_2507,
            "ldrsh x7, [x8], #2",
            signed(gpr(Load, 8, PostIndex(2), 2, 7), LoadExtend::SignTo64),
        ),
        (
            0xb89f_8d49,
            "ldrsw x9, [x10, #-8]!",
            signed(gpr(Load, 10, PreIndex(-8), 4, 9), LoadExtend::SignTo64),
        ),
        (0xb85f_d18b, "ldur w11, [x12, #-3]", gpr(Load, 12, Offset(-3), 4, 11)),
        (0xf800_59cd, "sttr x13, [x14, #5]", gpr(Store, 14, Offset(5), 8, 13)),
        (
            0x3dc0_0a0f,
            "ldr q15, [x16, #32]",
            simd(gpr(Load, 16, Offset(32), 16, 15)),
        ),
        (
            0xfc1f_8e51,
            "str d17, [x18, #-8]!",
            simd(gpr(Store, 18, PreIndex(-8), 8, 17)),
        ),
        (
            0x3c40_1693,
            "ldr b19, [x20], #1",
            simd(gpr(Load, 20, PostIndex(1), 1, 19)),
        ),
        (
            0x7c77_7ad5,
            "ldr h21, [x22, x23, lsl #1]",
            simd(gpr(
                Load,
                22,
                Index::Register {
                    rm: 23,
                    extend: Extend::Lsl,
                    shift: 1,
                },
                2,
                21,
            )),
        ),
        (
            0xbc3a_db38,
            "str s24, [x25, w26, sxtw #2]",
            simd(gpr(
                Store,
                25,
                Index::Register {
                    rm: 26,
                    extend: Extend::Sxtw,
                    shift: 2,
                },
                4,
                24,
            )),
        ),
        (
            0x3cfd_7b9b,
            "ldr q27, [x28, x29, lsl #4]",
            simd(gpr(
                Load,
                28,
                Index::Register {
                    rm: 29,
                    extend: Extend::Lsl,
                    shift: 4,
                },
                16,
                27,
            )),
        ),
        (
            0x3862_4820,
            "ldrb w0, [x1, w2, uxtw]",
            gpr(
                Load,
                1,
                Index::Register {
                    rm: 2,
                    extend: Extend::Uxtw,
                    shift: 0,
                },
                1,
                0,
            ),
        ),
        (
            0xf865_f883,
            "ldr x3, [x4, x5, sxtx #3]",
            gpr(
                Load,
                4,
                Index::Register {
                    rm: 5,
                    extend: Extend::Sxtx,
                    shift: 3,
                },
                8,
                3,
            ),
        ),
        (
            0x38e3_6841,
            "ldrsb w1, [x2, x3]",
            signed(
                gpr(
                    Load,
                    2,
                    Index::Register {
                        rm: 3,
                        extend: Extend::Lsl,
                        shift: 0,
                    },
                    1,
                    1,
                ),
                LoadExtend::SignTo32,
            ),
        ),
        (0xf97f_fc41, "ldr x1, [x2, #32760]", gpr(Load, 2, Offset(32760), 8, 1)),
        (0xf900_07ff, "str xzr, [sp, #8]", gpr(Store, 31, Offset(8), 8, 31)),
        (
            0x5800_0086,
            "ldr x6, .+16",
            Transfer {
                base: Base::Pc,
                ..gpr(Load, 0, Offset(16), 8, 6)
            },
        ),
        (
            0x98ff_ffc7,
            "ldrsw x7, .-8",
            Transfer {
                base: Base::Pc,
                ..signed(gpr(Load, 0, Offset(-8), 4, 7), LoadExtend::SignTo64)
            },
        ),
        (
            0x9c00_0208,
            "ldr q8, .+64",
            Transfer {
                base: Base::Pc,
                ..simd(gpr(Load, 0, Offset(64), 16, 8))
            },
        ),
        (
            0xc85f_7d49,
            "ldxr x9, [x10]",
            with_sem(gpr(Load, 10, Offset(0), 8, 9), false, false, true),
        ),
        (
            0xc80b_7dac,
            "stxr w11, x12, [x13]",
            with_sem(
                gpr(Direction::StoreExclusive { status: 11 }, 13, Offset(0), 8, 12),
                false,
                false,
                true,
            ),
        ),
        (
            0x085f_fdee,
            "ldaxrb w14, [x15]",
            with_sem(gpr(Load, 15, Offset(0), 1, 14), true, false, true),
        ),
        (
            0x4810_fff1,
            "stlxrh w16, w17, [sp]",
            with_sem(
                gpr(Direction::StoreExclusive { status: 16 }, 31, Offset(0), 2, 17),
                false,
                true,
                true,
            ),
        ),
        (
            0xc87f_4e92,
            "ldxp x18, x19, [x20]",
            with_sem(with_pair(gpr(Load, 20, Offset(0), 8, 18), 19), false, false, true),
        ),
        (
            0x8835_df16,
            "stlxp w21, w22, w23, [x24]",
            with_sem(
                with_pair(gpr(Direction::StoreExclusive { status: 21 }, 24, Offset(0), 4, 22), 23),
                false,
                true,
                true,
            ),
        ),
        (
            0xc8df_ff59,
            "ldar x25, [x26]",
            with_sem(gpr(Load, 26, Offset(0), 8, 25), true, false, false),
        ),
        (
            0x889f_ff9b,
            "stlr w27, [x28]",
            with_sem(gpr(Store, 28, Offset(0), 4, 27), false, true, false),
        ),
        (
            0x08df_7c20,
            "ldlarb w0, [x1]",
            with_sem(gpr(Load, 1, Offset(0), 1, 0), true, false, false),
        ),
        (
            0xf8bf_c062,
            "ldapr x2, [x3]",
            with_sem(gpr(Load, 3, Offset(0), 8, 2), true, false, false),
        ),
        (
            0x195f_f0a4,
            "ldapurb w4, [x5, #-1]",
            with_sem(gpr(Load, 5, Offset(-1), 1, 4), true, false, false),
        ),
        (
            0x9980_40e6,
            "ldapursw x6, [x7, #4]",
            with_sem(
                signed(gpr(Load, 7, Offset(4), 4, 6), LoadExtend::SignTo64),
                true,
                false,
                false,
            ),
        ),
        (
            0xd910_0128,
            "stlur x8, [x9, #-256]",
            with_sem(gpr(Store, 9, Offset(-256), 8, 8), false, true, false),
        ),
    ];
    for (word, text, want) in cases {
        assert_eq!(decode(*word), Ok(MemOp::Transfer(*want)), "{text} ({word:#010x})");
    }
}

#[test]
fn binutils_refused_words() {
    let cases: &[(u32, &str, Refusal)] = &[
        (0xf821_0062, "ldadd x1, x2, [x3]", Refusal::Atomic),
        (0xb824_80c5, "swp w4, w5, [x6]", Refusal::Atomic),
        (0xc8a7_7d28, "cas x7, x8, [x9]", Refusal::Atomic),
        (0x482a_7dcc, "casp x10, x11, x12, x13, [x14]", Refusal::Atomic),
        (0xf980_0000, "prfm pldl1keep, [x0]", Refusal::Prefetch),
        (0x4c40_a040, "ld1 {v0.16b, v1.16b}, [x2]", Refusal::SimdStructure),
        (0x4c40_8c40, "ld2 {v0.2d, v1.2d}, [x2]", Refusal::SimdStructure),
        (0xd503_201f, "nop", Refusal::NotLoadStore),
        (0x8b02_0020, "add x0, x1, x2", Refusal::NotLoadStore),
    ];
    for (word, text, want) in cases {
        assert_eq!(decode(*word), Err(*want), "{text} ({word:#010x})");
    }
}

#[test]
fn dc_zva() {
    // binutils: d50b742f dc zva, x15
    assert_eq!(decode(0xd50b_742f), Ok(MemOp::ZeroBlock { rt: 15 }));
    assert_eq!(decode(0xd50b_743f), Ok(MemOp::ZeroBlock { rt: 31 }));
    // DC CVAC (op2 = 1, CRm = 10) is not DC ZVA.
    assert_eq!(decode(0xd50b_7a20), Err(Refusal::NotLoadStore));
}

#[test]
fn single_register_size_opc_table() {
    use LoadExtend::*;
    // (size, opc) -> (direction, bytes, extension) for general-purpose
    // registers in the pre-index class.
    let table = [
        ((0, 0), Some((Store, 1, Zero))),
        ((0, 1), Some((Load, 1, Zero))),
        ((0, 2), Some((Load, 1, SignTo64))),
        ((0, 3), Some((Load, 1, SignTo32))),
        ((1, 0), Some((Store, 2, Zero))),
        ((1, 1), Some((Load, 2, Zero))),
        ((1, 2), Some((Load, 2, SignTo64))),
        ((1, 3), Some((Load, 2, SignTo32))),
        ((2, 0), Some((Store, 4, Zero))),
        ((2, 1), Some((Load, 4, Zero))),
        ((2, 2), Some((Load, 4, SignTo64))),
        ((2, 3), None),
        ((3, 0), Some((Store, 8, Zero))),
        ((3, 1), Some((Load, 8, Zero))),
        ((3, 2), None),
        ((3, 3), None),
    ];
    for ((size, opc), want) in table {
        let got = decode(imm9(size, 0, opc, -2, 0b11, 4, 5));
        match want {
            Some((dir, bytes, ext)) => {
                assert_eq!(
                    got,
                    Ok(MemOp::Transfer(signed(gpr(dir, 4, PreIndex(-2), bytes, 5), ext))),
                    "size {size} opc {opc}"
                );
            }
            None => assert_eq!(got, Err(Refusal::Unallocated), "size {size} opc {opc}"),
        }
    }
    // In the unsigned-offset and register-offset classes, size 3 opc 2 is
    // PRFM.
    assert_eq!(decode(uimm(3, 0, 2, 1, 0, 0)), Err(Refusal::Prefetch));
    assert_eq!(decode(regoff(3, 0, 2, 1, 0b011, 0, 0, 0)), Err(Refusal::Prefetch));
    assert_eq!(decode(imm9(3, 0, 2, 0, 0b00, 0, 0)), Err(Refusal::Prefetch));
    // ... but not in the unprivileged or post-index classes.
    assert_eq!(decode(imm9(3, 0, 2, 0, 0b10, 0, 0)), Err(Refusal::Unallocated));
    assert_eq!(decode(imm9(3, 0, 2, 0, 0b01, 0, 0)), Err(Refusal::Unallocated));
}

#[test]
fn simd_size_opc_table() {
    for (size, opc, want) in [
        (0, 0, Some((Store, 1))),
        (0, 1, Some((Load, 1))),
        (0, 2, Some((Store, 16))),
        (0, 3, Some((Load, 16))),
        (1, 1, Some((Load, 2))),
        (2, 0, Some((Store, 4))),
        (3, 1, Some((Load, 8))),
        (1, 2, None),
        (2, 3, None),
        (3, 2, None),
    ] {
        let got = decode(uimm(size, 1, opc, 3, 7, 9));
        match want {
            Some((dir, bytes)) => assert_eq!(
                got,
                Ok(MemOp::Transfer(simd(gpr(
                    dir,
                    7,
                    Offset(3 * i64::from(bytes)),
                    bytes,
                    9
                )))),
                "size {size} opc {opc}"
            ),
            None => assert_eq!(got, Err(Refusal::Unallocated), "size {size} opc {opc}"),
        }
    }
    // No unprivileged SIMD&FP form.
    assert_eq!(decode(imm9(3, 1, 1, 0, 0b10, 0, 0)), Err(Refusal::Unallocated));
}

#[test]
fn immediates_are_sign_extended_and_scaled() {
    assert_eq!(transfer(imm9(3, 0, 1, -256, 0b00, 1, 2)).index, Offset(-256));
    assert_eq!(transfer(imm9(3, 0, 1, 255, 0b01, 1, 2)).index, PostIndex(255));
    assert_eq!(transfer(uimm(2, 0, 1, 0xfff, 1, 2)).index, Offset(0xfff * 4));
    assert_eq!(transfer(uimm(0, 1, 3, 0xfff, 1, 2)).index, Offset(0xfff * 16));
    assert_eq!(
        transfer(pair_enc(0b10, 0, 0b11, 1, -64, 3, 1, 2)).index,
        PreIndex(-64 * 8)
    );
    assert_eq!(
        transfer(pair_enc(0b10, 1, 0b01, 0, 63, 3, 1, 2)).index,
        PostIndex(63 * 16)
    );
    assert_eq!(transfer(lit(0b01, 0, -0x4_0000, 3)).index, Offset(-0x4_0000 * 4));
    assert_eq!(transfer(lit(0b01, 0, 0x3_ffff, 3)).index, Offset(0x3_ffff * 4));
}

#[test]
fn register_offset_extends() {
    for (option, want) in [
        (0b010, Some(Extend::Uxtw)),
        (0b011, Some(Extend::Lsl)),
        (0b110, Some(Extend::Sxtw)),
        (0b111, Some(Extend::Sxtx)),
        (0b000, None),
        (0b001, None),
        (0b100, None),
        (0b101, None),
    ] {
        let got = decode(regoff(2, 0, 1, 6, option, 1, 7, 8));
        match want {
            Some(extend) => assert_eq!(
                got,
                Ok(MemOp::Transfer(gpr(
                    Load,
                    7,
                    Index::Register {
                        rm: 6,
                        extend,
                        shift: 2
                    },
                    4,
                    8
                ))),
            ),
            None => assert_eq!(got, Err(Refusal::Unallocated), "option {option:#b}"),
        }
    }
}

#[test]
fn pair_index_modes_and_sizes() {
    for (index_bits, want) in [
        (0b00, Offset(-8)),
        (0b01, PostIndex(-8)),
        (0b10, Offset(-8)),
        (0b11, PreIndex(-8)),
    ] {
        assert_eq!(transfer(pair_enc(0b00, 0, index_bits, 0, -2, 2, 3, 1)).index, want);
    }
    // SIMD&FP pair sizes.
    for (opc, bytes) in [(0b00, 4), (0b01, 8), (0b10, 16)] {
        let t = transfer(pair_enc(opc, 1, 0b10, 1, 1, 2, 3, 1));
        assert_eq!((t.size, t.target, t.rt2), (bytes, Target::Simd, Some(2)));
    }
    assert_eq!(
        decode(pair_enc(0b11, 1, 0b10, 1, 1, 2, 3, 1)),
        Err(Refusal::Unallocated)
    );
    // No LDNPSW; STGP is a tagging instruction.
    assert_eq!(
        decode(pair_enc(0b01, 0, 0b00, 1, 1, 2, 3, 1)),
        Err(Refusal::Unallocated)
    );
    assert_eq!(decode(pair_enc(0b01, 0, 0b10, 0, 1, 2, 3, 1)), Err(Refusal::Tagged));
}

#[test]
fn unpredictable_overlaps_are_refused() {
    // LDR x1, [x1], #8: write-back into its own data register.
    assert!(matches!(
        decode(imm9(3, 0, 1, 8, 0b01, 1, 1)),
        Err(Refusal::Unpredictable(_))
    ));
    // ... allowed without write-back, with SP as the base, or for a SIMD
    // load, or for a store (which stores the old value).
    assert!(decode(imm9(3, 0, 1, 8, 0b00, 1, 1)).is_ok());
    assert!(decode(imm9(3, 0, 1, 8, 0b01, 31, 31)).is_ok());
    assert!(decode(imm9(3, 1, 1, 8, 0b01, 1, 1)).is_ok());
    assert!(decode(imm9(3, 0, 0, 8, 0b01, 1, 1)).is_ok());
    // LDP x1, x1: one register twice.
    assert!(matches!(
        decode(pair_enc(0b10, 0, 0b10, 1, 0, 1, 2, 1)),
        Err(Refusal::Unpredictable(_))
    ));
    assert!(matches!(
        decode(pair_enc(0b10, 1, 0b10, 1, 0, 1, 2, 1)),
        Err(Refusal::Unpredictable(_))
    ));
    // LDP x1, x2, [x2], #16 and LDP x1, x2, [x1, #16]!.
    assert!(matches!(
        decode(pair_enc(0b10, 0, 0b01, 1, 2, 2, 2, 1)),
        Err(Refusal::Unpredictable(_))
    ));
    assert!(matches!(
        decode(pair_enc(0b10, 0, 0b11, 1, 2, 2, 1, 1)),
        Err(Refusal::Unpredictable(_))
    ));
    assert!(decode(pair_enc(0b10, 0, 0b01, 0, 2, 2, 2, 1)).is_ok());
    // STXR w1, x1, [x2]; STXR w2, x1, [x2]; STXP w3, x1, x3, [x2]; LDXP x1, x1.
    assert!(matches!(
        decode(excl(3, 0, 0, 0, 1, 0, 31, 2, 1)),
        Err(Refusal::Unpredictable(_))
    ));
    assert!(matches!(
        decode(excl(3, 0, 0, 0, 2, 0, 31, 2, 1)),
        Err(Refusal::Unpredictable(_))
    ));
    assert!(matches!(
        decode(excl(3, 0, 0, 1, 3, 0, 3, 2, 1)),
        Err(Refusal::Unpredictable(_))
    ));
    assert!(matches!(
        decode(excl(3, 0, 1, 1, 31, 0, 1, 2, 1)),
        Err(Refusal::Unpredictable(_))
    ));
    // STXR w31 is WZR... status 31 with base SP is fine.
    assert!(decode(excl(3, 0, 0, 0, 31, 0, 31, 31, 1)).is_ok());
}

#[test]
fn exclusive_class_sizes() {
    for size in 0..4u32 {
        let t = transfer(excl(size, 0, 1, 0, 31, 0, 31, 2, 1));
        assert_eq!(t.size, 1 << size);
        let t = transfer(excl(size, 1, 0, 0, 31, 1, 31, 2, 1));
        assert_eq!((t.size, t.direction), (1 << size, Store));
        assert!(t.semantics.release && !t.semantics.exclusive);
        // CAS of every size.
        assert_eq!(decode(excl(size, 1, 0, 1, 4, 0, 31, 2, 1)), Err(Refusal::Atomic));
    }
    assert_eq!(transfer(excl(2, 0, 1, 1, 31, 0, 3, 2, 1)).size, 4);
    assert_eq!(transfer(excl(3, 0, 1, 1, 31, 0, 3, 2, 1)).size, 8);
}

#[test]
fn other_classes_are_refused() {
    // LDRAA x0, [x1]: size 11, V 0, bits 21 and 10 set.
    assert_eq!(decode(0xf820_0420), Err(Refusal::PointerAuth));
    // CPYFP (FEAT_MOPS): 00 011 0 01 000 Rs 0000 01 Rn Rd.
    assert_eq!(decode(0x1900_0400), Err(Refusal::MemoryCopy));
    // STG x0, [x1] (FEAT_MTE): 11011001 001 imm9 10 Rn Rt.
    assert_eq!(decode(0xd920_0820), Err(Refusal::Tagged));
    // LD64B (atomic class, o3 = 1, opc = 0b101).
    assert_eq!(decode(0xf83f_d020), Err(Refusal::Atomic));
}

/// A cheap deterministic generator (xorshift64), so the sweep is repeatable.
fn xorshift(state: &mut u64) -> u32 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    (*state >> 16) as u32
}

#[test]
fn decode_is_total() {
    // Every load/store class bit pattern (bits 31:21 and 15:10 fully, the
    // register fields fixed), then random words.
    for high in 0..(1u32 << 11) {
        for low in 0..(1u32 << 6) {
            let word = (high << 21) | (low << 10) | (0b10101 << 16) | 0x3e3;
            let _ = decode(word);
        }
    }
    let mut state = 0x1234_5678_9abc_def0;
    for _ in 0..200_000 {
        if let Ok(MemOp::Transfer(t)) = decode(xorshift(&mut state)) {
            assert!(matches!(t.size, 1 | 2 | 4 | 8 | 16));
            assert!(t.rt < 32 && t.rt2.is_none_or(|r| r < 32));
        }
    }
}
