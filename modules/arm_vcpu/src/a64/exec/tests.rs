//! Executor tests: decoded binutils words run against a mock register file
//! and a mock bus that records every access.

use super::*;
use crate::a64::decode::decode;
use std::vec::Vec;

/// The guest registers.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Regs {
    x: [u64; 31],
    sp: u64,
    v: [u128; 32],
}

impl Regs {
    fn new() -> Self {
        let mut r = Self {
            x: [0; 31],
            sp: 0,
            v: [0; 32],
        };
        for (i, x) in r.x.iter_mut().enumerate() {
            *x = 0x1111_1111_1111_1111 * (i as u64 % 15 + 1);
        }
        for (i, v) in r.v.iter_mut().enumerate() {
            *v = 0xaaaa_aaaa_aaaa_aaaa_5555_5555_5555_5555 ^ i as u128;
        }
        r
    }
}

impl Registers for Regs {
    fn x(&self, n: Reg) -> u64 {
        self.x.get(usize::from(n)).copied().unwrap_or(0)
    }
    fn set_x(&mut self, n: Reg, value: u64) {
        if let Some(r) = self.x.get_mut(usize::from(n)) {
            *r = value;
        }
    }
    fn sp(&self) -> u64 {
        self.sp
    }
    fn set_sp(&mut self, value: u64) {
        self.sp = value;
    }
    fn v(&self, n: Reg) -> u128 {
        self.v[usize::from(n)]
    }
    fn set_v(&mut self, n: Reg, value: u128) {
        self.v[usize::from(n)] = value;
    }
}

/// One access the bus saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    ipa: u64,
    bytes: usize,
    write: bool,
    data: u64,
}

/// A device bus: reads return `read_value(ipa)`; the access at `fail_at`
/// fails; other virtual pages translate through `pages`.
struct Bus {
    seen: Vec<Seen>,
    fail_at: Option<u64>,
    pages: Vec<(u64, u64)>,
    translated: Vec<(u64, bool)>,
}

impl Bus {
    fn new() -> Self {
        Self {
            seen: Vec::new(),
            fail_at: None,
            pages: Vec::new(),
            translated: Vec::new(),
        }
    }

    /// What a read at `ipa` returns: the address with a marker on top, so
    /// every piece is told apart.
    fn read_value(ipa: u64) -> u64 {
        0xd000_0000_0000_0000 | ipa
    }
}

impl GuestMemory for Bus {
    fn translate(&mut self, va: u64, write: bool) -> Result<u64, AccessFailed> {
        self.translated.push((va, write));
        self.pages
            .iter()
            .find(|(page, _)| *page == va & !0xfff)
            .map(|(_, ipa)| ipa | (va & 0xfff))
            .ok_or(AccessFailed)
    }

    fn access(&mut self, ipa: u64, width: AccessWidth, write: bool, data: u64) -> Result<u64, AccessFailed> {
        if self.fail_at == Some(ipa) {
            return Err(AccessFailed);
        }
        self.seen.push(Seen {
            ipa,
            bytes: width.size(),
            write,
            data,
        });
        let mask = if width.size() == 8 {
            u64::MAX
        } else {
            (1 << width.bits()) - 1
        };
        Ok(if write { 0 } else { Self::read_value(ipa) & mask })
    }
}

/// A device page at IPA 0x0a00_0000, seen by the guest at VA
/// 0xffff_0000_1234_5000 (FAR = offset 0x10 in it).
const VA_PAGE: u64 = 0xffff_0000_1234_5000;
const IPA_PAGE: u64 = 0x0a00_0000;

fn ctx() -> FaultContext {
    FaultContext {
        pc: 0x4008_0000,
        far: VA_PAGE + 0x10,
        ipa: IPA_PAGE + 0x10,
        zva_block: 64,
    }
}

fn op(word: u32) -> MemOp {
    decode(word).unwrap_or_else(|r| panic!("{word:#010x}: {r:?}"))
}

fn run(word: u32, regs: &mut Regs, bus: &mut Bus) -> Result<(), ExecError> {
    execute(&op(word), &ctx(), regs, bus)
}

fn read(ipa: u64, bytes: usize) -> Seen {
    Seen {
        ipa,
        bytes,
        write: false,
        data: 0,
    }
}

fn write(ipa: u64, bytes: usize, data: u64) -> Seen {
    Seen {
        ipa,
        bytes,
        write: true,
        data,
    }
}

#[test]
fn ldp_x_reads_both_in_order() {
    let (mut regs, mut bus) = (Regs::new(), Bus::new());
    regs.x[3] = VA_PAGE;
    // ldp x1, x2, [x3, #16]
    run(0xa941_0861, &mut regs, &mut bus).unwrap();
    assert_eq!(bus.seen, [read(IPA_PAGE + 16, 8), read(IPA_PAGE + 24, 8)]);
    assert_eq!(regs.x[1], Bus::read_value(IPA_PAGE + 16));
    assert_eq!(regs.x[2], Bus::read_value(IPA_PAGE + 24));
    assert_eq!(regs.x[3], VA_PAGE, "no write-back");
    assert!(bus.translated.is_empty());
}

#[test]
fn stp_w_pre_index_on_sp() {
    let (mut regs, mut bus) = (Regs::new(), Bus::new());
    regs.sp = VA_PAGE + 0x20;
    regs.x[4] = 0xffff_ffff_0000_0004;
    regs.x[5] = 0x1234_5678_9abc_def0;
    // stp w4, w5, [sp, #-8]!
    run(0x29bf_17e4, &mut regs, &mut bus).unwrap();
    assert_eq!(
        bus.seen,
        [
            write(IPA_PAGE + 0x18, 4, 0x0000_0004),
            write(IPA_PAGE + 0x1c, 4, 0x9abc_def0)
        ]
    );
    assert_eq!(regs.sp, VA_PAGE + 0x18);
}

#[test]
fn ldp_post_index_writes_back_after() {
    let (mut regs, mut bus) = (Regs::new(), Bus::new());
    regs.x[8] = VA_PAGE + 0x40;
    // ldp x6, x7, [x8], #32
    run(0xa8c2_1d06, &mut regs, &mut bus).unwrap();
    assert_eq!(bus.seen, [read(IPA_PAGE + 0x40, 8), read(IPA_PAGE + 0x48, 8)]);
    assert_eq!(regs.x[8], VA_PAGE + 0x60);
}

#[test]
fn ldpsw_sign_extends_both() {
    let (mut regs, mut bus) = (Regs::new(), Bus::new());
    regs.x[11] = VA_PAGE + 0x14;
    // ldpsw x9, x10, [x11, #-4]: the low 32 bits of the bus values are
    // the IPAs, positive here...
    run(0x697f_a969, &mut regs, &mut bus).unwrap();
    assert_eq!(bus.seen, [read(IPA_PAGE + 0x10, 4), read(IPA_PAGE + 0x14, 4)]);
    assert_eq!(regs.x[9], 0x0a00_0010);
    assert_eq!(regs.x[10], 0x0a00_0014);
    // ... and negative with the IPA page at 0x8000_0000.
    let mut c = ctx();
    c.ipa = 0x8000_0010;
    regs.x[11] = VA_PAGE + 0x14;
    execute(&op(0x697f_a969), &c, &mut regs, &mut bus).unwrap();
    assert_eq!(regs.x[9], 0xffff_ffff_8000_0010);
    assert_eq!(regs.x[10], 0xffff_ffff_8000_0014);
}

#[test]
fn sign_extension_to_w_clears_the_top() {
    let (mut regs, mut bus) = (Regs::new(), Bus::new());
    // The low bits of a read value are the IPA: the byte at offset 0x90
    // reads 0x90.
    regs.x[6] = VA_PAGE + 0x8f;
    // ldrsb w5, [x6, #1]! : byte 0x90 -> 0x0000_0000_ffff_ff90.
    run(0x38c0_1cc5, &mut regs, &mut bus).unwrap();
    assert_eq!(regs.x[5], 0xffff_ff90);
    assert_eq!(regs.x[6], VA_PAGE + 0x90);
    // ldrsh x7, [x8], #2 at offset 0x90: 0x0090 -> positive.
    regs.x[8] = VA_PAGE + 0x90;
    run(0x7880_2507, &mut regs, &mut bus).unwrap();
    assert_eq!(regs.x[7], 0x90);
    assert_eq!(regs.x[8], VA_PAGE + 0x92);
}

#[test]
fn q_register_is_two_halves_low_first() {
    let (mut regs, mut bus) = (Regs::new(), Bus::new());
    regs.x[16] = VA_PAGE;
    // ldr q15, [x16, #32]
    run(0x3dc0_0a0f, &mut regs, &mut bus).unwrap();
    assert_eq!(bus.seen, [read(IPA_PAGE + 32, 8), read(IPA_PAGE + 40, 8)]);
    assert_eq!(
        regs.v[15],
        u128::from(Bus::read_value(IPA_PAGE + 32)) | (u128::from(Bus::read_value(IPA_PAGE + 40)) << 64)
    );
    // str q15 back: ldr q15 -> str q15 is opc 0b10: 0x3d80_0a0f.
    let mut bus = Bus::new();
    regs.v[15] = 0x0011_2233_4455_6677_8899_aabb_ccdd_eeff;
    run(0x3d80_0a0f, &mut regs, &mut bus).unwrap();
    assert_eq!(
        bus.seen,
        [
            write(IPA_PAGE + 32, 8, 0x8899_aabb_ccdd_eeff),
            write(IPA_PAGE + 40, 8, 0x0011_2233_4455_6677)
        ]
    );
}

#[test]
fn scalar_simd_load_clears_the_rest() {
    let (mut regs, mut bus) = (Regs::new(), Bus::new());
    regs.x[20] = VA_PAGE + 0x21;
    // ldr b19, [x20], #1
    run(0x3c40_1693, &mut regs, &mut bus).unwrap();
    assert_eq!(regs.v[19], u128::from(Bus::read_value(IPA_PAGE + 0x21) & 0xff));
    assert_eq!(regs.x[20], VA_PAGE + 0x22);
    // str d17, [x18, #-8]! stores only the low 64 bits.
    let mut bus = Bus::new();
    regs.x[18] = VA_PAGE + 0x30;
    run(0xfc1f_8e51, &mut regs, &mut bus).unwrap();
    assert_eq!(bus.seen, [write(IPA_PAGE + 0x28, 8, regs.v[17] as u64)]);
    assert_eq!(regs.x[18], VA_PAGE + 0x28);
}

#[test]
fn simd_pair_of_q_is_four_accesses() {
    let (mut regs, mut bus) = (Regs::new(), Bus::new());
    regs.x[2] = VA_PAGE;
    // ldnp q0, q1, [x2, #32]
    run(0xac41_0440, &mut regs, &mut bus).unwrap();
    let ipas: Vec<u64> = bus.seen.iter().map(|s| s.ipa).collect();
    assert_eq!(ipas, [IPA_PAGE + 32, IPA_PAGE + 40, IPA_PAGE + 48, IPA_PAGE + 56]);
    assert_eq!(regs.v[1] as u64, Bus::read_value(IPA_PAGE + 48));
    assert_eq!((regs.v[1] >> 64) as u64, Bus::read_value(IPA_PAGE + 56));
}

#[test]
fn register_offset_extends_the_index() {
    let (mut regs, mut bus) = (Regs::new(), Bus::new());
    regs.x[25] = VA_PAGE + 0x100;
    regs.x[26] = 0x0000_0001_ffff_fffc; // w26 = -4
    // str s24, [x25, w26, sxtw #2] -> 0x100 - 16
    run(0xbc3a_db38, &mut regs, &mut bus).unwrap();
    assert_eq!(bus.seen, [write(IPA_PAGE + 0xf0, 4, regs.v[24] as u32 as u64)]);
    // ldrb w0, [x1, w2, uxtw]: the top half of x2 is ignored.
    let mut bus = Bus::new();
    regs.x[1] = VA_PAGE;
    regs.x[2] = 0xffff_ffff_0000_0020;
    run(0x3862_4820, &mut regs, &mut bus).unwrap();
    assert_eq!(bus.seen, [read(IPA_PAGE + 0x20, 1)]);
}

#[test]
fn literal_load_is_pc_relative() {
    let (mut regs, mut bus) = (Regs::new(), Bus::new());
    let c = FaultContext {
        pc: VA_PAGE + 0x100,
        ..ctx()
    };
    // ldr x6, .+16
    execute(&op(0x5800_0086), &c, &mut regs, &mut bus).unwrap();
    assert_eq!(bus.seen, [read(IPA_PAGE + 0x110, 8)]);
}

#[test]
fn store_exclusive_succeeds_and_writes_status() {
    let (mut regs, mut bus) = (Regs::new(), Bus::new());
    regs.x[13] = VA_PAGE + 8;
    regs.x[11] = 0xdead;
    // stxr w11, x12, [x13]
    run(0xc80b_7dac, &mut regs, &mut bus).unwrap();
    assert_eq!(bus.seen, [write(IPA_PAGE + 8, 8, regs.x[12])]);
    assert_eq!(regs.x[11], 0);
    // stlxp w21, w22, w23, [x24]
    let mut bus = Bus::new();
    regs.x[24] = VA_PAGE + 8;
    regs.x[21] = 7;
    run(0x8835_df16, &mut regs, &mut bus).unwrap();
    assert_eq!(
        bus.seen,
        [
            write(IPA_PAGE + 8, 4, regs.x[22] & 0xffff_ffff),
            write(IPA_PAGE + 12, 4, regs.x[23] & 0xffff_ffff)
        ]
    );
    assert_eq!(regs.x[21], 0);
}

#[test]
fn xzr_reads_zero_and_discards() {
    let (mut regs, mut bus) = (Regs::new(), Bus::new());
    regs.sp = VA_PAGE;
    // str xzr, [sp, #8]
    run(0xf900_07ff, &mut regs, &mut bus).unwrap();
    assert_eq!(bus.seen, [write(IPA_PAGE + 8, 8, 0)]);
    // ldr xzr, [x1]: ldr x31, [x1, #0] = uimm(3, 0, 1, 0, 1, 31).
    let before = regs.clone();
    regs.x[1] = VA_PAGE;
    let mut bus = Bus::new();
    run(0xf940_003f, &mut regs, &mut bus).unwrap();
    assert_eq!(bus.seen, [read(IPA_PAGE, 8)]);
    assert_eq!(
        regs.x[..],
        {
            let mut x = before.x;
            x[1] = VA_PAGE;
            x
        }[..]
    );
}

#[test]
fn store_with_writeback_into_data_register_stores_old_value() {
    let (mut regs, mut bus) = (Regs::new(), Bus::new());
    regs.x[1] = VA_PAGE + 0x40;
    // str x1, [x1, #8]! = imm9(3, 0, 0, 8, 0b11, 1, 1) = 0xf800_8c21
    run(0xf800_8c21, &mut regs, &mut bus).unwrap();
    assert_eq!(bus.seen, [write(IPA_PAGE + 0x48, 8, VA_PAGE + 0x40)]);
    assert_eq!(regs.x[1], VA_PAGE + 0x48);
}

#[test]
fn failure_leaves_registers_untouched() {
    let (mut regs, mut bus) = (Regs::new(), Bus::new());
    regs.x[8] = VA_PAGE + 0x40;
    bus.fail_at = Some(IPA_PAGE + 0x48);
    let before = regs.clone();
    // ldp x6, x7, [x8], #32: the second read fails.
    assert_eq!(
        run(0xa8c2_1d06, &mut regs, &mut bus),
        Err(ExecError::Access { va: VA_PAGE + 0x48 })
    );
    assert_eq!(regs, before);
    // stxr: no status written when the store fails.
    regs.x[13] = VA_PAGE + 0x48;
    assert!(run(0xc80b_7dac, &mut regs, &mut bus).is_err());
    assert_eq!(regs.x[11], before.x[11]);
    // ldr q: the high half fails, V unchanged.
    regs.x[16] = VA_PAGE + 0x40 - 32;
    assert!(run(0x3dc0_0a0f, &mut regs, &mut bus).is_err());
    assert_eq!(regs.v, before.v);
}

#[test]
fn other_pages_are_translated() {
    let (mut regs, mut bus) = (Regs::new(), Bus::new());
    // ldp x1, x2, [x3, #16] with x3 so the pair straddles the next page.
    regs.x[3] = VA_PAGE + 0xff8 - 16;
    bus.pages.push((VA_PAGE + 0x1000, 0x0b00_0000));
    run(0xa941_0861, &mut regs, &mut bus).unwrap();
    assert_eq!(bus.seen, [read(IPA_PAGE + 0xff8, 8), read(0x0b00_0000, 8)]);
    assert_eq!(bus.translated, [(VA_PAGE + 0x1000, false)]);
    // Untranslatable: an error, registers kept.
    let mut bus = Bus::new();
    let before = regs.clone();
    assert_eq!(
        run(0xa941_0861, &mut regs, &mut bus),
        Err(ExecError::Translation { va: VA_PAGE + 0x1000 })
    );
    assert_eq!(regs, before);
    // A single element across the boundary is refused.
    regs.x[2] = VA_PAGE + 0xffc - 8;
    assert_eq!(
        run(0xf840_8c41, &mut regs, &mut bus),
        Err(ExecError::CrossesPage { va: VA_PAGE + 0xffc })
    );
}

#[test]
fn dc_zva_zeroes_the_aligned_block() {
    let (mut regs, mut bus) = (Regs::new(), Bus::new());
    regs.x[15] = VA_PAGE + 0x47;
    // dc zva, x15 with a 64-byte block: 0x40..0x80 in 8-byte writes.
    run(0xd50b_742f, &mut regs, &mut bus).unwrap();
    let want: Vec<Seen> = (0..8).map(|i| write(IPA_PAGE + 0x40 + 8 * i, 8, 0)).collect();
    assert_eq!(bus.seen, want);
    // A 4-byte block is one word.
    let mut bus = Bus::new();
    let c = FaultContext { zva_block: 4, ..ctx() };
    execute(&op(0xd50b_742f), &c, &mut regs, &mut bus).unwrap();
    assert_eq!(bus.seen, [write(IPA_PAGE + 0x44, 4, 0)]);
    for bad in [0, 2, 48, 4096] {
        let c = FaultContext {
            zva_block: bad,
            ..ctx()
        };
        assert_eq!(
            execute(&op(0xd50b_742f), &c, &mut regs, &mut bus),
            Err(ExecError::BadZvaBlock)
        );
    }
}

#[test]
fn every_decoded_word_executes_without_panic() {
    // Random words, random registers: whatever decodes must execute to Ok
    // or Err, never panic or overflow.
    let mut state = 0x0bad_cafe_f00d_1234u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut executed = 0;
    for _ in 0..100_000 {
        let word = (next() >> 32) as u32;
        let Ok(op) = decode(word) else { continue };
        let mut regs = Regs::new();
        for x in regs.x.iter_mut() {
            *x = next();
        }
        regs.sp = next();
        let c = FaultContext {
            pc: next(),
            far: next(),
            ipa: next(),
            zva_block: 1 << (next() % 16),
        };
        let mut bus = Bus::new();
        let _ = execute(&op, &c, &mut regs, &mut bus);
        executed += 1;
    }
    assert!(executed > 1000, "only {executed} words decoded");
}
