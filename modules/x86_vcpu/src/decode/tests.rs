//! Decoder tests. The byte strings were assembled with GNU `as` (Intel
//! syntax; the comment is the source line) and checked with `objdump`.

use super::*;
use AccessWidth::{Byte, Dword, Qword, Word};
use DecodeMode::{Bits16, Bits32, Bits64};

fn reg(index: u8, width: AccessWidth) -> Gpr {
    Gpr::new(index, width)
}

fn high(index: u8) -> Gpr {
    Gpr {
        index,
        part: GprPart::High8,
    }
}

fn load(len: u8, width: AccessWidth, dst: Gpr, ext: Extension) -> MmioInstruction {
    MmioInstruction {
        len,
        width,
        op: MmioOp::Load { dst, ext },
    }
}

fn store(len: u8, width: AccessWidth, src: Source) -> MmioInstruction {
    MmioInstruction {
        len,
        width,
        op: MmioOp::Store { src },
    }
}

fn alu(len: u8, width: AccessWidth, op: AluOp, src: Source) -> MmioInstruction {
    MmioInstruction {
        len,
        width,
        op: MmioOp::Alu { op, src },
    }
}

const RAX: u8 = 0;
const RCX: u8 = 1;
const RDX: u8 = 2;
const RBX: u8 = 3;
const RSI: u8 = 6;

#[track_caller]
fn check(bytes: &[u8], mode: DecodeMode, expected: MmioInstruction) {
    assert_eq!(decode(bytes, mode), Ok(expected), "{bytes:02x?}");
    // Trailing bytes (the next instruction) do not change the result.
    let mut longer = bytes.to_vec();
    longer.extend_from_slice(&[0x90; 8]);
    assert_eq!(decode(&longer, mode), Ok(expected), "{bytes:02x?} + nops");
    // Every proper prefix of it is truncated.
    for end in 0..bytes.len() {
        assert_eq!(
            decode(&bytes[..end], mode),
            Err(DecodeError::Truncated),
            "{:02x?}",
            &bytes[..end]
        );
    }
}

#[test]
fn mov_register_to_memory() {
    // mov dword ptr [rax], ecx
    check(&[0x89, 0x08], Bits64, store(2, Dword, Source::Reg(reg(RCX, Dword))));
    // mov byte ptr [rdi+8], r9b
    check(
        &[0x44, 0x88, 0x4f, 0x08],
        Bits64,
        store(4, Byte, Source::Reg(reg(9, Byte))),
    );
    // mov byte ptr [rdi+8], sil (a REX makes 6 `sil`, not `dh`)
    check(
        &[0x40, 0x88, 0x77, 0x08],
        Bits64,
        store(4, Byte, Source::Reg(reg(RSI, Byte))),
    );
    // mov byte ptr [rdi], ah
    check(&[0x88, 0x27], Bits64, store(2, Byte, Source::Reg(high(RAX))));
    // mov qword ptr [rip+0x1000], r15
    check(
        &[0x4c, 0x89, 0x3d, 0x00, 0x10, 0x00, 0x00],
        Bits64,
        store(7, Qword, Source::Reg(reg(15, Qword))),
    );
}

#[test]
fn mov_memory_to_register() {
    // mov ax, word ptr [rbx+rcx*4+0x10]
    check(
        &[0x66, 0x8b, 0x44, 0x8b, 0x10],
        Bits64,
        load(5, Word, reg(RAX, Word), Extension::None),
    );
    // mov eax, dword ptr [rsp]
    check(
        &[0x8b, 0x04, 0x24],
        Bits64,
        load(3, Dword, reg(RAX, Dword), Extension::None),
    );
    // mov r12, qword ptr [rbp-8]
    check(
        &[0x4c, 0x8b, 0x65, 0xf8],
        Bits64,
        load(4, Qword, reg(12, Qword), Extension::None),
    );
    // mov bh, byte ptr [rsi]
    check(&[0x8a, 0x3e], Bits64, load(2, Byte, high(RBX), Extension::None));
    // mov eax, dword ptr fs:[rbx]
    check(
        &[0x64, 0x8b, 0x03],
        Bits64,
        load(3, Dword, reg(RAX, Dword), Extension::None),
    );
    // mov eax, dword ptr [ebx] (address-size prefix)
    check(
        &[0x67, 0x8b, 0x03],
        Bits64,
        load(3, Dword, reg(RAX, Dword), Extension::None),
    );
}

#[test]
fn mov_immediate_to_memory() {
    // mov dword ptr [rax+0x12345678], 0xdeadbeef
    check(
        &[0xc7, 0x80, 0x78, 0x56, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde],
        Bits64,
        store(10, Dword, Source::Imm(0xdead_beef)),
    );
    // mov qword ptr [rax], -2 (imm32 sign-extended)
    check(
        &[0x48, 0xc7, 0x00, 0xfe, 0xff, 0xff, 0xff],
        Bits64,
        store(7, Qword, Source::Imm(0xffff_ffff_ffff_fffe)),
    );
    // mov word ptr [rax], 0x1234
    check(
        &[0x66, 0xc7, 0x00, 0x34, 0x12],
        Bits64,
        store(5, Word, Source::Imm(0x1234)),
    );
    // mov byte ptr [rax], 0x80
    check(&[0xc6, 0x00, 0x80], Bits64, store(3, Byte, Source::Imm(0x80)));
    // mov dword ptr [rbx+rax*8-0x80], 0x11223344
    check(
        &[0xc7, 0x44, 0xc3, 0x80, 0x44, 0x33, 0x22, 0x11],
        Bits64,
        store(8, Dword, Source::Imm(0x1122_3344)),
    );
}

#[test]
fn mov_moffs() {
    // movabs eax, dword ptr [0x1122334455667788]
    check(
        &[0xa1, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11],
        Bits64,
        load(9, Dword, reg(RAX, Dword), Extension::None),
    );
    // movabs byte ptr [0xfee00000], al
    check(
        &[0xa2, 0x00, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00],
        Bits64,
        store(9, Byte, Source::Reg(reg(RAX, Byte))),
    );
    // 32-bit code: a 4-byte offset (mov eax, [0xfee000b0] as A1).
    check(
        &[0xa1, 0xb0, 0x00, 0xe0, 0xfe],
        Bits32,
        load(5, Dword, reg(RAX, Dword), Extension::None),
    );
}

#[test]
fn movzx_movsx_movsxd() {
    // movzx eax, byte ptr [rcx]
    check(
        &[0x0f, 0xb6, 0x01],
        Bits64,
        load(3, Byte, reg(RAX, Dword), Extension::Zero),
    );
    // movzx r8, word ptr [rcx]
    check(
        &[0x4c, 0x0f, 0xb7, 0x01],
        Bits64,
        load(4, Word, reg(8, Qword), Extension::Zero),
    );
    // movsx ecx, byte ptr [rdx]
    check(
        &[0x0f, 0xbe, 0x0a],
        Bits64,
        load(3, Byte, reg(RCX, Dword), Extension::Sign),
    );
    // movsx rax, word ptr [rdx]
    check(
        &[0x48, 0x0f, 0xbf, 0x02],
        Bits64,
        load(4, Word, reg(RAX, Qword), Extension::Sign),
    );
    // movsxd rax, dword ptr [rbx]
    check(
        &[0x48, 0x63, 0x03],
        Bits64,
        load(3, Dword, reg(RAX, Qword), Extension::Sign),
    );
    // movsxd eax, dword ptr [rbx] (no REX.W: a plain 32-bit load)
    check(&[0x63, 0x03], Bits64, load(2, Dword, reg(RAX, Dword), Extension::None));
    // In 32-bit code 63 is ARPL.
    assert_eq!(
        decode(&[0x63, 0x03], Bits32),
        Err(DecodeError::Unsupported { opcode: 0x63 })
    );
}

#[test]
fn alu_with_a_register() {
    // add dword ptr [rax], ecx
    check(
        &[0x01, 0x08],
        Bits64,
        alu(2, Dword, AluOp::Add, Source::Reg(reg(RCX, Dword))),
    );
    // or byte ptr [rax], dl
    check(
        &[0x08, 0x10],
        Bits64,
        alu(2, Byte, AluOp::Or, Source::Reg(reg(RDX, Byte))),
    );
    // and qword ptr [rax+4], r11
    check(
        &[0x4c, 0x21, 0x58, 0x04],
        Bits64,
        alu(4, Qword, AluOp::And, Source::Reg(reg(11, Qword))),
    );
    // sub word ptr [rax], si
    check(
        &[0x66, 0x29, 0x30],
        Bits64,
        alu(3, Word, AluOp::Sub, Source::Reg(reg(RSI, Word))),
    );
    // cmp dword ptr [rax], ecx
    check(
        &[0x39, 0x08],
        Bits64,
        alu(2, Dword, AluOp::Cmp, Source::Reg(reg(RCX, Dword))),
    );
    // test qword ptr [rax], rcx
    check(
        &[0x48, 0x85, 0x08],
        Bits64,
        alu(3, Qword, AluOp::Test, Source::Reg(reg(RCX, Qword))),
    );
}

#[test]
fn alu_with_an_immediate() {
    // xor dword ptr [rax], 0x12345678
    check(
        &[0x81, 0x30, 0x78, 0x56, 0x34, 0x12],
        Bits64,
        alu(6, Dword, AluOp::Xor, Source::Imm(0x1234_5678)),
    );
    // or dword ptr [rax], 0x80
    check(
        &[0x81, 0x08, 0x80, 0x00, 0x00, 0x00],
        Bits64,
        alu(6, Dword, AluOp::Or, Source::Imm(0x80)),
    );
    // add qword ptr [rax], -1 (83: imm8 sign-extended)
    check(
        &[0x48, 0x83, 0x00, 0xff],
        Bits64,
        alu(4, Qword, AluOp::Add, Source::Imm(u64::MAX)),
    );
    // and byte ptr [rax], 0x7f
    check(&[0x80, 0x20, 0x7f], Bits64, alu(3, Byte, AluOp::And, Source::Imm(0x7f)));
    // cmp dword ptr [rax], 5
    check(&[0x83, 0x38, 0x05], Bits64, alu(3, Dword, AluOp::Cmp, Source::Imm(5)));
    // test byte ptr [rax], 0x40
    check(
        &[0xf6, 0x00, 0x40],
        Bits64,
        alu(3, Byte, AluOp::Test, Source::Imm(0x40)),
    );
    // test dword ptr [rax], 0x100
    check(
        &[0xf7, 0x00, 0x00, 0x01, 0x00, 0x00],
        Bits64,
        alu(6, Dword, AluOp::Test, Source::Imm(0x100)),
    );
    // adc and sbb are not emulated.
    assert_eq!(
        decode(&[0x83, 0x10, 0x01], Bits64),
        Err(DecodeError::Unsupported { opcode: 0x83 })
    );
}

#[test]
fn inc_dec_and_lock() {
    // inc dword ptr [rax]
    check(&[0xff, 0x00], Bits64, alu(2, Dword, AluOp::Inc, Source::Imm(1)));
    // dec byte ptr [rax]
    check(&[0xfe, 0x08], Bits64, alu(2, Byte, AluOp::Dec, Source::Imm(1)));
    // inc qword ptr [rax]
    check(&[0x48, 0xff, 0x00], Bits64, alu(3, Qword, AluOp::Inc, Source::Imm(1)));
    // lock or dword ptr [rax], 1
    check(
        &[0xf0, 0x83, 0x08, 0x01],
        Bits64,
        alu(4, Dword, AluOp::Or, Source::Imm(1)),
    );
    // lock inc dword ptr [rbx]
    check(&[0xf0, 0xff, 0x03], Bits64, alu(3, Dword, AluOp::Inc, Source::Imm(1)));
    // lock mov and lock cmp are #UD.
    assert_eq!(decode(&[0xf0, 0x89, 0x08], Bits64), Err(DecodeError::Invalid));
    assert_eq!(decode(&[0xf0, 0x39, 0x08], Bits64), Err(DecodeError::Invalid));
    // call [rax] (FF /2) is not a data access we emulate.
    assert_eq!(
        decode(&[0xff, 0x10], Bits64),
        Err(DecodeError::Unsupported { opcode: 0xff })
    );
}

#[test]
fn thirty_two_bit_code() {
    // mov dword ptr [eax], ecx
    check(&[0x89, 0x08], Bits32, store(2, Dword, Source::Reg(reg(RCX, Dword))));
    // mov ax, word ptr [ebx]
    check(
        &[0x66, 0x8b, 0x03],
        Bits32,
        load(3, Word, reg(RAX, Word), Extension::None),
    );
    // mov ebx, dword ptr [0xfee000b0] (mod 00 rm 101: disp32)
    check(
        &[0x8b, 0x1d, 0xb0, 0x00, 0xe0, 0xfe],
        Bits32,
        load(6, Dword, reg(RBX, Dword), Extension::None),
    );
    // mov eax, dword ptr [bx+si] (16-bit addressing)
    check(
        &[0x67, 0x8b, 0x00],
        Bits32,
        load(3, Dword, reg(RAX, Dword), Extension::None),
    );
    // movzx eax, byte ptr [esi+4]
    check(
        &[0x0f, 0xb6, 0x46, 0x04],
        Bits32,
        load(4, Byte, reg(RAX, Dword), Extension::Zero),
    );
    // mov byte ptr [esp+eax*2+0x11], 9
    check(&[0xc6, 0x44, 0x44, 0x11, 0x09], Bits32, store(5, Byte, Source::Imm(9)));
    // 0x40..0x4F are inc/dec in 32-bit code, not REX.
    assert_eq!(
        decode(&[0x48, 0x89, 0x08], Bits32),
        Err(DecodeError::Unsupported { opcode: 0x48 })
    );
}

#[test]
fn sixteen_bit_code() {
    // mov word ptr [bx], ax
    check(&[0x89, 0x07], Bits16, store(2, Word, Source::Reg(reg(RAX, Word))));
    // mov eax, dword ptr [bp+di+0x10]
    check(
        &[0x66, 0x8b, 0x43, 0x10],
        Bits16,
        load(4, Dword, reg(RAX, Dword), Extension::None),
    );
    // mov byte ptr [0x1234], 0x55 (mod 00 rm 110: disp16)
    check(
        &[0xc6, 0x06, 0x34, 0x12, 0x55],
        Bits16,
        store(5, Byte, Source::Imm(0x55)),
    );
    // mov al, byte ptr [ebx] (32-bit addressing)
    check(
        &[0x67, 0x8a, 0x03],
        Bits16,
        load(3, Byte, reg(RAX, Byte), Extension::None),
    );
    // mov word ptr [bx+0x1234], 0x7788
    check(
        &[0xc7, 0x87, 0x34, 0x12, 0x88, 0x77],
        Bits16,
        store(6, Word, Source::Imm(0x7788)),
    );
    // mov ax, word ptr [bp+0]
    check(
        &[0x8b, 0x46, 0x00],
        Bits16,
        load(3, Word, reg(RAX, Word), Extension::None),
    );
}

#[test]
fn rex_must_precede_the_opcode() {
    // 48 66 89 08: the REX is followed by a prefix, so it is ignored: a
    // 16-bit store of cx.
    check(
        &[0x48, 0x66, 0x89, 0x08],
        Bits64,
        store(4, Word, Source::Reg(reg(RCX, Word))),
    );
    // 66 48 89 08: REX.W wins over 66.
    check(
        &[0x66, 0x48, 0x89, 0x08],
        Bits64,
        store(4, Qword, Source::Reg(reg(RCX, Qword))),
    );
}

#[test]
fn rejections() {
    // Register-only forms do not touch memory.
    assert_eq!(decode(&[0x89, 0xc8], Bits64), Err(DecodeError::NotMemory));
    assert_eq!(decode(&[0x0f, 0xb6, 0xc1], Bits64), Err(DecodeError::NotMemory));
    // C7 /1 is not mov.
    assert_eq!(decode(&[0xc7, 0x08, 0, 0, 0, 0], Bits64), Err(DecodeError::Invalid));
    // String instructions and rep.
    assert_eq!(decode(&[0xa5], Bits64), Err(DecodeError::Unsupported { opcode: 0xa5 }));
    assert_eq!(
        decode(&[0xf3, 0x89, 0x08], Bits64),
        Err(DecodeError::Unsupported { opcode: 0x89 })
    );
    // Other two-byte opcodes.
    assert_eq!(
        decode(&[0x0f, 0x01, 0xd9], Bits64),
        Err(DecodeError::Unsupported { opcode: 0x0f01 })
    );
    // Nothing at all.
    assert_eq!(decode(&[], Bits64), Err(DecodeError::Truncated));
    // Fifteen prefixes leave no room for the opcode.
    assert_eq!(decode(&[0x66; 20], Bits64), Err(DecodeError::TooLong));
    // Fourteen prefixes and a two-byte instruction: 16 bytes.
    let mut long = [0x3e; 16];
    long[14] = 0x89;
    long[15] = 0x08;
    assert_eq!(decode(&long, Bits64), Err(DecodeError::TooLong));
    // Thirteen prefixes and a two-byte instruction: exactly 15.
    assert_eq!(
        decode(&long[1..], Bits64),
        Ok(store(15, Dword, Source::Reg(reg(RCX, Dword))))
    );
}

/// A small deterministic generator (xorshift64*), so that a failure repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn random_bytes_never_panic_and_stay_in_bounds() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut decoded = 0;
    for _ in 0..200_000 {
        let len = (rng.next() % 20) as usize;
        let bytes: std::vec::Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        for mode in [Bits16, Bits32, Bits64] {
            if let Ok(insn) = decode(&bytes, mode) {
                decoded += 1;
                assert!(insn.len >= 1 && usize::from(insn.len) <= MAX_INSTRUCTION_LEN.min(bytes.len()));
                if let MmioOp::Alu {
                    src: Source::Imm(imm), ..
                }
                | MmioOp::Store { src: Source::Imm(imm) } = insn.op
                {
                    assert_eq!(imm & !insn.width.mask(), 0, "{bytes:02x?}");
                }
            }
        }
    }
    // The generator does reach the supported forms.
    assert!(decoded > 1000, "{decoded}");
}

#[test]
fn prefix_heavy_garbage_never_panics() {
    // Strings built from prefix bytes and the opcodes the decoder knows
    // exercise its paths much more than uniform noise.
    const ALPHABET: [u8; 24] = [
        0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x64, 0x40, 0x48, 0x4c, 0x0f, 0x88, 0x89, 0x8b, 0xc6, 0xc7, 0xa1, 0x81,
        0x83, 0xf7, 0xff, 0x04, 0x24, 0x05,
    ];
    let mut rng = Rng(42);
    for _ in 0..200_000 {
        let len = (rng.next() % 18) as usize;
        let bytes: std::vec::Vec<u8> = (0..len)
            .map(|_| ALPHABET[(rng.next() % ALPHABET.len() as u64) as usize])
            .collect();
        for mode in [Bits16, Bits32, Bits64] {
            if let Ok(insn) = decode(&bytes, mode) {
                assert!(usize::from(insn.len) <= bytes.len().min(MAX_INSTRUCTION_LEN));
            }
        }
    }
}
