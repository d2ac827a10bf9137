//! Words shared between the vCPUs and the exception handler.
//!
//! The MMU stays off, so every data access is Device-nGnRnE: exclusive
//! load/store pairs (what atomic read-modify-write compiles to on an
//! ARMv8.0 core) are not guaranteed to work there. [`SharedWord`] therefore
//! offers only `load` (load-acquire, `LDAR`) and `store` (store-release,
//! `STLR`), which are single accesses that work on any memory type.

use core::sync::atomic::{AtomicU64, Ordering};

/// A 64-bit word one side writes and others read; no read-modify-write.
pub struct SharedWord(AtomicU64);

impl SharedWord {
    /// A word holding `value`.
    pub const fn new(value: u64) -> Self {
        Self(AtomicU64::new(value))
    }

    /// Reads the word; later accesses are not hoisted above it.
    pub fn load(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Writes the word; earlier accesses are visible before it.
    pub fn store(&self, value: u64) {
        self.0.store(value, Ordering::Release);
    }
}
