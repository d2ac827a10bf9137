//! What the VM lends the vCPU to emulate an access without syndrome
//! ([`VmBus`]), and why an emulation did not happen ([`NotEmulated`]).

#![deny(unsafe_code)]

use axvcpu::AccessWidth;

use super::decode::Refusal;
use super::exec::{AccessFailed, ExecError};

/// The VM's side of an emulation: guest RAM for the instruction, emulated
/// devices for the data.
pub trait VmBus {
    /// The 4 bytes of guest RAM at `ipa` (little-endian), or `None` when
    /// `ipa..ipa + 4` is not all RAM of the VM.
    fn read_insn(&mut self, ipa: u64) -> Option<u32>;
    /// One access of `width` to the emulated device at `ipa` (see
    /// [`GuestMemory::access`](super::exec::GuestMemory::access)); fails
    /// when no device is there.
    fn device_access(&mut self, ipa: u64, width: AccessWidth, write: bool, data: u64) -> Result<u64, AccessFailed>;
}

/// Why the access of an exit was not emulated. The guest then takes an
/// external data abort at the faulting address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotEmulated {
    /// The last exit was not a data abort without syndrome.
    NoDataAbort,
    /// The guest ran AArch32 code (only A64 is decoded).
    Aarch32,
    /// The guest's data accesses are big-endian (`SCTLR_EL1.EE`/`E0E`).
    BigEndian,
    /// The instruction at this guest PC could not be read: it did not
    /// translate, or its IPA is not the VM's RAM.
    Fetch {
        /// The guest PC.
        pc: u64,
    },
    /// The instruction is not a load or store that is emulated.
    Decode {
        /// The instruction word.
        insn: u32,
        /// Why.
        refusal: Refusal,
    },
    /// An access of the instruction failed.
    Exec(ExecError),
}
