//! The x86 VM's power ports: the ACPI PM1 control register (a write with
//! SLP_EN powers the VM off) and the reset control register at `0xCF9`
//! (a write with RST_CPU resets it), as QEMU's q35 machine has them.
//!
//! The devices only record the request ([`PowerLatch`]); the VM layer
//! takes it after the port write ([`AxVmDevices::take_power_request`]) and
//! returns the matching exit, so the VM manager stops or restarts the VM.
//!
//! [`AxVmDevices::take_power_request`]: crate::AxVmDevices::take_power_request

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU8, Ordering};

use axerrno::AxResult;
use axvcpu::{AccessWidth, Port};

use crate::{BaseDeviceOps, DeviceRange};

/// The PM1 control port of the x86 VM (QEMU q35's, PMBASE 0x600 + 4).
pub const PM1_CONTROL_PORT: u16 = 0x604;
/// The reset control port of a PC.
pub const RESET_CONTROL_PORT: u16 = 0xcf9;
/// PM1 control: SLP_EN (bit 13), enter the sleep state SLP_TYP names; every
/// sleep state is "off" for a VM.
pub const PM1_SLP_EN: u64 = 1 << 13;
/// Reset control: RST_CPU (bit 2) starts the reset (SYS_RST, bit 1, makes
/// it a full one; both are a VM reset here).
pub const RESET_RST_CPU: u64 = 1 << 2;

/// What a guest asked of its power ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerRequest {
    /// Power the VM off.
    Off,
    /// Reset the VM.
    Reset,
}

const NONE: u8 = 0;
const OFF: u8 = 1;
const RESET: u8 = 2;

/// The last power request of a VM, until the VM layer takes it.
#[derive(Debug, Default)]
pub struct PowerLatch(AtomicU8);

impl PowerLatch {
    /// Nothing requested.
    pub const fn new() -> Self {
        Self(AtomicU8::new(NONE))
    }

    fn set(&self, request: PowerRequest) {
        let v = match request {
            PowerRequest::Off => OFF,
            PowerRequest::Reset => RESET,
        };
        self.0.store(v, Ordering::Release);
    }

    /// Takes the request, if there is one.
    pub fn take(&self) -> Option<PowerRequest> {
        match self.0.swap(NONE, Ordering::AcqRel) {
            OFF => Some(PowerRequest::Off),
            RESET => Some(PowerRequest::Reset),
            _ => None,
        }
    }
}

/// Which of the two registers a [`PowerPort`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerPortKind {
    /// PM1 control, 2 ports.
    Pm1Control,
    /// Reset control, 1 port.
    ResetControl,
}

/// One power register on port I/O; reads return zero.
pub struct PowerPort {
    kind: PowerPortKind,
    port: Port,
    latch: Arc<PowerLatch>,
}

impl PowerPort {
    /// The register `kind` at `port`, recording into `latch`.
    pub fn new(kind: PowerPortKind, port: Port, latch: Arc<PowerLatch>) -> Self {
        Self { kind, port, latch }
    }
}

impl BaseDeviceOps for PowerPort {
    fn name(&self) -> &str {
        match self.kind {
            PowerPortKind::Pm1Control => "pm1-control",
            PowerPortKind::ResetControl => "reset-control",
        }
    }

    fn address_range(&self) -> DeviceRange {
        let len = match self.kind {
            PowerPortKind::Pm1Control => 1,
            PowerPortKind::ResetControl => 0,
        };
        DeviceRange::Port {
            first: self.port,
            last: Port::new(self.port.number().saturating_add(len)),
        }
    }

    fn handle_read(&self, _offset: usize, _width: AccessWidth) -> AxResult<u64> {
        Ok(0)
    }

    fn handle_write(&self, offset: usize, _width: AccessWidth, value: u64) -> AxResult {
        // The register's value as if written whole (a byte write to its
        // second port is its high byte).
        let shift = (offset.min(1) * 8) as u32;
        let value = value << shift;
        match self.kind {
            PowerPortKind::Pm1Control if value & PM1_SLP_EN != 0 => self.latch.set(PowerRequest::Off),
            PowerPortKind::ResetControl if value & RESET_RST_CPU != 0 => self.latch.set(PowerRequest::Reset),
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AxVmDevices;

    fn devices() -> AxVmDevices {
        let mut d = AxVmDevices::new();
        d.add_power_ports().unwrap();
        d
    }

    #[test]
    fn slp_en_powers_off() {
        let d = devices();
        assert_eq!(d.take_power_request(), None);
        d.handle_port_write(Port::new(0x604), AccessWidth::Word, 0x2000)
            .unwrap();
        assert_eq!(d.take_power_request(), Some(PowerRequest::Off));
        assert_eq!(d.take_power_request(), None);
        // SLP_TYP alone is not a request; a byte write of the high half is.
        d.handle_port_write(Port::new(0x604), AccessWidth::Word, 0x1c00)
            .unwrap();
        assert_eq!(d.take_power_request(), None);
        d.handle_port_write(Port::new(0x605), AccessWidth::Byte, 0x20).unwrap();
        assert_eq!(d.take_power_request(), Some(PowerRequest::Off));
        assert_eq!(d.handle_port_read(Port::new(0x604), AccessWidth::Word), Ok(0));
    }

    #[test]
    fn cf9_six_resets() {
        let d = devices();
        d.handle_port_write(Port::new(0xcf9), AccessWidth::Byte, 0x02).unwrap();
        assert_eq!(d.take_power_request(), None);
        d.handle_port_write(Port::new(0xcf9), AccessWidth::Byte, 0x06).unwrap();
        assert_eq!(d.take_power_request(), Some(PowerRequest::Reset));
    }

    #[test]
    fn a_vm_without_the_ports_has_no_request() {
        let d = AxVmDevices::new();
        assert_eq!(d.take_power_request(), None);
        assert!(
            d.handle_port_write(Port::new(0x604), AccessWidth::Word, 0x2000)
                .is_err()
        );
    }
}
