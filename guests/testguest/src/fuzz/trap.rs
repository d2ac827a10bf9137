//! The fuzz mode's side of the exception handler: while a vCPU fuzzes,
//! a synchronous exception taken by a fuzzed instruction (its `ELR_EL1` in
//! the stubs' code) is counted and skipped (`ELR_EL1` + 4: the stub's `NOP`
//! or, after an exception that returned past its instruction, its `RET`),
//! and an SError or FIQ is counted. Anything else goes on to the test
//! guest's handler, which reports it as a failure.

use aarch64_cpu::registers::{ESR_EL1, Readable};

use crate::cpu;
use crate::exception::{TrapFrame, VECTOR_CURRENT_SPX_SYNC};
use crate::platform::NUM_VCPUS;
use crate::shared::SharedWord;

use super::{stats, stubs};

/// Size of an A64 instruction.
const INSTRUCTION_SIZE: u64 = 4;
/// The FIQ and SError vectors of the current EL (SP0, SPx): asynchronous
/// exceptions.
const ASYNC_VECTORS: [u64; 4] = [2, 3, 6, 7];

/// Per vCPU: non-zero while it fuzzes.
static ACTIVE: [SharedWord; NUM_VCPUS] = [const { SharedWord::new(0) }; NUM_VCPUS];

/// Marks this vCPU as fuzzing (`true`) or not.
pub fn set_active(on: bool) {
    if let Some(w) = ACTIVE.get(cpu::index() as usize) {
        w.store(u64::from(on));
    }
}

/// Whether this vCPU fuzzes now.
fn active(cpu: u64) -> bool {
    ACTIVE.get(cpu as usize).is_some_and(|w| w.load() != 0)
}

/// Takes an exception on `vector` if this vCPU is fuzzing and the
/// exception is one the fuzzer expects (see the module doc); `false`
/// leaves it to the caller.
pub fn absorb(frame: &mut TrapFrame, vector: u64) -> bool {
    let cpu = cpu::index();
    if !active(cpu) {
        return false;
    }
    if vector == VECTOR_CURRENT_SPX_SYNC && stubs::code_range().contains(&frame.elr) {
        stats::exception(cpu, ESR_EL1.get());
        frame.elr = frame.elr.wrapping_add(INSTRUCTION_SIZE);
        return true;
    }
    if ASYNC_VECTORS.contains(&vector) {
        stats::async_exception(cpu);
        return true;
    }
    false
}
