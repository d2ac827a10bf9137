//! What differs between architectures: the vCPU type and how a VM config
//! becomes its create and setup parameters, the stage-2 table, whether the
//! VM has a virtual GIC or PC devices (local APICs, power ports). One
//! folder or file per architecture (`aarch64.rs`, `x86_64/`), and
//! `mock.rs` for the build machine's unit tests (a scripted vCPU).

use crate::AxVMConfig;

/// x0 of a vCPU when it starts: the device tree's load address (the
/// config's `dtb_load_addr` or its default place, already resolved by
/// `axvmconfig`), or 0 for a VM without a tree.
#[cfg_attr(all(target_arch = "x86_64", target_os = "none"), allow(dead_code))]
fn boot_x0(config: &AxVMConfig) -> usize {
    config.image_config().dtb_load_gpa.unwrap_or(0)
}

#[cfg(all(target_arch = "aarch64", target_os = "none"))]
mod aarch64;
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
use aarch64 as imp;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
mod x86_64;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
use self::x86_64 as imp;

#[cfg(not(target_os = "none"))]
mod mock;
#[cfg(not(target_os = "none"))]
use mock as imp;

// The NPT is portable code: its tests run on the build machine.
#[cfg(all(test, target_arch = "x86_64", not(target_os = "none")))]
#[path = "x86_64/npt.rs"]
#[allow(dead_code)]
mod npt_tests;

pub use imp::{ArchPerCpu, ArchVCpu, backend_name};
pub(crate) use imp::{
    HAS_GIC, PC_DEVICES, Stage2, counter_offset, create_config, emulate_without_syndrome, is_guest_owned_irq,
    mmio_read_value, new_stage2, setup_config,
};

/// What became of a device access that the vCPU reported without the
/// syndrome needed to emulate it (a `NestedPageFault` on a device).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoSyndrome {
    /// The vCPU decoded the instruction and performed it; the guest
    /// continues after it.
    #[cfg_attr(all(target_arch = "x86_64", target_os = "none"), allow(dead_code))]
    Emulated,
    /// It cannot be emulated (undecodable, an access that failed): the
    /// guest takes the access abort of the exit.
    #[cfg_attr(all(target_arch = "x86_64", target_os = "none"), allow(dead_code))]
    Refused,
    /// This architecture does not emulate such accesses: stop the VM.
    #[cfg_attr(not(all(target_arch = "x86_64", target_os = "none")), allow(dead_code))]
    Unsupported,
}
