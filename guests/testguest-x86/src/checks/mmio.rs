//! Emulated MMIO through the test device: every access width, partial
//! writes to the scratch register, sign and zero extension and partial
//! register loads, read-modify-write instructions, the counter. SKIP
//! without the hypervisor.

use core::fmt;

use super::Report;
use crate::host::Host;
use crate::mmio::{Load, POISON, Rmw, Width};
use crate::testdev::{BadAccess, REG_SIZE, SCRATCH, SIGN, SIGN_BYTE, TEST_DEVICE_MAGIC, TestDevice};

/// What the scratch register is reset to before each partial write.
const SCRATCH_SEED: u64 = 0x0123_4567_89ab_cdef;
/// Source of the written bytes: every byte differs from the seed's byte at
/// the same position, so a lost or misplaced write shows.
const WRITE_PATTERN: u64 = 0x8f7e_6d5c_4b3a_2918;
/// What the read-modify-write check adds with `add qword ptr [m], reg`.
const RMW_ADDEND: u64 = 0x1111_1111_1111_1111;
/// The checks' names, for the SKIP lines.
const NAMES: [&str; 8] = [
    "mmio magic",
    "mmio write/read 8",
    "mmio write/read 16",
    "mmio write/read 32",
    "mmio write/read 64",
    "mmio sign-extend",
    "mmio read-modify-write",
    "mmio counter",
];

/// The first thing that went wrong in a check.
enum Mismatch {
    /// The device wrapper refused an access (a bug in this guest).
    Bad(BadAccess),
    /// A read returned the wrong value.
    Value {
        what: &'static str,
        offset: usize,
        got: u64,
        want: u64,
    },
    /// A scratch read-back returned the wrong value.
    Scratch {
        write: Width,
        write_at: usize,
        read: Width,
        read_at: usize,
        got: u64,
        want: u64,
    },
    /// A read-modify-write instruction left the wrong value or flag.
    Rmw {
        what: &'static str,
        got: u64,
        want: u64,
        zf: bool,
        want_zf: bool,
    },
}

impl From<BadAccess> for Mismatch {
    fn from(bad: BadAccess) -> Self {
        Mismatch::Bad(bad)
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Mismatch::Bad(b) => write!(f, "bad access: {}-bit at +{:#x}", b.width.bits(), b.offset),
            Mismatch::Value {
                what,
                offset,
                got,
                want,
            } => {
                write!(f, "{} at +{:#x} got {:#x}, want {:#x}", what, offset, got, want)
            }
            Mismatch::Scratch {
                write,
                write_at,
                read,
                read_at,
                got,
                want,
            } => write!(
                f,
                "after {}-bit write at +{:#x}: {}-bit read at +{:#x} got {:#x}, want {:#x}",
                write.bits(),
                write_at,
                read.bits(),
                read_at,
                got,
                want
            ),
            Mismatch::Rmw {
                what,
                got,
                want,
                zf,
                want_zf,
            } => write!(
                f,
                "{} left {:#x} and ZF {}, want {:#x} and ZF {}",
                what, got, *zf as u8, want, *want_zf as u8
            ),
        }
    }
}

/// Prints the result of a check.
fn report_result(report: &mut Report, name: fmt::Arguments, result: Result<(), Mismatch>) {
    match result {
        Ok(()) => report.pass(name),
        Err(m) => report.fail(name, format_args!("{}", m)),
    }
}

/// The aligned byte offsets of `width` inside one register.
fn offsets(width: Width) -> impl Iterator<Item = usize> {
    (0..REG_SIZE).step_by(width.bytes())
}

/// `old` with the low `width` bytes of `value` put at byte `offset`.
fn splice(old: u64, offset: usize, width: Width, value: u64) -> u64 {
    let shift = offset * 8;
    (old & !(width.mask() << shift)) | ((value & width.mask()) << shift)
}

/// The `width` bytes of `reg` at byte `offset`.
fn extract(reg: u64, offset: usize, width: Width) -> u64 {
    (reg >> (offset * 8)) & width.mask()
}

/// Writes every aligned position of the scratch register with `width`, and
/// after each write reads the whole register back at every width.
fn scratch_width(dev: &TestDevice, width: Width) -> Result<(), Mismatch> {
    for write_at in offsets(width) {
        dev.store(SCRATCH, Width::W64, SCRATCH_SEED)?;
        let value = extract(WRITE_PATTERN, write_at, width);
        dev.store(SCRATCH + write_at, width, value)?;
        let expected = splice(SCRATCH_SEED, write_at, width, value);
        for read in Width::ALL {
            for read_at in offsets(read) {
                let got = dev.load(SCRATCH + read_at, Load::unsigned(read))?;
                let want = extract(expected, read_at, read);
                if got != want {
                    return Err(Mismatch::Scratch {
                        write: width,
                        write_at,
                        read,
                        read_at,
                        got,
                        want,
                    });
                }
            }
        }
    }
    Ok(())
}

/// Every load form at `SIGN` (each byte 0x80), with the value the whole
/// destination register must hold afterwards; it held [`POISON`] before.
const SIGN_LOADS: [(Load, u64, &str); 15] = [
    (Load::U8, 0x80, "movzx eax, byte"),
    (Load::U16, 0x8080, "movzx eax, word"),
    (Load::U32, 0x8080_8080, "mov eax, dword"),
    (Load::U64, 0x8080_8080_8080_8080, "mov rax, qword"),
    (Load::Mov8, 0xdead_beef_cafe_f080, "mov al, byte"),
    (Load::Mov8High, 0xdead_beef_cafe_800d, "mov ah, byte"),
    (Load::Mov16, 0xdead_beef_cafe_8080, "mov ax, word"),
    (Load::S8ToR, 0xffff_ffff_ffff_ff80, "movsx rax, byte"),
    (Load::S16ToR, 0xffff_ffff_ffff_8080, "movsx rax, word"),
    (Load::S32ToR, 0xffff_ffff_8080_8080, "movsxd rax, dword"),
    (Load::S8ToE, 0x0000_0000_ffff_ff80, "movsx eax, byte"),
    (Load::S16ToE, 0x0000_0000_ffff_8080, "movsx eax, word"),
    (Load::S8ToX, 0xdead_beef_cafe_ff80, "movsx ax, byte"),
    (Load::Z8ToX, 0xdead_beef_cafe_0080, "movzx ax, byte"),
    (Load::S8ToR9, 0xffff_ffff_ffff_ff80, "movsx r9, byte [r10]"),
];

const _: () = assert!(SIGN_BYTE == 0x80, "SIGN_LOADS assume 0x80 bytes");
const _: () = assert!(POISON == 0xdead_beef_cafe_f00d, "SIGN_LOADS assume this poison");

/// Loads `SIGN` with every load form.
fn sign_extend(dev: &TestDevice) -> Result<(), Mismatch> {
    for (load, want, what) in SIGN_LOADS {
        let got = dev.load(SIGN, load)?;
        if got != want {
            return Err(Mismatch::Value {
                what,
                offset: SIGN,
                got,
                want,
            });
        }
    }
    Ok(())
}

/// `or`, `and` with immediates, `add` and `sub` of a register on the
/// scratch register, each read back; the last `sub` leaves zero, so it
/// must set `ZF`.
fn read_modify_write(dev: &TestDevice) -> Result<(), Mismatch> {
    dev.store(SCRATCH, Width::W64, SCRATCH_SEED)?;
    let mut value = SCRATCH_SEED;
    let fixed = [Rmw::OrQwordImm8, Rmw::AndDwordImm32, Rmw::AddQwordReg(RMW_ADDEND)];
    for i in 0..=fixed.len() {
        // The last step subtracts what the register holds by then.
        let op = fixed.get(i).copied().unwrap_or(Rmw::SubQwordReg(value));
        let want = op.apply(value);
        let want_zf = op.zero_flag(value);
        let zf = dev.rmw_scratch(op);
        let got = dev.load(SCRATCH, Load::U64)?;
        if got != want || zf != want_zf {
            return Err(Mismatch::Rmw {
                what: op.name(),
                got,
                want,
                zf,
                want_zf,
            });
        }
        value = want;
    }
    Ok(())
}

/// Runs the MMIO checks.
pub fn run(report: &mut Report, host: Host) {
    if let Some(why) = host.bare_reason() {
        for name in NAMES {
            report.skip(format_args!("{}", name), format_args!("no hypervisor: {}", why));
        }
        return;
    }
    let dev = TestDevice;

    let magic = dev.magic();
    report.check(
        magic == TEST_DEVICE_MAGIC,
        format_args!("mmio magic"),
        format_args!("got {:#x}, want {:#x}", magic, TEST_DEVICE_MAGIC),
    );

    for width in Width::ALL {
        let result = scratch_width(&dev, width);
        report_result(report, format_args!("mmio write/read {}", width.bits()), result);
    }

    report_result(report, format_args!("mmio sign-extend"), sign_extend(&dev));
    report_result(report, format_args!("mmio read-modify-write"), read_modify_write(&dev));

    let before = dev.counter();
    let _ = dev.magic();
    let after = dev.counter();
    report.check(
        after > before,
        format_args!("mmio counter"),
        format_args!("read {} then {} around another access", before, after),
    );
}
