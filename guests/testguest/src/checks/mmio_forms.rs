//! Device accesses that trap without an instruction syndrome (ISV = 0):
//! pairs, write-back forms, SIMD&FP registers, exclusives, `DC ZVA`. The
//! hypervisor must decode the instruction and perform it, as a CPU would,
//! on the test device's memory window ([`MEMORY`]). An access it does not
//! emulate (an Advanced SIMD structure load) must reach this guest as a
//! synchronous external data abort, and the guest runs on.
//!
//! The guest runs with its MMU off, so addresses are IPAs. The inline
//! assembly uses V0 and V1, which nothing else in this soft-float program
//! uses (see `fpsimd.rs`; V31 is the isolation check's).

use core::arch::asm;

use aarch64_cpu::registers::ESR_EL1;
use tock_registers::LocalRegisterCopy;

use super::Report;
use crate::exception;
use crate::mmio::{self, Load, Width};
use crate::platform::TEST_DEVICE_BASE;
use crate::testdev::{MEMORY, MEMORY_SIZE};

/// The address of the test device's memory window.
const WINDOW: usize = TEST_DEVICE_BASE + MEMORY;
/// Values whose bytes all differ, so a swapped or lost half shows.
const A: u64 = 0x0123_4567_89ab_cdef;
const B: u64 = 0xfedc_ba98_7654_3210;

/// Reads the window's 64-bit word at `offset` with a plain load.
fn word(offset: usize) -> u64 {
    // SAFETY: inside the test device's memory window, which reads at any
    // width.
    unsafe { mmio::load(WINDOW + offset, Load::U64) }
}

/// Writes the window's 64-bit word at `offset` with a plain store.
fn set_word(offset: usize, value: u64) {
    // SAFETY: inside the test device's memory window, which is read/write.
    unsafe { mmio::store(WINDOW + offset, Width::W64, value) }
}

fn pair_x(report: &mut Report) {
    let (c, d): (u64, u64);
    // SAFETY: the window holds 16 bytes at its start; no other memory is
    // touched.
    unsafe {
        asm!(
            "stp {a}, {b}, [{addr}]",
            "ldp {c}, {d}, [{addr}]",
            a = in(reg) A, b = in(reg) B, addr = in(reg) WINDOW,
            c = out(reg) c, d = out(reg) d,
            options(nostack),
        );
    }
    let ok = (c, d) == (A, B) && (word(0), word(8)) == (A, B);
    report.check(
        ok,
        format_args!("mmio stp/ldp x"),
        format_args!("ldp gave {:#x} {:#x}, memory {:#x} {:#x}", c, d, word(0), word(8)),
    );
}

fn pair_w(report: &mut Report) {
    set_word(16, u64::MAX);
    let (c, d): (u64, u64);
    // SAFETY: as in `pair_x`, 8 bytes at offset 16 of the window.
    unsafe {
        asm!(
            "stp {a:w}, {b:w}, [{addr}, #16]",
            "ldp {c:w}, {d:w}, [{addr}, #16]",
            a = in(reg) A, b = in(reg) B, addr = in(reg) WINDOW,
            c = out(reg) c, d = out(reg) d,
            options(nostack),
        );
    }
    let (lo, hi) = (A & 0xffff_ffff, B & 0xffff_ffff);
    let ok = (c, d) == (lo, hi) && word(16) == lo | (hi << 32);
    report.check(
        ok,
        format_args!("mmio stp/ldp w"),
        format_args!("ldp gave {:#x} {:#x}, memory {:#x}", c, d, word(16)),
    );
}

fn ldpsw(report: &mut Report) {
    // Two words: negative, then positive.
    set_word(24, 0x7fff_fff0_8000_0001);
    let (c, d): (u64, u64);
    // SAFETY: reads 8 bytes at offset 24 of the window.
    unsafe {
        asm!(
            "ldpsw {c}, {d}, [{addr}, #24]",
            addr = in(reg) WINDOW, c = out(reg) c, d = out(reg) d,
            options(nostack),
        );
    }
    report.check(
        (c, d) == (0xffff_ffff_8000_0001, 0x7fff_fff0),
        format_args!("mmio ldpsw"),
        format_args!("got {:#x} {:#x}", c, d),
    );
}

fn post_index(report: &mut Report) {
    let mut store_base = WINDOW + 32;
    let mut load_base = WINDOW + 32;
    let c: u64;
    // SAFETY: one store and one load at offset 32 of the window.
    unsafe {
        asm!(
            "str {a}, [{sb}], #8",
            "ldr {c}, [{lb}], #-8",
            a = in(reg) B, sb = inout(reg) store_base, lb = inout(reg) load_base,
            c = out(reg) c,
            options(nostack),
        );
    }
    let ok = c == B && store_base == WINDOW + 40 && load_base == WINDOW + 24 && word(32) == B;
    report.check(
        ok,
        format_args!("mmio post-index"),
        format_args!(
            "loaded {:#x}, bases {:#x} {:#x} (want +8, -8 from {:#x})",
            c,
            store_base,
            load_base,
            WINDOW + 32
        ),
    );
}

fn pre_index(report: &mut Report) {
    let mut store_base = WINDOW;
    let mut load_base = WINDOW + 56;
    let c: u64;
    // SAFETY: one store and one load at offset 48 of the window.
    unsafe {
        asm!(
            "str {a}, [{sb}, #48]!",
            "ldr {c}, [{lb}, #-8]!",
            a = in(reg) A, sb = inout(reg) store_base, lb = inout(reg) load_base,
            c = out(reg) c,
            options(nostack),
        );
    }
    let ok = c == A && store_base == WINDOW + 48 && load_base == WINDOW + 48 && word(48) == A;
    report.check(
        ok,
        format_args!("mmio pre-index"),
        format_args!(
            "loaded {:#x}, bases {:#x} {:#x} (want {:#x})",
            c,
            store_base,
            load_base,
            WINDOW + 48
        ),
    );
}

fn q_register(report: &mut Report) {
    let (lo, hi): (u64, u64);
    // SAFETY: 16 bytes at offset 64 of the window; V0 and V1 are free (see
    // the module doc); FP/SIMD is enabled at EL1 (boot).
    unsafe {
        asm!(
            ".arch_extension fp",
            ".arch_extension simd",
            "fmov d0, {a}",
            "mov v0.d[1], {b}",
            "str q0, [{addr}, #64]",
            "ldr q1, [{addr}, #64]",
            "fmov {lo}, d1",
            "mov {hi}, v1.d[1]",
            a = in(reg) A, b = in(reg) B, addr = in(reg) WINDOW,
            lo = out(reg) lo, hi = out(reg) hi,
            options(nostack),
        );
    }
    let ok = (lo, hi) == (A, B) && (word(64), word(72)) == (A, B);
    report.check(
        ok,
        format_args!("mmio str/ldr q"),
        format_args!("ldr gave {:#x}:{:#x}, memory {:#x} {:#x}", hi, lo, word(72), word(64)),
    );
}

fn d_register(report: &mut Report) {
    let (lo, hi): (u64, u64);
    // SAFETY: as in `q_register`, 8 bytes at offset 80. V1's upper half is
    // set first: the load must clear it.
    unsafe {
        asm!(
            ".arch_extension fp",
            ".arch_extension simd",
            "fmov d0, {b}",
            "mov v1.d[1], {a}",
            "str d0, [{addr}, #80]",
            "ldr d1, [{addr}, #80]",
            "fmov {lo}, d1",
            "mov {hi}, v1.d[1]",
            a = in(reg) A, b = in(reg) B, addr = in(reg) WINDOW,
            lo = out(reg) lo, hi = out(reg) hi,
            options(nostack),
        );
    }
    report.check(
        lo == B && hi == 0 && word(80) == B,
        format_args!("mmio str/ldr d"),
        format_args!("ldr gave {:#x}:{:#x}, memory {:#x}", hi, lo, word(80)),
    );
}

/// `LDXR` then `STXR` on the window. The load-exclusive traps and is
/// emulated as a load; the emulation cannot open this CPU's exclusive
/// monitor, so the store-exclusive may fail on the CPU itself without an
/// access (QEMU checks its monitor before the address: status 1, memory
/// unchanged, no trap). When it does trap, the hypervisor performs it and
/// reports success (status 0). Either outcome must be consistent with the
/// memory.
fn exclusive(report: &mut Report) {
    set_word(88, A);
    let (old, status): (u64, u64);
    // SAFETY: 8 bytes at offset 88 of the window.
    unsafe {
        asm!(
            "ldxr {old}, [{addr}]",
            "stxr {status:w}, {new}, [{addr}]",
            addr = in(reg) WINDOW + 88, new = in(reg) B,
            old = out(reg) old, status = out(reg) status,
            options(nostack),
        );
    }
    let stored = match status {
        0 => word(88) == B,
        1 => word(88) == A,
        _ => false,
    };
    report.check(
        old == A && stored,
        format_args!("mmio ldxr/stxr"),
        format_args!("loaded {:#x}, status {}, memory {:#x}", old, status, word(88)),
    );
}

fn acquire_release(report: &mut Report) {
    let c: u64;
    // SAFETY: 8 bytes at offset 96 of the window.
    unsafe {
        asm!(
            "stlr {a}, [{addr}]",
            "ldar {c}, [{addr}]",
            a = in(reg) A, addr = in(reg) WINDOW + 96, c = out(reg) c,
            options(nostack),
        );
    }
    report.check(
        c == A && word(96) == A,
        format_args!("mmio ldar/stlr"),
        format_args!("loaded {:#x}, memory {:#x}", c, word(96)),
    );
}

fn dc_zva(report: &mut Report) {
    /// DCZID_EL0: BS \[3:0\] (log2 of the block in words), DZP \[4\].
    const BS_MASK: u64 = 0xf;
    const DZP: u64 = 1 << 4;
    let dczid: u64;
    // SAFETY: reads an identification register.
    unsafe { asm!("mrs {}, dczid_el0", out(reg) dczid, options(nomem, nostack)) };
    let block = 4usize << (dczid & BS_MASK);
    let name = format_args!("mmio dc zva");
    if dczid & DZP != 0 || block > MEMORY_SIZE {
        report.skip(name, format_args!("DCZID_EL0 {:#x}", dczid));
        return;
    }
    for offset in (0..MEMORY_SIZE).step_by(8) {
        set_word(offset, u64::MAX);
    }
    // An address inside the first block: the block is aligned down.
    // SAFETY: zeroes one block of the window (which is block aligned and
    // at least one block long, checked above).
    unsafe { asm!("dc zva, {}", in(reg) WINDOW + 8, options(nostack)) };
    let zeroed = (0..block).step_by(8).all(|o| word(o) == 0);
    let kept = block == MEMORY_SIZE || word(block) == u64::MAX;
    report.check(
        zeroed && kept,
        name,
        format_args!(
            "block {} bytes: first word {:#x}, word after {:#x}",
            block,
            word(0),
            word(block % MEMORY_SIZE)
        ),
    );
}

fn undecodable(report: &mut Report) {
    /// ESR_EL1.EC of a data abort taken from EL1.
    const EC_DATA_ABORT_SAME_EL: u64 = 0x25;
    exception::expect_abort(WINDOW);
    // SAFETY: an Advanced SIMD structure load, which the hypervisor does
    // not emulate: it makes this guest take an external abort, which the
    // handler (armed above) skips; V0 and V1 are free.
    unsafe {
        asm!(
            ".arch_extension simd",
            "ld1 {{v0.16b, v1.16b}}, [{}]",
            in(reg) WINDOW,
            options(nostack),
        );
    }
    let record = exception::take_record();
    let esr = LocalRegisterCopy::<u64, ESR_EL1::Register>::new(record.esr);
    report.check(
        record.count == 1 && esr.read(ESR_EL1::EC) == EC_DATA_ABORT_SAME_EL && record.far == WINDOW as u64,
        format_args!("mmio undecodable access aborts"),
        format_args!(
            "{} aborts taken, ESR {:#x}, FAR {:#x}",
            record.count, record.esr, record.far
        ),
    );
}

/// Runs the checks, one `PASS mmio <form>` each.
pub fn run(report: &mut Report) {
    pair_x(report);
    pair_w(report);
    ldpsw(report);
    post_index(report);
    pre_index(report);
    q_register(report);
    d_register(report);
    exclusive(report);
    acquire_release(report);
    dc_zva(report);
    undecodable(report);
}
