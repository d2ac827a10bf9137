//! Powering the VM (or bare QEMU) off.

use core::sync::atomic::{AtomicBool, Ordering};

use crate::cpu;
use crate::platform::{ISA_DEBUG_EXIT_PORT, POWER_OFF_PORT, POWER_OFF_VALUE};
use crate::{port, tsc};

/// What the guest writes to QEMU's `isa-debug-exit` when the power-off port
/// did not stop a bare QEMU: QEMU then exits with status `(0x10 << 1) | 1`
/// = 33.
const DEBUG_EXIT_VALUE: u8 = 0x10;

/// Set on bare QEMU (no hypervisor): [`off`] may fall back to
/// `isa-debug-exit`.
static BARE: AtomicBool = AtomicBool::new(false);

/// Lets [`off`] fall back to QEMU's `isa-debug-exit` port (bare QEMU only:
/// the hypervisor's VM has no device there).
pub fn allow_debug_exit() {
    BARE.store(true, Ordering::Relaxed);
}

/// How long the machine may take to stop after the write, in TSC ticks:
/// QEMU handles a shutdown request in its main loop, while the vCPU runs on
/// for a moment.
const STOP_WAIT_TICKS: u64 = 1 << 31;

/// Writes `SLP_EN` with S5 to the PM1a control port; if execution goes on
/// on bare QEMU, writes its `isa-debug-exit` port. Returns only if that
/// did not stop the machine either (each given [`STOP_WAIT_TICKS`]).
pub fn off() {
    // SAFETY: the contract's power-off port (and QEMU q35's PM1a control):
    // the write stops the machine, which is what every caller wants.
    unsafe { port::outw(POWER_OFF_PORT, POWER_OFF_VALUE) };
    tsc::delay(STOP_WAIT_TICKS);
    if BARE.load(Ordering::Relaxed) {
        // SAFETY: on bare QEMU only, where run-bare.sh puts isa-debug-exit
        // at this port (without it the write is ignored).
        unsafe { port::outb(ISA_DEBUG_EXIT_PORT, DEBUG_EXIT_VALUE) };
        tsc::delay(STOP_WAIT_TICKS);
    }
}

/// Powers off; if that returns, prints `FAIL power off returned` and halts.
pub fn off_or_halt() -> ! {
    off();
    println!("FAIL power off returned");
    cpu::halt()
}
