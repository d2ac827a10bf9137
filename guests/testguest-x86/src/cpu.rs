//! The vCPU the code runs on: interrupts on and off, halting.

use core::arch::asm;

/// Stops this vCPU for good: interrupts off, `HLT` in a loop.
pub fn halt() -> ! {
    loop {
        // SAFETY: CLI and HLT change no memory; with interrupts off the
        // vCPU sleeps until an NMI or INIT, and then sleeps again.
        unsafe { asm!("cli", "hlt", options(nomem, nostack)) };
    }
}

/// Enables interrupts, waits in `HLT` for one and disables them again; the
/// handler runs between `HLT` and `CLI`. `STI` delays interrupts by one
/// instruction, so one that is already pending wakes the `HLT` rather than
/// being taken before it.
pub fn wait_for_interrupt() {
    // SAFETY: the IDT is loaded, so any interrupt has a handler; no memory
    // of this program is touched here (the handler's effects are seen
    // through atomics).
    unsafe { asm!("sti", "hlt", "cli", options(nostack)) };
}

/// Enables interrupts.
pub fn enable_interrupts() {
    // SAFETY: the IDT is loaded, so any interrupt has a handler.
    unsafe { asm!("sti", options(nostack)) };
}

/// Disables interrupts.
pub fn disable_interrupts() {
    // SAFETY: CLI only masks interrupts.
    unsafe { asm!("cli", options(nostack)) };
}
