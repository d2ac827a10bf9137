//! Facts about the vCPU the code runs on, and the idle end of a vCPU.

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
