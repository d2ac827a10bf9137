//! What the fuzzer counts, per vCPU: operations per class, and the
//! exceptions its own handler took, by exception class (`ESR_EL1.EC`), by
//! data abort status code, and by the operation class that took them.
//!
//! Each vCPU writes only its own row, so a count is a load and a store (no
//! read-modify-write: see [`SharedWord`]); vCPU 0 reads every row once the
//! others are done.

use aarch64_cpu::registers::ESR_EL1;
use tock_registers::LocalRegisterCopy;

use crate::platform::NUM_VCPUS;
use crate::shared::SharedWord;

use super::class::{COUNT, Class};
use super::stubs::STUBS;

/// Exception classes (`ESR_EL1.EC` is 6 bits).
pub const EC_COUNT: usize = 64;
/// The `EC` of a data abort taken without a change in exception level.
pub const EC_DATA_ABORT_SAME_EL: u64 = 0x25;
/// `ISS.DFSC` of a data abort, bits \[5:0\]: the fault status code.
const ISS_DFSC_MASK: u64 = 0x3f;
/// The row of asynchronous exceptions (SError, FIQ) in the EC table: an
/// `EC` value no synchronous exception to EL1 uses.
pub const EC_ASYNC_ROW: usize = 0x3f;

/// One vCPU's counters.
pub struct Counters {
    /// Operations run, per class.
    pub ops: [SharedWord; COUNT],
    /// Exceptions taken, per operation class.
    pub by_class: [SharedWord; COUNT],
    /// Exceptions taken, per `ESR_EL1.EC` ([`EC_ASYNC_ROW`] for SError and
    /// FIQ).
    pub by_ec: [SharedWord; EC_COUNT],
    /// Data aborts at EL1, per fault status code (`ISS.DFSC`, 6 bits).
    pub by_dfsc: [SharedWord; 64],
    /// The index in `STUBS` of the operation running now.
    pub current: SharedWord,
    /// Operations run so far.
    pub done: SharedWord,
    /// The argument registers (`X0..X3`) of the operation running now.
    pub args: [SharedWord; 4],
}

impl Counters {
    const fn new() -> Self {
        Counters {
            ops: [const { SharedWord::new(0) }; COUNT],
            by_class: [const { SharedWord::new(0) }; COUNT],
            by_ec: [const { SharedWord::new(0) }; EC_COUNT],
            by_dfsc: [const { SharedWord::new(0) }; 64],
            current: SharedWord::new(0),
            done: SharedWord::new(0),
            args: [const { SharedWord::new(0) }; 4],
        }
    }
}

/// Every vCPU's counters.
static COUNTERS: [Counters; NUM_VCPUS] = [const { Counters::new() }; NUM_VCPUS];

/// Adds one to a word only this vCPU writes.
pub fn bump(word: &SharedWord) {
    word.store(word.load().wrapping_add(1));
}

/// The counters of vCPU `cpu`, if it is one this guest has stacks for.
pub fn of(cpu: u64) -> Option<&'static Counters> {
    COUNTERS.get(usize::try_from(cpu).ok()?)
}

/// Sum over every vCPU of what `pick` reads from its counters.
pub fn total(pick: impl Fn(&Counters) -> u64) -> u64 {
    COUNTERS.iter().map(pick).fold(0, u64::wrapping_add)
}

/// The value of `row[i]`, 0 past its end.
pub fn at(row: &[SharedWord], i: usize) -> u64 {
    row.get(i).map_or(0, SharedWord::load)
}

/// Counts the operation `STUBS[stub]` about to run on vCPU `cpu` with
/// `args`.
pub fn start_op(cpu: u64, stub: usize, args: &[u64; 4]) {
    if let Some(c) = of(cpu) {
        c.current.store(stub as u64);
        for (w, &a) in c.args.iter().zip(args) {
            w.store(a);
        }
        if let Some(w) = current_class(c).and_then(|class| c.ops.get(class.index())) {
            bump(w);
        }
    }
}

/// The class of the operation running on `c`'s vCPU.
fn current_class(c: &Counters) -> Option<Class> {
    STUBS.get(usize::try_from(c.current.load()).ok()?).map(|s| s.class)
}

/// The name of the operation vCPU `cpu` runs (or ran last).
pub fn current_name(cpu: u64) -> &'static str {
    of(cpu)
        .and_then(|c| STUBS.get(usize::try_from(c.current.load()).ok()?))
        .map_or("?", |s| s.name)
}

/// Counts a finished operation on vCPU `cpu`.
pub fn end_op(cpu: u64) {
    if let Some(c) = of(cpu) {
        bump(&c.done);
    }
}

/// Counts a synchronous exception with syndrome `esr` taken by vCPU `cpu`
/// while it ran the operation it last started.
pub fn exception(cpu: u64, esr: u64) {
    let Some(c) = of(cpu) else { return };
    let esr = LocalRegisterCopy::<u64, ESR_EL1::Register>::new(esr);
    let ec = esr.read(ESR_EL1::EC);
    if let Some(w) = c.by_ec.get(ec as usize) {
        bump(w);
    }
    if ec == EC_DATA_ABORT_SAME_EL {
        if let Some(w) = c.by_dfsc.get((esr.read(ESR_EL1::ISS) & ISS_DFSC_MASK) as usize) {
            bump(w);
        }
    }
    if let Some(w) = current_class(c).and_then(|class| c.by_class.get(class.index())) {
        bump(w);
    }
}

/// Counts an SError or FIQ taken by vCPU `cpu`.
pub fn async_exception(cpu: u64) {
    if let Some(c) = of(cpu) {
        if let Some(w) = c.by_ec.get(EC_ASYNC_ROW) {
            bump(w);
        }
        if let Some(w) = current_class(c).and_then(|class| c.by_class.get(class.index())) {
            bump(w);
        }
    }
}
