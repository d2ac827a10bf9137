//! The generic timer: the system counter for time, and the EL2 physical
//! timer (CNTHP, PPI 26 on QEMU virt) for the host's one-shot deadlines.

use aarch64_cpu::registers::*;

/// Counter ticks per second (CNTFRQ_EL0).
pub fn frequency() -> u64 {
    CNTFRQ_EL0.get()
}

/// Current value of the physical system counter.
pub fn ticks() -> u64 {
    CNTPCT_EL0.get()
}

/// Arms the EL2 physical timer to fire `delta` counter ticks from now.
pub fn set_oneshot_in(delta: u64) {
    let tval = delta.min(i32::MAX as u64);
    // SAFETY: writing the EL2 physical timer's downcounter only schedules
    // this CPU's timer interrupt.
    unsafe { core::arch::asm!("msr cnthp_tval_el2, {}", in(reg) tval) };
    CNTHP_CTL_EL2.write(CNTHP_CTL_EL2::ENABLE::SET + CNTHP_CTL_EL2::IMASK::CLEAR);
}
