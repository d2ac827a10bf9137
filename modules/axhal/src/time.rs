//! Time since boot from the system counter (aarch64) or the TSC (x86_64),
//! and one-shot timer deadlines.

use crate::arch::timer;
use crate::mul_div::mul_div;

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// Current counter value.
pub fn current_ticks() -> u64 {
    timer::ticks()
}

/// Counter ticks per second.
pub fn ticks_per_sec() -> u64 {
    timer::frequency()
}

/// Converts counter ticks to nanoseconds.
pub fn ticks_to_nanos(ticks: u64) -> u64 {
    mul_div(ticks, NANOS_PER_SEC, timer::frequency().max(1))
}

/// Converts nanoseconds to counter ticks.
pub fn nanos_to_ticks(nanos: u64) -> u64 {
    mul_div(nanos, timer::frequency(), NANOS_PER_SEC)
}

/// Nanoseconds since the counter started (boot, on QEMU).
pub fn current_time_nanos() -> u64 {
    ticks_to_nanos(timer::ticks())
}

/// Arms this CPU's timer interrupt to fire `nanos` from now.
pub fn set_oneshot_in_nanos(nanos: u64) {
    timer::set_oneshot_in(nanos_to_ticks(nanos));
}

/// Makes this CPU's timer interrupt come no later than counter value
/// `deadline` (it stays earlier if it already is); the interrupt wakes a
/// CPU waiting in WFI (HLT). The periodic tick goes on after it.
pub fn wake_no_later_than_ticks(deadline: u64) {
    timer::fire_no_later_than(deadline);
}

/// The host timer interrupt: its INTID (aarch64) or vector (x86_64).
pub fn timer_irq() -> u32 {
    timer::irq()
}
