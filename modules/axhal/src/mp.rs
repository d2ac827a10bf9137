//! Starting secondary CPUs (PSCI CPU_ON).

use crate::arch::{power, secondary_entry};

/// Why a CPU did not start.
pub enum StartError {
    /// The logical id is beyond what the kernel has stacks and per-CPU
    /// areas for.
    TooMany,
    /// The firmware refused (the PSCI error).
    Firmware(smccc::psci::Error),
}

/// As a derived `Debug` writes it (`Firmware(Denied)`), by hand: the
/// derived one of the PSCI error links `i64`'s `Debug` (hex and decimal
/// forms) for its `Unknown` variant, about 1.5 KiB of code for one
/// message.
impl core::fmt::Debug for StartError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use smccc::psci::Error as E;
        let name = match self {
            Self::TooMany => "TooMany",
            Self::Firmware(E::NotSupported) => "Firmware(NotSupported)",
            Self::Firmware(E::InvalidParameters) => "Firmware(InvalidParameters)",
            Self::Firmware(E::Denied) => "Firmware(Denied)",
            Self::Firmware(E::AlreadyOn) => "Firmware(AlreadyOn)",
            Self::Firmware(E::OnPending) => "Firmware(OnPending)",
            Self::Firmware(E::InternalFailure) => "Firmware(InternalFailure)",
            Self::Firmware(E::NotPresent) => "Firmware(NotPresent)",
            Self::Firmware(E::Disabled) => "Firmware(Disabled)",
            Self::Firmware(E::InvalidAddress) => "Firmware(InvalidAddress)",
            Self::Firmware(E::Unknown(n)) => {
                let sign = if *n < 0 { "-" } else { "" };
                return write!(f, "Firmware(Unknown({sign}{}))", n.unsigned_abs());
            }
        };
        f.write_str(name)
    }
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
