//! The generic timer's virtual counter, for timeouts and benchmarks.

use aarch64_cpu::asm::barrier::{SY, isb};
use aarch64_cpu::registers::{CNTFRQ_EL0, CNTVCT_EL0, Readable};

/// Counter frequency assumed when `CNTFRQ_EL0` reads 0 (nobody set it):
/// QEMU's traditional 62.5 MHz. Only timeouts use it.
const FALLBACK_FREQUENCY_HZ: u64 = 62_500_000;

/// The virtual counter, after an `ISB` so that the read is not taken early.
pub fn counter() -> u64 {
    isb(SY);
    CNTVCT_EL0.get()
}

/// The counter frequency in Hz as `CNTFRQ_EL0` reports it (0 if unset).
pub fn frequency() -> u64 {
    CNTFRQ_EL0.get()
}

/// Counter ticks per second for timeouts: [`frequency`], or QEMU's
/// 62.5 MHz when it reads 0.
pub fn ticks_per_second() -> u64 {
    match frequency() {
        0 => FALLBACK_FREQUENCY_HZ,
        hz => hz,
    }
}

/// Spins until the counter reaches `deadline`.
pub fn spin_until(deadline: u64) {
    while counter() < deadline {
        core::hint::spin_loop();
    }
}

/// Spins until `done` returns true or `seconds` of counter time pass.
/// Returns whether `done` became true.
pub fn wait_until(seconds: u64, mut done: impl FnMut() -> bool) -> bool {
    let deadline = counter().saturating_add(ticks_per_second().saturating_mul(seconds));
    loop {
        if done() {
            return true;
        }
        if counter() >= deadline {
            // One last look, so a condition met during the final read counts.
            return done();
        }
        core::hint::spin_loop();
    }
}
