//! The generic timer: the virtual counter, for timeouts and benchmarks;
//! the physical counter; and the EL1 virtual and physical timers, whose
//! interrupts the interrupt checks take.

use aarch64_cpu::asm::barrier::{SY, isb};
use aarch64_cpu::registers::{
    CNTFRQ_EL0, CNTP_CTL_EL0, CNTP_CVAL_EL0, CNTPCT_EL0, CNTV_CTL_EL0, CNTV_CVAL_EL0, CNTVCT_EL0, Readable, Writeable,
};

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

/// The physical counter (`CNTPCT_EL0`), after an `ISB`. It runs ahead of
/// [`counter`] by the VM's `CNTVOFF_EL2` (zero under this hypervisor).
pub fn physical_counter() -> u64 {
    isb(SY);
    CNTPCT_EL0.get()
}

/// Counter ticks in `ms` milliseconds (at least 1).
pub fn ms_to_ticks(ms: u64) -> u64 {
    (ticks_per_second().saturating_mul(ms) / 1000).max(1)
}

/// Arms the EL1 virtual timer: its interrupt condition is met once
/// [`counter`] reaches `cval`; the interrupt is not masked at the timer.
pub fn vtimer_arm(cval: u64) {
    CNTV_CVAL_EL0.set(cval);
    CNTV_CTL_EL0.write(CNTV_CTL_EL0::ENABLE::SET + CNTV_CTL_EL0::IMASK::CLEAR);
    isb(SY);
}

/// Moves the compare value of the (armed) virtual timer to `cval`.
pub fn vtimer_set_cval(cval: u64) {
    CNTV_CVAL_EL0.set(cval);
    isb(SY);
}

/// The virtual timer's compare value.
pub fn vtimer_cval() -> u64 {
    CNTV_CVAL_EL0.get()
}

/// Masks the virtual timer's interrupt at the timer, leaving it enabled
/// (`CNTV_CTL_EL0` = `IMASK` | `ENABLE`): its interrupt line drops.
pub fn vtimer_mask() {
    CNTV_CTL_EL0.write(CNTV_CTL_EL0::ENABLE::SET + CNTV_CTL_EL0::IMASK::SET);
    isb(SY);
}

/// Turns the virtual timer off (`CNTV_CTL_EL0` = 0): its interrupt line
/// drops.
pub fn vtimer_stop() {
    CNTV_CTL_EL0.set(0);
    isb(SY);
}

/// Arms the EL1 physical timer: its interrupt condition is met once
/// [`physical_counter`] reaches `cval`.
pub fn ptimer_arm(cval: u64) {
    CNTP_CVAL_EL0.set(cval);
    CNTP_CTL_EL0.write(CNTP_CTL_EL0::ENABLE::SET + CNTP_CTL_EL0::IMASK::CLEAR);
    isb(SY);
}

/// Turns the physical timer off (`CNTP_CTL_EL0` = 0).
pub fn ptimer_stop() {
    CNTP_CTL_EL0.set(0);
    isb(SY);
}

/// Spins until the counter reaches `deadline`.
pub fn spin_until(deadline: u64) {
    while counter() < deadline {
        core::hint::spin_loop();
    }
}

/// Spins until `done` returns true or `seconds` of counter time pass.
/// Returns whether `done` became true.
pub fn wait_until(seconds: u64, done: impl FnMut() -> bool) -> bool {
    wait_ticks(ticks_per_second().saturating_mul(seconds), done)
}

/// Spins until `done` returns true or `ms` milliseconds of counter time
/// pass. Returns whether `done` became true.
pub fn wait_ms(ms: u64, done: impl FnMut() -> bool) -> bool {
    wait_ticks(ms_to_ticks(ms), done)
}

/// Spins until `done` returns true or `ticks` of counter time pass.
/// Returns whether `done` became true.
pub fn wait_ticks(ticks: u64, mut done: impl FnMut() -> bool) -> bool {
    let deadline = counter().saturating_add(ticks);
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
