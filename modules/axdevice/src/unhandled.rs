//! [`UnhandledAccessLog`]: logs a device's first unhandled access, once.

use core::sync::atomic::{AtomicBool, Ordering};

use axvcpu::AccessWidth;
use log::warn;

/// Logs the first access a device does not handle (an unknown offset, a
/// write to a read-only register, an unsupported width) and stays quiet
/// afterwards, so that a guest hammering a hole in a device cannot flood the
/// host console.
///
/// One per device; the devices of this crate each hold one, and other device
/// models may use it too.
#[derive(Debug, Default)]
pub struct UnhandledAccessLog {
    logged: AtomicBool,
}

impl UnhandledAccessLog {
    /// A log that has not logged yet.
    pub const fn new() -> Self {
        Self {
            logged: AtomicBool::new(false),
        }
    }

    /// Notes an unhandled read of `device`; logs it if it is the first
    /// unhandled access. Returns whether it logged.
    pub fn read(&self, device: &str, offset: usize, width: AccessWidth) -> bool {
        let first = self.first();
        if first {
            warn!(
                "{device}: unhandled {}-byte read at offset {offset:#x} reads as zero \
                 (further unhandled accesses to {device} are not logged)",
                width.size()
            );
        }
        first
    }

    /// Notes an unhandled write of `value` to `device`; logs it if it is the
    /// first unhandled access. Returns whether it logged.
    pub fn write(&self, device: &str, offset: usize, width: AccessWidth, value: u64) -> bool {
        let first = self.first();
        if first {
            warn!(
                "{device}: unhandled {}-byte write of {value:#x} at offset {offset:#x} ignored \
                 (further unhandled accesses to {device} are not logged)",
                width.size()
            );
        }
        first
    }

    /// Whether an unhandled access has been logged.
    pub fn has_logged(&self) -> bool {
        self.logged.load(Ordering::Relaxed)
    }

    /// Marks the log as used; true for the first caller only.
    fn first(&self) -> bool {
        !self.logged.swap(true, Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_only_the_first_unhandled_access() {
        let log = UnhandledAccessLog::new();
        assert!(!log.has_logged());
        assert!(log.read("dev", 0x10, AccessWidth::Dword));
        assert!(log.has_logged());
        assert!(!log.read("dev", 0x10, AccessWidth::Dword));
        assert!(!log.write("dev", 0x20, AccessWidth::Byte, 1));
    }

    #[test]
    fn a_write_can_be_the_first() {
        let log = UnhandledAccessLog::new();
        assert!(log.write("dev", 0, AccessWidth::Qword, 7));
        assert!(!log.read("dev", 0, AccessWidth::Byte));
    }
}
