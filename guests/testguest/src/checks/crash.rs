//! The crash mode: VM [`CRASH_VM_ID`] makes an access it cannot survive, so
//! that the QEMU test can check that the hypervisor stops a faulting VM
//! while the others run on.
//!
//! The guest clears `VBAR_EL1` (no vector table: the vectors would be at
//! guest address 0, where nothing is mapped) and loads from
//! [`UNMAPPED_ADDR`]. The hypervisor cannot deliver that abort to a
//! working handler and is expected to stop the VM.

use core::arch::asm;

use crate::platform::{CRASH_VM_ID, UNMAPPED_ADDR};
use crate::{cpu, hvc, psci};

/// Clears `VBAR_EL1` and loads from [`UNMAPPED_ADDR`]; returns the loaded
/// value if execution ever comes back.
///
/// # Safety
///
/// Only for the crash mode: afterwards this vCPU has no exception vectors,
/// so any exception it takes is lost with it.
unsafe fn crash() -> u64 {
    let value;
    // SAFETY: the caller accepts losing the vectors; the load touches no
    // memory of this program (nothing is mapped at UNMAPPED_ADDR).
    unsafe {
        asm!(
            "msr vbar_el1, xzr",
            "isb",
            "ldr {v}, [{a}]",
            a = in(reg) UNMAPPED_ADDR,
            v = lateout(reg) value,
            options(nostack, preserves_flags),
        );
    }
    value
}

/// In VM [`CRASH_VM_ID`], announces the crash and crashes; in any other VM,
/// returns at once. Should the crash be survived, prints
/// `FAIL crash mode survived` and powers the VM off.
pub fn run() {
    if hvc::vm_id() != CRASH_VM_ID {
        return;
    }
    println!("testguest: VM {} crashes on purpose", CRASH_VM_ID);
    // SAFETY: this is the crash mode; the VM ends here either way.
    let _ = unsafe { crash() };
    println!("FAIL crash mode survived");
    let ret = psci::system_off();
    println!("FAIL system_off returned {}", ret);
    cpu::halt()
}
