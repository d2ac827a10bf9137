//! [`DummyDevice`]: claims a range, reads as zero, ignores writes.

use alloc::string::String;

use axerrno::AxResult;
use axvcpu::AccessWidth;

use crate::{BaseDeviceOps, DeviceRange, UnhandledAccessLog};

/// A device that claims a range so that the guest's accesses to it do not
/// fault: every read returns zero and every write is ignored. The first
/// access is logged (every access is an unknown one), later ones are not.
///
/// It serves any kind of range: MMIO (the `dummy` type of the VM config),
/// system registers or ports.
#[derive(Debug)]
pub struct DummyDevice {
    name: String,
    range: DeviceRange,
    unhandled: UnhandledAccessLog,
}

impl DummyDevice {
    /// A dummy device named `name` claiming `range`.
    pub fn new(name: impl Into<String>, range: DeviceRange) -> Self {
        Self {
            name: name.into(),
            range,
            unhandled: UnhandledAccessLog::new(),
        }
    }

    /// Whether an access has been logged.
    pub fn has_logged_access(&self) -> bool {
        self.unhandled.has_logged()
    }
}

impl BaseDeviceOps for DummyDevice {
    fn name(&self) -> &str {
        &self.name
    }

    fn address_range(&self) -> DeviceRange {
        self.range
    }

    fn handle_read(&self, offset: usize, width: AccessWidth) -> AxResult<u64> {
        self.unhandled.read(&self.name, offset, width);
        Ok(0)
    }

    fn handle_write(&self, offset: usize, width: AccessWidth, value: u64) -> AxResult {
        self.unhandled.write(&self.name, offset, width, value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axvcpu::GuestPhysAddr;

    #[test]
    fn reads_zero_after_writes_and_logs_once() {
        let range = DeviceRange::Mmio {
            base: GuestPhysAddr::from(0x1000),
            size: 0x100,
        };
        let dev = DummyDevice::new("dummy0", range);
        assert_eq!(dev.name(), "dummy0");
        assert_eq!(dev.address_range(), range);
        assert!(!dev.has_logged_access());
        assert_eq!(dev.handle_write(0x10, AccessWidth::Qword, u64::MAX), Ok(()));
        assert!(dev.has_logged_access());
        for width in [
            AccessWidth::Byte,
            AccessWidth::Word,
            AccessWidth::Dword,
            AccessWidth::Qword,
        ] {
            assert_eq!(dev.handle_read(0x10, width), Ok(0));
        }
        assert_eq!(dev.handle_read(usize::MAX, AccessWidth::Byte), Ok(0));
        // The log was used by the first access; later ones find it spent.
        assert!(!dev.unhandled.read("dummy0", 0, AccessWidth::Byte));
    }
}
