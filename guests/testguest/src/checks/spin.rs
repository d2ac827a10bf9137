//! The spin mode: VM [`SPIN_VM_ID`] spins forever with every interrupt
//! masked, so that a QEMU test can check that the hypervisor still gives
//! the other vCPUs of a shared physical CPU their time (only the host's
//! timer takes this vCPU off its CPU).
//!
//! The loop makes no exit of its own: no `WFI`, no `WFE`, no hypercall, no
//! device access; `DAIF` is all set, so not even a virtual interrupt would
//! reach it.

use core::arch::asm;

use crate::hvc;
use crate::platform::SPIN_VM_ID;

/// Masks debug, SError, IRQ and FIQ (`DAIF` all set) and spins forever.
fn spin_masked() -> ! {
    // SAFETY: only PSTATE.DAIF changes; this vCPU does nothing else from
    // here on.
    unsafe { asm!("msr daifset, #0xf", "isb", options(nostack, preserves_flags)) };
    loop {
        core::hint::spin_loop();
    }
}

/// In VM [`SPIN_VM_ID`], announces the spin and spins forever; in any
/// other VM, returns at once.
pub fn run() {
    if hvc::vm_id() != SPIN_VM_ID {
        return;
    }
    println!("testguest: VM {} spins with interrupts masked", SPIN_VM_ID);
    spin_masked()
}
