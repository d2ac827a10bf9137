//! PSCI 1.1 calls (power state coordination), through either conduit.

use crate::hvc::{self, Conduit};

/// `PSCI_VERSION`.
pub const PSCI_VERSION: u64 = 0x8400_0000;
/// `CPU_OFF`.
pub const CPU_OFF: u64 = 0x8400_0002;
/// `SYSTEM_OFF`.
pub const SYSTEM_OFF: u64 = 0x8400_0008;
/// `PSCI_FEATURES`.
pub const PSCI_FEATURES: u64 = 0x8400_000A;
/// `CPU_ON`, SMC64 convention.
pub const CPU_ON_64: u64 = 0xC400_0003;
/// `AFFINITY_INFO`, SMC64 convention.
pub const AFFINITY_INFO_64: u64 = 0xC400_0004;

/// The version this guest expects: major 1 in bits \[31:16\], minor 1.
pub const VERSION_1_1: u32 = 0x0001_0001;

/// Return code: success.
pub const SUCCESS: i32 = 0;
/// Return code of `CPU_ON`: the target is already on.
pub const ALREADY_ON: i32 = -4;
/// Return code of `CPU_ON`: an earlier `CPU_ON` of the target is still
/// being carried out.
pub const ON_PENDING: i32 = -5;

/// What `AFFINITY_INFO` reports about a vCPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AffinityState {
    /// 0: running.
    On,
    /// 1: off.
    Off,
    /// 2: `CPU_ON` accepted, not running yet.
    OnPending,
    /// Anything else: an error code.
    Error(i32),
}

impl AffinityState {
    fn from_raw(raw: i32) -> Self {
        match raw {
            0 => AffinityState::On,
            1 => AffinityState::Off,
            2 => AffinityState::OnPending,
            error => AffinityState::Error(error),
        }
    }
}

/// PSCI return values are 32-bit signed, whatever the calling convention.
fn status(x0: u64) -> i32 {
    x0 as u32 as i32
}

/// `PSCI_VERSION` through `conduit`.
pub fn version(conduit: Conduit) -> u32 {
    // SAFETY: PSCI_VERSION has no side effects.
    unsafe { hvc::call(conduit, PSCI_VERSION, [0; 3]) as u32 }
}

/// `PSCI_FEATURES` of `function`: 0 (or feature flags) when implemented,
/// negative when not.
pub fn features(function: u64) -> i32 {
    // SAFETY: PSCI_FEATURES has no side effects.
    status(unsafe { hvc::call(Conduit::Hvc, PSCI_FEATURES, [function, 0, 0]) })
}

/// `CPU_ON`: starts the vCPU with MPIDR affinity `target` at physical
/// address `entry` (MMU off, EL1h) with `context` in its `X0`.
///
/// # Safety
///
/// `entry` must be code that can start on a fresh vCPU with only `X0` set
/// (it sets up its own stack).
pub unsafe fn cpu_on(target: u64, entry: u64, context: u64) -> i32 {
    // SAFETY: the caller vouches for the entry point.
    status(unsafe { hvc::call(Conduit::Hvc, CPU_ON_64, [target, entry, context]) })
}

/// `AFFINITY_INFO` of the vCPU with MPIDR affinity `target` (level 0).
pub fn affinity_info(target: u64) -> AffinityState {
    // SAFETY: AFFINITY_INFO has no side effects.
    AffinityState::from_raw(status(unsafe {
        hvc::call(Conduit::Hvc, AFFINITY_INFO_64, [target, 0, 0])
    }))
}

/// `CPU_OFF`: stops the calling vCPU. Returns only on failure, with the
/// error code.
pub fn cpu_off() -> i32 {
    // SAFETY: stopping this vCPU loses nothing another vCPU relies on; the
    // caller has published what it had to.
    status(unsafe { hvc::call(Conduit::Hvc, CPU_OFF, [0; 3]) })
}

/// `SYSTEM_OFF` through `HVC`. Returns only on failure, with the error code.
pub fn system_off() -> i32 {
    // SAFETY: powering the VM off ends the program; nothing is left to break.
    status(unsafe { hvc::call(Conduit::Hvc, SYSTEM_OFF, [0; 3]) })
}
