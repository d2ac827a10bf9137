//! The emulated devices of a VM, behind one trait.
//!
//! # What it owns
//!
//! - [`BaseDeviceOps`], the interface of an emulated device: a name, the
//!   [`DeviceRange`] it claims (MMIO bytes, system registers or I/O ports),
//!   and `handle_read` / `handle_write` at an offset into that range.
//! - [`AxVmDevices`], one VM's devices in three sorted lists (MMIO, system
//!   registers, ports): registration that rejects empty, overflowing and
//!   overlapping ranges, lookup by binary search, and the routing of a
//!   guest access to the device that claims it, with
//!   [`AxError::NotFound`](axerrno::AxError::NotFound) for an address no
//!   device claims and
//!   [`AxError::InvalidInput`](axerrno::AxError::InvalidInput) for an access
//!   that is not fully inside one device.
//! - [`AxVmDevices::from_config`], which builds the devices of a VM config's
//!   `emu_devices` entries that this crate has models for, and names the
//!   entry it cannot build ([`DeviceConfigError`]).
//! - The device models:
//!   - [`Pl011`]: an ARM PL011 UART (transmit to a [`ConsoleSink`], a
//!     bounded receive FIFO fed by the host, the RX/TX/RT interrupt state
//!     driving its line into an [`IrqSink`], the ID registers); see
//!     [`pl011`];
//!   - [`Vgic`]: the VM's virtual GICv3, a distributor and one
//!     redistributor per vCPU as two MMIO devices, SGIs, PPIs, SPIs
//!     (driven by devices through [`IrqSink`]) and forwarded physical SPIs,
//!     delivered through the vCPUs' list registers (`axvcpu::ListRegs`);
//!     see [`vgic`];
//!   - [`Uart16550`]: a 16550A UART on x86 I/O ports (the x86 VM's
//!     console; see [`uart16550`]);
//!   - [`power`]: the x86 VM's power-off (ACPI PM1 control, `0x604`) and
//!     reset (`0xCF9`) ports, whose writes the VM layer turns into exits;
//!   - [`VLapic`]: an x86 vCPU's local APIC (xAPIC registers, timer, IPIs
//!     including INIT and STARTUP), driven per vCPU by the VM layer; see
//!     [`vlapic`];
//!   - [`DummyDevice`]: reads as zero, ignores writes;
//!   - [`TestDevice`]: the page the hypervisor's test guests probe (magic,
//!     scratch, sign-extension pattern, access counter); its layout is in
//!     [`test_device`].
//! - Console plumbing: [`ConsoleSink`], which the host implements, and
//!   [`LinePrefixer`] / [`PrefixingSink`], which tag each line of guest
//!   output with `[vm name]`.
//!
//! # What it does not own
//!
//! Decoding guest accesses (the arch vCPU crates produce an
//! `AxVCpuExitReason` with the address and width), injecting aborts, the
//! hardware side of interrupt delivery (the arch vCPU copies
//! `axvcpu::ListRegs` to and from the GIC's list registers, `axvm` runs the
//! [`Vgic`]'s flush/sync around each guest run, sends the kicks and unmasks
//! forwarded physical interrupts), stage-2 mappings, and the host console
//! (reached through [`ConsoleSink`]). The crate touches no hardware and has
//! no `unsafe` code.
//!
//! # Choices
//!
//! - **Guest input is hostile.** No path a guest reaches panics: guest
//!   addresses are added with checked arithmetic, an access that crosses a
//!   device's end or wraps the address space is refused, and every device
//!   answers an offset it does not know by reading zero and ignoring the
//!   write. Such accesses are logged once per device
//!   ([`UnhandledAccessLog`]; the vGIC's two devices log the first
//!   [`vgic::UNHANDLED_LOG_LIMIT`] each), not once per access, so a guest
//!   cannot flood the log. Queues are bounded: the PL011 receive FIFO refuses bytes when
//!   full and a [`LinePrefixer`] splits over-long lines.
//! - **Locks.** vCPUs on several physical CPUs may access the same device,
//!   so every device keeps its mutable state behind a
//!   [`kspin::SpinNoIrq`] (with kspin's `smp` feature, so that it really
//!   excludes other CPUs). It also masks local interrupts while held, so the
//!   host's console interrupt handler can call [`Pl011::push_rx`] on a CPU
//!   whose vCPU thread was interrupted inside the same device without
//!   deadlocking. Critical sections are a few register updates; the console
//!   sink is called after the device lock is released. An [`IrqSink`] is
//!   called under the device's lock (so that line levels arrive in order):
//!   the lock order is device, then vGIC, and the vGIC calls no device.
//! - **Interrupts leave devices through [`IrqSink`]** (a level per line),
//!   which the [`Vgic`] implements; the vGIC is pure state that the VM's
//!   vCPU loop drives, so all of it is tested on the build machine. [`AxVmDevices`]
//!   itself has no lock: devices are registered while the VM is built
//!   (`&mut self`) and only looked up afterwards (`&self`).
//! - **Widths.** [`AxVmDevices`] masks written values and read results to
//!   the access width, so a device model never sees bits outside it.
//!
//! # Tests
//!
//! `cargo test -p axdevice` runs every model and the routing on the build
//! machine.

#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

mod config;
mod console;
mod devices;
mod dummy;
mod ops;
pub mod pl011;
pub mod power;
mod range_list;
pub mod test_device;
pub mod uart16550;
mod unhandled;
pub mod vgic;
pub mod vlapic;
mod width;

#[cfg(test)]
mod tests;

pub use axerrno::{AxError, AxResult};
pub use config::{DeviceConfigError, DeviceConfigProblem, DeviceContext};
pub use console::{ConsoleSink, LinePrefixer, PrefixingSink};
pub use devices::{AxVmDevices, ConsoleUart};
pub use dummy::DummyDevice;
pub use ops::{BaseDeviceOps, DeviceRange, RangeKind};
pub use pl011::{PL011_SIZE, Pl011};
pub use power::{PowerLatch, PowerRequest};
pub use test_device::{TEST_DEVICE_MAGIC, TEST_DEVICE_SIZE, TestDevice};
pub use uart16550::Uart16550;
pub use unhandled::UnhandledAccessLog;
pub use vgic::{IrqSink, Vgic, VgicLayout};
pub use vlapic::VLapic;
