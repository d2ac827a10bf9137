//! Where the fuzzed accesses go and what the calls say: the address picker,
//! the registers it keeps stores off, the hypercall and PSCI function ids
//! and the ones left out, timer compare values and SGI values.
//!
//! Addresses are device frames of the VM (the virtual GIC's distributor and
//! redistributors, the PL011, the test device, each with the page after
//! it), unmapped space below RAM, just past RAM, anywhere below 2^40, and
//! anywhere at all. Never guest RAM: a fuzzed store there would overwrite
//! the fuzzer; an address that falls in RAM goes to [`UNMAPPED_ADDR`]
//! instead.
//!
//! Stores are kept off the few registers whose random values would stop
//! the fuzzer from waking out of `WFI` (the timer PPI's enable, group,
//! priority and active bits at every redistributor, `GICR_WAKER`,
//! `GICD_CTLR`) and off the UART's data register (random bytes on the
//! console could spell the words the tests forbid): such a store goes to
//! an unused offset of the test device instead.

use crate::platform::{
    GICD_BASE, GICD_SIZE, GICR_BASE, GICR_STRIDE, RAM_BASE, RAM_END, TEST_DEVICE_BASE, UART_BASE, UNMAPPED_ADDR,
};

use super::rng::Rng;
use super::stubs::{Access, Arg, Stub};

/// Timer compare values stay below this. A hypervisor adds the VM's
/// `CNTVOFF_EL2` (for the virtual timer; some offset, maybe, for the
/// physical one) to a compare value to get the host's deadline; a sum that
/// wraps past 2^64 makes QEMU 7.2 itself hang, so the fuzzer leaves those
/// values out (virtual time starts near zero, so an offset is far below
/// 2^62).
pub const CVAL_LIMIT: u64 = 1 << 62;

/// Timer values (`TVAL`, a signed 32-bit count from now) stay below this
/// and never go negative. A write sets the compare value to the counter
/// plus the sign-extended value; the virtual counter starts near zero, so a
/// negative value makes the compare value wrap to just below 2^64, and
/// with the counter offset added the deadline wraps past 2^64: the case on
/// which QEMU 7.2 hangs (see [`CVAL_LIMIT`]).
pub const TVAL_LIMIT: u64 = 1 << 31;

/// The bits of a binary point register write that the fuzzer sets
/// (`BinaryPoint`, bits \[2:0\]; the rest is RES0). QEMU 7.2's virtual CPU
/// interface keeps only the low 3 bits of a write after comparing the
/// whole value with the minimum, so `ICC_BPR1_EL1` = 8 leaves its `VBPR1`
/// at 0, which a later priority check asserts against: QEMU aborts. A
/// guest write of the interface does not reach the hypervisor, which can
/// do nothing about it; the fuzzer leaves those values out.
pub const BPR_MASK: u64 = 0b111;

/// How much of the redistributor space the picker covers: the frames of
/// four vCPUs (the fuzz VM has two), so that it also hits redistributors
/// that do not exist.
const GICR_SPAN: u64 = 4 * GICR_STRIDE as u64;
/// The device pages covered: the page and the unmapped one after it.
const DEVICE_SPAN: u64 = 0x2000;
/// The unused test device offset that protected stores go to.
const HARMLESS_STORE: u64 = TEST_DEVICE_BASE as u64 + 0x800;
/// The widest access a stub makes around its `X0` (`DC ZVA`'s block, a
/// pair of Q registers, a pre-index offset): the span a store's window
/// covers on each side.
const STORE_REACH: u64 = 64;

/// `GICD_CTLR` (with `EnableGrp1` and `ARE`).
const GICD_CTLR: u64 = 0x0000;
/// Offsets in each redistributor (`RD_base`, then `SGI_base` 64 KiB up)
/// whose random values could keep the virtual timer's PPI from waking a
/// `WFI`: `GICR_WAKER`, `IGROUPR0`, `ICENABLER0`, `ISACTIVER0`, the
/// `IPRIORITYR` word of INTIDs 24..27, `IGRPMODR0`.
const GICR_PROTECTED: [u64; 6] = [0x0_0014, 0x1_0080, 0x1_0180, 0x1_0300, 0x1_0418, 0x1_0d00];
/// `UARTDR`, the PL011's data register.
const UART_DR: u64 = 0x000;

/// Whether a store around `addr` (up to [`STORE_REACH`] bytes either side)
/// could touch a protected register.
fn is_protected(addr: u64) -> bool {
    let lo = addr.saturating_sub(STORE_REACH);
    let hi = addr.saturating_add(STORE_REACH);
    let hits = |reg: u64| reg < hi && reg.saturating_add(4) > lo;
    hits(GICD_BASE as u64 + GICD_CTLR)
        || hits(UART_BASE as u64 + UART_DR)
        || (0..GICR_SPAN / GICR_STRIDE as u64).any(|frame| {
            let rd = GICR_BASE as u64 + frame * GICR_STRIDE as u64;
            GICR_PROTECTED.iter().any(|&off| hits(rd + off))
        })
}

/// Whether `addr` (with an access's reach either side) could touch guest
/// RAM.
fn near_ram(addr: u64) -> bool {
    addr < RAM_END.saturating_add(STORE_REACH) && addr.saturating_add(STORE_REACH) > RAM_BASE
}

/// A random address for `stub`: a device frame, unmapped or out-of-range
/// space, aligned to the stub's alignment (one time in 16 not), never near
/// guest RAM, and for a store never near a protected register.
pub fn address(rng: &mut Rng, stub: &Stub) -> u64 {
    let raw = match rng.below(10) {
        0 | 1 => GICD_BASE as u64 + rng.below(GICD_SIZE as u64),
        2 | 3 => GICR_BASE as u64 + rng.below(GICR_SPAN),
        4 => UART_BASE as u64 + rng.below(DEVICE_SPAN),
        5 => TEST_DEVICE_BASE as u64 + rng.below(DEVICE_SPAN),
        6 => rng.below(RAM_BASE),
        7 => RAM_END + rng.below(1 << 30),
        8 => rng.below(1 << 40),
        _ => rng.next(),
    };
    let addr = if rng.one_in(16) {
        raw
    } else {
        raw & !(stub.align.max(1) - 1)
    };
    if near_ram(addr) {
        return UNMAPPED_ADDR as u64 + (addr & 0xff8);
    }
    if stub.access == Access::Store && is_protected(addr) {
        return HARMLESS_STORE;
    }
    addr
}

/// SMCCC function id: bits \[29:24\], the service that owns it.
const SMCCC_OWNER_SHIFT: u32 = 24;
/// SMCCC owner mask (6 bits).
const SMCCC_OWNER_MASK: u64 = 0x3f;
/// SMCCC function number, bits \[15:0\].
const SMCCC_NUMBER_MASK: u64 = 0xffff;
/// SMCCC fast call (bit 31) and SMC64 (bit 30).
const SMCCC_FAST: u64 = 1 << 31;
/// See [`SMCCC_FAST`].
const SMCCC_64: u64 = 1 << 30;
/// The owner of PSCI: standard secure services.
const OWNER_STANDARD: u64 = 4;
/// The owner of the project's hypercalls: the vendor hypervisor service.
const OWNER_VENDOR_HYP: u64 = 6;
/// The vendor hypercall that prints `X1` (`HC_PUTCHAR`).
const HC_PUTCHAR_NUMBER: u64 = 2;

/// PSCI function numbers (bits \[15:0\] of the id) the fuzzer never calls
/// with random arguments because they end the VM or the calling vCPU, or
/// may sleep without a wake-up armed: `CPU_SUSPEND` (1; called with a
/// timer armed by the PSCI class), `CPU_OFF` (2), `SYSTEM_OFF` (8),
/// `SYSTEM_RESET` (9), `CPU_FREEZE` (0xB), `CPU_DEFAULT_SUSPEND` (0xC),
/// `SYSTEM_SUSPEND` (0xE), `SYSTEM_RESET2` (0x12), `SYSTEM_OFF2` (0x15).
const PSCI_EXCLUDED: [u64; 9] = [0x1, 0x2, 0x8, 0x9, 0xb, 0xc, 0xe, 0x12, 0x15];
/// `PSCI_VERSION`: what an excluded id is replaced with.
const PSCI_VERSION: u64 = 0x8400_0000;
/// PSCI `CPU_SUSPEND`'s function number.
const PSCI_CPU_SUSPEND: u64 = 0x1;
/// PSCI numbers the PSCI class picks from (with either calling
/// convention): VERSION, CPU_ON, AFFINITY_INFO, MIGRATE,
/// MIGRATE_INFO_TYPE, MIGRATE_INFO_UP_CPU, FEATURES, NODE_HW_STATE,
/// SET_SUSPEND_MODE, STAT_RESIDENCY, STAT_COUNT, MEM_PROTECT,
/// MEM_PROTECT_CHECK_RANGE, and a number PSCI does not define.
const PSCI_NUMBERS: [u64; 14] = [
    0x0, 0x3, 0x4, 0x5, 0x6, 0x7, 0xa, 0xd, 0xf, 0x10, 0x11, 0x13, 0x14, 0x1f,
];

/// Whether the PSCI or vendor-hypercall id in the low 32 bits of `id`
/// must not be called with random arguments.
fn is_excluded(id: u64) -> bool {
    let owner = (id >> SMCCC_OWNER_SHIFT) & SMCCC_OWNER_MASK;
    owner == OWNER_STANDARD && PSCI_EXCLUDED.contains(&(id & SMCCC_NUMBER_MASK))
}

/// Whether `id` is the print hypercall, whose byte must be harmless.
fn is_putchar(id: u64) -> bool {
    let owner = (id >> SMCCC_OWNER_SHIFT) & SMCCC_OWNER_MASK;
    owner == OWNER_VENDOR_HYP && id & SMCCC_NUMBER_MASK == HC_PUTCHAR_NUMBER
}

/// A random hypercall function id: 64 random bits, or an SMCCC id of a
/// random owner and a small number (fast or yielding, 32 or 64 bits, now
/// and then with garbage in the upper 32 bits).
fn call_id(rng: &mut Rng) -> u64 {
    if rng.one_in(4) {
        return rng.next();
    }
    let owner = match rng.below(4) {
        0 => OWNER_STANDARD,
        1 => OWNER_VENDOR_HYP,
        _ => rng.below(SMCCC_OWNER_MASK + 1),
    };
    let mut id = owner << SMCCC_OWNER_SHIFT | rng.below(0x20);
    if !rng.one_in(8) {
        id |= SMCCC_FAST;
    }
    if rng.one_in(2) {
        id |= SMCCC_64;
    }
    if rng.one_in(8) {
        id |= rng.next() << 32;
    }
    id
}

/// A printable byte that spells nothing: what the print hypercall gets.
const HARMLESS_BYTE: u64 = b'.' as u64;

/// The registers of a random hypercall: a function id (an excluded PSCI id
/// becomes `PSCI_VERSION`) and random arguments (the print hypercall's
/// byte is [`HARMLESS_BYTE`]).
pub fn call(rng: &mut Rng) -> [u64; 4] {
    let mut id = call_id(rng);
    if is_excluded(id) {
        id = PSCI_VERSION;
    }
    let mut args = [id, rng.value(), rng.value(), rng.value()];
    if is_putchar(id) {
        args[1] = HARMLESS_BYTE;
    }
    args
}

/// A random MPIDR-like target: this VM's vCPUs (on, so `CPU_ON` answers
/// `ALREADY_ON`), vCPUs it does not have, or garbage.
fn target_cpu(rng: &mut Rng) -> u64 {
    match rng.below(4) {
        0 => rng.below(2),
        1 => rng.below(0x100),
        2 => rng.below(4) << (8 * rng.below(4)),
        _ => rng.value(),
    }
}

/// A PSCI function id of `number`, 32 or 64-bit at random.
fn psci_id(rng: &mut Rng, number: u64) -> u64 {
    SMCCC_FAST | OWNER_STANDARD << SMCCC_OWNER_SHIFT | number | if rng.one_in(2) { SMCCC_64 } else { 0 }
}

/// The registers of a random PSCI call (never `CPU_SUSPEND`).
pub fn psci(rng: &mut Rng) -> [u64; 4] {
    let number = PSCI_NUMBERS
        .get(rng.below(PSCI_NUMBERS.len() as u64) as usize)
        .copied()
        .unwrap_or(0);
    let id = psci_id(rng, number);
    [id, target_cpu(rng), rng.value(), rng.value()]
}

/// The registers of `CPU_SUSPEND` with a random power state (mostly
/// standby, 0 or a small number), entry point and context id.
pub fn suspend(rng: &mut Rng) -> [u64; 4] {
    [
        psci_id(rng, PSCI_CPU_SUSPEND),
        target_cpu(rng),
        rng.value(),
        rng.value(),
    ]
}

/// `ICC_SGI1R_EL1.IRM` (bit 40): to every PE but the sender.
const SGI_IRM: u64 = 1 << 40;
/// `ICC_SGI1R_EL1.INTID` shift (bits \[27:24\]).
const SGI_INTID_SHIFT: u32 = 24;

/// A random SGI register value: mostly a small target list (this VM's
/// vCPUs and ones it does not have), a random INTID, now and then the
/// broadcast bit, random affinity fields, or 64 random bits.
pub fn sgi(rng: &mut Rng) -> u64 {
    if rng.one_in(8) {
        return rng.next();
    }
    let mut value = rng.below(1 << 4) | rng.below(16) << SGI_INTID_SHIFT;
    if rng.one_in(8) {
        value |= SGI_IRM;
    }
    if rng.one_in(8) {
        // Aff1 (bits [23:16]), Aff2 ([39:32]), Aff3 ([55:48]), RS ([47:44]).
        value |= rng.next() & 0x00ff_f0ff_00ff_0000;
    }
    value
}

/// The four argument registers for `stub`.
pub fn args(rng: &mut Rng, stub: &Stub) -> [u64; 4] {
    match stub.arg {
        Arg::Addr => [address(rng, stub), rng.value(), rng.value(), rng.value()],
        Arg::Value => [rng.value(), 0, 0, 0],
        Arg::Bpr => [rng.value() & BPR_MASK, 0, 0, 0],
        Arg::Cval => [rng.value() % CVAL_LIMIT, 0, 0, 0],
        Arg::Tval => [rng.value() % TVAL_LIMIT, 0, 0, 0],
        Arg::Call => call(rng),
        Arg::Psci => psci(rng),
        Arg::Suspend => suspend(rng),
        Arg::Sgi => [sgi(rng), 0, 0, 0],
        Arg::Wfi | Arg::None => [UNMAPPED_ADDR as u64; 4],
    }
}
