//! The time-stamp counter: the benchmarks' clock and the bound on every
//! wait.
//!
//! The guest does not know the counter's frequency (neither QEMU nor the
//! contract tells it), so waits are bounded in counter ticks, generously:
//! [`TIMEOUT_TICKS`] is a few seconds at the few GHz a TSC runs at, and
//! still 1 s at 2^32 ticks per second.

use core::arch::x86_64::_rdtsc;

/// How long a wait for an event that should come in milliseconds may last
/// before the check fails, in TSC ticks.
pub const TIMEOUT_TICKS: u64 = 1 << 33;

/// Reads the time-stamp counter.
pub fn now() -> u64 {
    // SAFETY: RDTSC reads a counter; the guest never sets CR4.TSD, so it is
    // allowed at every privilege level.
    unsafe { _rdtsc() }
}

/// Spins until `done` returns true or [`TIMEOUT_TICKS`] pass; returns
/// whether `done` did.
pub fn wait_until(mut done: impl FnMut() -> bool) -> bool {
    let start = now();
    loop {
        if done() {
            return true;
        }
        if now().wrapping_sub(start) > TIMEOUT_TICKS {
            return done();
        }
        core::hint::spin_loop();
    }
}

/// Spins for `ticks` TSC ticks.
pub fn delay(ticks: u64) {
    let start = now();
    while now().wrapping_sub(start) < ticks {
        core::hint::spin_loop();
    }
}
