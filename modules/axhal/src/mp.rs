//! Starting secondary CPUs (PSCI CPU_ON).

use crate::arch::{power, secondary_entry};

/// Why a CPU did not start.
#[derive(Debug)]
pub enum StartError {
    /// The logical id is beyond what the kernel has stacks and per-CPU
    /// areas for.
    TooMany,
    /// The firmware refused (the PSCI error).
    Firmware(smccc::psci::Error),
}

/// Starts the CPU with affinity `mpidr` as logical CPU `cpu_id`; it enters
/// the runtime's `rust_main_secondary(cpu_id)` with the MMU on.
pub fn start_secondary_cpu(cpu_id: usize, mpidr: u64) -> Result<(), StartError> {
    if cpu_id >= axconfig::cpu::MAX_NUM {
        return Err(StartError::TooMany);
    }
    let entry = secondary_entry as *const () as usize;
    power::cpu_on(mpidr, entry, cpu_id as u64).map_err(StartError::Firmware)
}
