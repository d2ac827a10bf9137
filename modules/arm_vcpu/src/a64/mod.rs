//! Emulating an A64 load or store that faulted without a syndrome.
//!
//! A data abort on an emulated device's address carries a usable
//! instruction syndrome (`ESR_EL2.ISV` = 1) only for a single load or store
//! of one general-purpose register without write-back. Everything else a
//! CPU does to memory (pairs, write-back forms, exclusives, SIMD&FP
//! registers, `DC ZVA`, ...) arrives with ISV = 0 and has to be decoded
//! from the instruction itself. This module does that without touching
//! hardware:
//!
//! - [`decode()`]: the instruction word to a [`MemOp`], a description of
//!   every access it makes, or a [`Refusal`];
//! - [`exec`]: performs a [`MemOp`] on a register file ([`Registers`]) and
//!   a memory ([`GuestMemory`]) given as traits, so the hardware vCPU and
//!   the unit tests' mocks drive the same code.
//!
//! The hardware vCPU (`Aarch64VCpu::emulate_no_syndrome`) supplies the
//! instruction word (read from guest RAM at `ELR_EL2` through
//! [`VmBus::read_insn`]), the registers and the stage-1 translation; the
//! VM supplies the device accesses ([`VmBus::device_access`]). Whatever
//! cannot be emulated ([`NotEmulated`]) becomes an external data abort in
//! the guest.

pub mod decode;
mod emulate;
pub mod exec;
mod fields;

pub use decode::{MemOp, Refusal, decode};
pub use emulate::{NotEmulated, VmBus};
pub use exec::{AccessFailed, ExecError, FaultContext, GuestMemory, Registers, execute};
