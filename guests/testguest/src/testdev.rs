//! The hypervisor's test device: a 4 KiB MMIO page of four 64-bit
//! little-endian registers and a 256-byte memory window.
//!
//! | offset | register | access |
//! |---|---|---|
//! | `0x00` | [`MAGIC`] | read-only, [`TEST_DEVICE_MAGIC`] |
//! | `0x08` | [`SCRATCH`] | read/write; a write of width w at `0x08 + k` changes only those bytes |
//! | `0x10` | [`SIGN`] | read-only, `0x80` in every byte |
//! | `0x18` | [`COUNTER`] | read-only, counts accesses to the page |
//! | `0x100`..`0x200` | [`MEMORY`] | read/write memory window: any access of 1, 2, 4 or 8 bytes inside it behaves like RAM |

use crate::mmio::{self, Load, Width};
use crate::platform::TEST_DEVICE_BASE;

/// Offset of the magic register.
pub const MAGIC: usize = 0x00;
/// Offset of the scratch register.
pub const SCRATCH: usize = 0x08;
/// Offset of the sign-extension register.
pub const SIGN: usize = 0x10;
/// Offset of the access counter.
pub const COUNTER: usize = 0x18;
/// Offset of the memory window.
pub const MEMORY: usize = 0x100;
/// Size of the memory window in bytes.
pub const MEMORY_SIZE: usize = 0x100;
/// Width of every register in bytes.
pub const REG_SIZE: usize = 8;
/// One past the last register.
const REGS_END: usize = COUNTER + REG_SIZE;

/// What [`MAGIC`] reads: `"TESTDEV1"` as a big-endian string.
pub const TEST_DEVICE_MAGIC: u64 = 0x5445_5354_4445_5631;
/// What every byte of [`SIGN`] reads.
pub const SIGN_BYTE: u8 = 0x80;

/// An access the wrapper refuses: outside the registers or misaligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadAccess {
    /// The offset asked for.
    pub offset: usize,
    /// The width asked for.
    pub width: Width,
}

/// The test device at [`TEST_DEVICE_BASE`].
pub struct TestDevice;

impl TestDevice {
    /// Checks that `offset` is aligned to `width` and inside the registers.
    fn address(offset: usize, width: Width) -> Result<usize, BadAccess> {
        let fits = offset.checked_add(width.bytes()).is_some_and(|end| end <= REGS_END);
        if fits && offset.is_multiple_of(width.bytes()) {
            Ok(TEST_DEVICE_BASE + offset)
        } else {
            Err(BadAccess { offset, width })
        }
    }

    /// Performs `load` at `offset` and returns the whole destination
    /// register.
    pub fn load(&self, offset: usize, load: Load) -> Result<u64, BadAccess> {
        let addr = Self::address(offset, load.width())?;
        // SAFETY: `addr` is an aligned register of the test device page,
        // which reads at every width.
        Ok(unsafe { mmio::load(addr, load) })
    }

    /// Writes the low `width` bytes of `value` at `offset`.
    pub fn store(&self, offset: usize, width: Width, value: u64) -> Result<(), BadAccess> {
        let addr = Self::address(offset, width)?;
        // SAFETY: `addr` is an aligned register of the test device page;
        // writes to read-only registers are ignored by the device.
        unsafe { mmio::store(addr, width, value) };
        Ok(())
    }

    /// Reads [`MAGIC`] with one 64-bit load.
    pub fn magic(&self) -> u64 {
        // SAFETY: MAGIC is an aligned 64-bit register of the test device.
        unsafe { mmio::load(TEST_DEVICE_BASE + MAGIC, Load::U64) }
    }

    /// Reads [`COUNTER`] with one 64-bit load.
    pub fn counter(&self) -> u64 {
        // SAFETY: COUNTER is an aligned 64-bit register of the test device.
        unsafe { mmio::load(TEST_DEVICE_BASE + COUNTER, Load::U64) }
    }
}
