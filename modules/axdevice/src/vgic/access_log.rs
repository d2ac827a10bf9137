//! [`AccessLog`]: logs the first few unhandled accesses to a vGIC frame.

use core::sync::atomic::{AtomicU64, Ordering};

use axvcpu::AccessWidth;
use log::warn;

/// How many unhandled accesses each vGIC device (the distributor, the
/// redistributors) logs; later ones are only counted. A GIC has more
/// registers than a UART, so a few lines help more than the single one of
/// [`UnhandledAccessLog`](crate::UnhandledAccessLog), and the limit still
/// keeps a guest from flooding the host console.
pub const UNHANDLED_LOG_LIMIT: u64 = 8;

/// Counts a device's unhandled accesses and logs the first
/// [`UNHANDLED_LOG_LIMIT`] of them.
#[derive(Debug, Default)]
pub(crate) struct AccessLog {
    seen: AtomicU64,
}

impl AccessLog {
    /// A log that has seen nothing.
    pub(crate) const fn new() -> Self {
        Self {
            seen: AtomicU64::new(0),
        }
    }

    /// Notes an unhandled read of `device`; returns whether it logged.
    pub(crate) fn read(&self, device: &str, offset: usize, width: AccessWidth) -> bool {
        let Some(last) = self.note() else {
            return false;
        };
        warn!(
            "{device}: unhandled {}-byte read at offset {offset:#x} reads as zero{}",
            width.size(),
            Self::suffix(device, last)
        );
        true
    }

    /// Notes an unhandled write of `value` to `device`; returns whether it
    /// logged.
    pub(crate) fn write(&self, device: &str, offset: usize, width: AccessWidth, value: u64) -> bool {
        let Some(last) = self.note() else {
            return false;
        };
        warn!(
            "{device}: unhandled {}-byte write of {value:#x} at offset {offset:#x} ignored{}",
            width.size(),
            Self::suffix(device, last)
        );
        true
    }

    /// How many unhandled accesses were seen.
    #[cfg(test)]
    pub(crate) fn seen(&self) -> u64 {
        self.seen.load(Ordering::Relaxed)
    }

    /// How many of them were logged.
    #[cfg(test)]
    pub(crate) fn logged(&self) -> u64 {
        self.seen().min(UNHANDLED_LOG_LIMIT)
    }

    /// Counts an access: `Some(is_the_last_logged)` when it is to be logged.
    fn note(&self) -> Option<bool> {
        // A u64 counter does not wrap in the life of a VM.
        let n = self.seen.fetch_add(1, Ordering::Relaxed);
        (n < UNHANDLED_LOG_LIMIT).then_some(n.saturating_add(1) == UNHANDLED_LOG_LIMIT)
    }

    /// The tail of the last line logged.
    fn suffix(device: &str, last: bool) -> impl core::fmt::Display + '_ {
        struct Suffix<'a>(&'a str, bool);
        impl core::fmt::Display for Suffix<'_> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                if self.1 {
                    write!(f, " (further unhandled accesses to {} are not logged)", self.0)
                } else {
                    Ok(())
                }
            }
        }
        Suffix(device, last)
    }
}
