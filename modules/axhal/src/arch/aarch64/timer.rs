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

/// Moves the EL2 physical timer's next interrupt earlier, to counter value
/// `deadline`, if it is armed for later (or not armed); never later.
pub fn fire_no_later_than(deadline: u64) {
    let cval: u64;
    // SAFETY: reading the EL2 physical timer's compare value has no side
    // effect.
    unsafe { core::arch::asm!("mrs {}, cnthp_cval_el2", out(reg) cval, options(nomem, nostack)) };
    let armed = CNTHP_CTL_EL2.is_set(CNTHP_CTL_EL2::ENABLE) && !CNTHP_CTL_EL2.is_set(CNTHP_CTL_EL2::IMASK);
    if armed && cval <= deadline {
        return;
    }
    // SAFETY: writing the compare value only schedules this CPU's timer
    // interrupt (the tick handler re-arms its period when it fires).
    unsafe { core::arch::asm!("msr cnthp_cval_el2, {}", in(reg) deadline, options(nomem, nostack)) };
    CNTHP_CTL_EL2.write(CNTHP_CTL_EL2::ENABLE::SET + CNTHP_CTL_EL2::IMASK::CLEAR);
}

/// Arms the EL2 physical timer to fire `delta` counter ticks from now.
pub fn set_oneshot_in(delta: u64) {
    let tval = delta.min(i32::MAX as u64);
    // SAFETY: writing the EL2 physical timer's downcounter only schedules
    // this CPU's timer interrupt.
    unsafe { core::arch::asm!("msr cnthp_tval_el2, {}", in(reg) tval) };
    CNTHP_CTL_EL2.write(CNTHP_CTL_EL2::ENABLE::SET + CNTHP_CTL_EL2::IMASK::CLEAR);
}

/// INTID of the host timer interrupt (the EL2 physical timer's PPI).
pub fn irq() -> u32 {
    crate::platform::info()
        .hyp_timer_intid
        .unwrap_or(axconfig::devices::TIMER_IRQ as u32)
}
