//! Facts about the vCPU the code runs on, the idle end of a vCPU, and the
//! pause of a spin loop.

use core::arch::asm;

use aarch64_cpu::asm::wfi;
use aarch64_cpu::registers::{MPIDR_EL1, Readable};

/// The raw `MPIDR_EL1` of this vCPU.
pub fn mpidr() -> u64 {
    MPIDR_EL1.get()
}

/// This vCPU's index: its MPIDR affinity level 0.
pub fn index() -> u64 {
    MPIDR_EL1.read(MPIDR_EL1::Aff0)
}

/// Stops this vCPU for good: interrupts stay masked, so it sleeps in `WFI`.
pub fn halt() -> ! {
    loop {
        wfi();
    }
}

/// One pause of a spin loop: `YIELD`, what kvm-unit-tests' `cpu_relax`
/// is on arm64 (`core::hint::spin_loop` is an `ISB` there instead). Under
/// QEMU's single-threaded TCG (`-icount`) a `YIELD` hands the thread to the
/// next emulated CPU, so a spinning vCPU does not hold back the one it
/// waits for; under multi-threaded TCG and on hardware it is a hint only.
pub fn relax() {
    // SAFETY: a hint; no memory, register or flag changes.
    unsafe { asm!("yield", options(nomem, nostack, preserves_flags)) };
}
