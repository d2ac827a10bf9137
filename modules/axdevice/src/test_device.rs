//! [`TestDevice`]: the MMIO page the hypervisor's own test guests probe.
//!
//! # Layout
//!
//! The device is one 4 KiB page ([`TEST_DEVICE_SIZE`]). Its registers are
//! 64 bits wide and little-endian:
//!
//! | offset | name | access | contents |
//! |--------|------|--------|----------|
//! | `0x00` | [`MAGIC`](regs::MAGIC) | read-only | [`TEST_DEVICE_MAGIC`], `0x5445_5354_4445_5631` (`"TESTDEV1"`) |
//! | `0x08` | [`SCRATCH`](regs::SCRATCH) | read/write | what was last written; 0 after reset |
//! | `0x10` | [`SIGN`](regs::SIGN) | read-only | `0x80` in every byte ([`SIGN_PATTERN`]), for sign-extension tests |
//! | `0x18` | [`COUNTER`](regs::COUNTER) | read-only | the number of accesses to the device so far, this one included |
//! | `0x100`..`0x200` | [`MEMORY`](regs::MEMORY) | read/write | 256 bytes that behave like RAM; zero after reset |
//!
//! - **Widths.** Every register may be accessed with 1, 2, 4 or 8 bytes at
//!   `register + k` as long as the access stays inside the register
//!   (`k + width <= 8`; the test guests use `k` aligned to the width). A
//!   read returns the bytes it covers: a byte read of `SIGN` gives `0x80`, a
//!   halfword `0x8080`, a word `0x8080_8080`, a doubleword
//!   `0x8080_8080_8080_8080`; a byte read at `0x0F` gives the top byte of
//!   `SCRATCH`. A write to `SCRATCH` replaces only the bytes it covers: a
//!   byte write at `0x08` changes only the low byte.
//! - **Memory.** Any access of 1, 2, 4 or 8 bytes that lies inside
//!   [`MEMORY`](regs::MEMORY) reads or writes those bytes, little-endian,
//!   at any alignment: a place for the multi-register forms (pairs, SIMD&FP
//!   registers, `DC ZVA` blocks of up to 256 bytes) that one 8-byte
//!   register cannot hold.
//! - **Counter.** Every access to the page, read or write, known offset or
//!   not, adds one before it is served; the first read of `COUNTER` on a
//!   fresh device returns 1. It wraps at 2^64.
//! - **Everything else.** Other offsets, accesses that straddle two
//!   registers and writes to the read-only registers are ignored (reads
//!   return zero); the first is logged, later ones are not.

use alloc::string::String;
use core::sync::atomic::{AtomicU64, Ordering};

use axerrno::AxResult;
use axvcpu::{AccessWidth, GuestPhysAddr};
use kspin::SpinNoIrq;

use crate::width::Window;
use crate::{BaseDeviceOps, DeviceRange, UnhandledAccessLog};

/// The size of the device's page in bytes.
pub const TEST_DEVICE_SIZE: usize = 0x1000;

/// The value of [`regs::MAGIC`]: `"TESTDEV1"` read as a big-endian string.
pub const TEST_DEVICE_MAGIC: u64 = 0x5445_5354_4445_5631;

/// The value of [`regs::SIGN`]: `0x80` in every byte, so any read of it has
/// its top bit set.
pub const SIGN_PATTERN: u64 = 0x8080_8080_8080_8080;

/// The register offsets of the test device.
pub mod regs {
    /// Read-only magic, [`TEST_DEVICE_MAGIC`](super::TEST_DEVICE_MAGIC).
    pub const MAGIC: usize = 0x00;
    /// Read/write scratch register.
    pub const SCRATCH: usize = 0x08;
    /// Read-only [`SIGN_PATTERN`](super::SIGN_PATTERN).
    pub const SIGN: usize = 0x10;
    /// Read-only access counter.
    pub const COUNTER: usize = 0x18;
    /// The width of every register in bytes.
    pub const REG_SIZE: usize = 8;
    /// The start of the read/write memory window.
    pub const MEMORY: usize = 0x100;
    /// The size of the memory window in bytes.
    pub const MEMORY_SIZE: usize = 0x100;
}

/// The writable state of the device (the access counter is apart, so that
/// reads of the constant registers take no lock).
#[derive(Debug)]
struct TestState {
    scratch: u64,
    memory: [u8; regs::MEMORY_SIZE],
}

impl Default for TestState {
    fn default() -> Self {
        Self {
            scratch: 0,
            memory: [0; regs::MEMORY_SIZE],
        }
    }
}

impl TestState {
    /// The bytes of the memory window an access at `offset` covers, if it
    /// lies inside the window.
    fn memory_bytes(&mut self, offset: usize, width: AccessWidth) -> Option<&mut [u8]> {
        let start = offset.checked_sub(regs::MEMORY)?;
        let end = start.checked_add(width.size())?;
        self.memory.get_mut(start..end)
    }
}

/// The hypervisor's test device; see the [module docs](self) for the layout.
#[derive(Debug)]
pub struct TestDevice {
    name: String,
    base: GuestPhysAddr,
    /// Accesses so far.
    accesses: AtomicU64,
    state: SpinNoIrq<TestState>,
    unhandled: UnhandledAccessLog,
}

impl TestDevice {
    /// A test device named `name` whose page starts at `base`.
    pub fn new(name: impl Into<String>, base: GuestPhysAddr) -> Self {
        Self {
            name: name.into(),
            base,
            accesses: AtomicU64::new(0),
            state: SpinNoIrq::new(TestState::default()),
            unhandled: UnhandledAccessLog::new(),
        }
    }

    /// The number of accesses so far.
    pub fn access_count(&self) -> u64 {
        self.accesses.load(Ordering::Relaxed)
    }

    /// Counts an access; the count with it.
    fn count(&self) -> u64 {
        self.accesses.fetch_add(1, Ordering::Relaxed).wrapping_add(1)
    }
}

/// The register an access at `offset` falls in, and the bytes it covers.
fn locate(offset: usize, width: AccessWidth) -> Option<(usize, Window)> {
    let byte = offset % regs::REG_SIZE;
    let reg = offset.checked_sub(byte)?;
    Some((reg, Window::new(byte, width, regs::REG_SIZE)?))
}

impl BaseDeviceOps for TestDevice {
    fn name(&self) -> &str {
        &self.name
    }

    fn address_range(&self) -> DeviceRange {
        DeviceRange::Mmio {
            base: self.base,
            size: TEST_DEVICE_SIZE,
        }
    }

    fn handle_read(&self, offset: usize, width: AccessWidth) -> AxResult<u64> {
        let count = self.count();
        if offset >= regs::MEMORY
            && let Some(bytes) = self.state.lock().memory_bytes(offset, width)
        {
            let mut value = [0u8; 8];
            value.get_mut(..bytes.len()).unwrap_or_default().copy_from_slice(bytes);
            return Ok(u64::from_le_bytes(value));
        }
        let value = locate(offset, width).and_then(|(reg, window)| {
            let reg_value = match reg {
                regs::MAGIC => TEST_DEVICE_MAGIC,
                regs::SCRATCH => self.state.lock().scratch,
                regs::SIGN => SIGN_PATTERN,
                regs::COUNTER => count,
                _ => return None,
            };
            Some(window.read(reg_value))
        });
        Ok(value.unwrap_or_else(|| {
            self.unhandled.read(&self.name, offset, width);
            0
        }))
    }

    fn handle_write(&self, offset: usize, width: AccessWidth, value: u64) -> AxResult {
        self.count();
        let mut state = self.state.lock();
        if let Some(bytes) = state.memory_bytes(offset, width) {
            let len = bytes.len();
            bytes.copy_from_slice(value.to_le_bytes().get(..len).unwrap_or_default());
            return Ok(());
        }
        match locate(offset, width) {
            Some((regs::SCRATCH, window)) => state.scratch = window.write(state.scratch, value),
            _ => {
                drop(state);
                self.unhandled.write(&self.name, offset, width, value);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIDTHS: [AccessWidth; 4] = [
        AccessWidth::Byte,
        AccessWidth::Word,
        AccessWidth::Dword,
        AccessWidth::Qword,
    ];

    fn dev() -> TestDevice {
        TestDevice::new("test0", GuestPhysAddr::from(0x0a00_0000))
    }

    fn read(dev: &TestDevice, offset: usize, width: AccessWidth) -> u64 {
        dev.handle_read(offset, width).expect("reads never fail")
    }

    #[test]
    fn covers_one_page() {
        assert_eq!(
            dev().address_range(),
            DeviceRange::Mmio {
                base: GuestPhysAddr::from(0x0a00_0000),
                size: 0x1000
            }
        );
    }

    #[test]
    fn magic_spells_testdev1() {
        let d = dev();
        assert_eq!(read(&d, regs::MAGIC, AccessWidth::Qword), TEST_DEVICE_MAGIC);
        assert_eq!(TEST_DEVICE_MAGIC.to_be_bytes(), *b"TESTDEV1");
        assert_eq!(read(&d, regs::MAGIC, AccessWidth::Dword), 0x4445_5631);
        assert_eq!(read(&d, regs::MAGIC + 4, AccessWidth::Dword), 0x5445_5354);
        assert_eq!(read(&d, regs::MAGIC + 7, AccessWidth::Byte), 0x54);
        // Read-only: a write changes nothing and is logged once.
        d.handle_write(regs::MAGIC, AccessWidth::Qword, 0).expect("ignored");
        assert!(d.unhandled.has_logged());
        assert_eq!(read(&d, regs::MAGIC, AccessWidth::Qword), TEST_DEVICE_MAGIC);
    }

    #[test]
    fn scratch_reads_back_a_full_write() {
        let d = dev();
        assert_eq!(read(&d, regs::SCRATCH, AccessWidth::Qword), 0);
        d.handle_write(regs::SCRATCH, AccessWidth::Qword, 0x1122_3344_5566_7788)
            .expect("write");
        assert_eq!(read(&d, regs::SCRATCH, AccessWidth::Qword), 0x1122_3344_5566_7788);
        assert!(!d.unhandled.has_logged());
    }

    #[test]
    fn scratch_writes_change_only_the_covered_bytes() {
        let base = 0x1122_3344_5566_7788u64;
        for width in WIDTHS {
            let size = width.size();
            for k in (0..8).step_by(size) {
                let d = dev();
                d.handle_write(regs::SCRATCH, AccessWidth::Qword, base).expect("write");
                d.handle_write(regs::SCRATCH + k, width, u64::MAX).expect("write");
                let field = if size == 8 {
                    u64::MAX
                } else {
                    ((1u64 << (size * 8)) - 1) << (k * 8)
                };
                assert_eq!(
                    read(&d, regs::SCRATCH, AccessWidth::Qword),
                    base | field,
                    "{size}-byte write at +{k}"
                );
            }
        }
        let d = dev();
        d.handle_write(regs::SCRATCH, AccessWidth::Qword, u64::MAX)
            .expect("write");
        d.handle_write(regs::SCRATCH, AccessWidth::Byte, 0x1234).expect("write");
        assert_eq!(read(&d, regs::SCRATCH, AccessWidth::Qword), 0xffff_ffff_ffff_ff34);
    }

    #[test]
    fn scratch_reads_return_the_covered_bytes() {
        let d = dev();
        let value = 0x8877_6655_4433_2211u64;
        d.handle_write(regs::SCRATCH, AccessWidth::Qword, value).expect("write");
        let bytes = value.to_le_bytes();
        for width in WIDTHS {
            let size = width.size();
            for k in (0..8).step_by(size) {
                let mut expected = [0u8; 8];
                expected[..size].copy_from_slice(&bytes[k..k + size]);
                assert_eq!(
                    read(&d, regs::SCRATCH + k, width),
                    u64::from_le_bytes(expected),
                    "{size}-byte read at +{k}"
                );
            }
        }
    }

    #[test]
    fn sign_register_has_the_top_bit_of_every_width_set() {
        let d = dev();
        assert_eq!(read(&d, regs::SIGN, AccessWidth::Byte), 0x80);
        assert_eq!(read(&d, regs::SIGN, AccessWidth::Word), 0x8080);
        assert_eq!(read(&d, regs::SIGN, AccessWidth::Dword), 0x8080_8080);
        assert_eq!(read(&d, regs::SIGN, AccessWidth::Qword), 0x8080_8080_8080_8080);
        assert_eq!(read(&d, regs::SIGN + 6, AccessWidth::Word), 0x8080);
        d.handle_write(regs::SIGN, AccessWidth::Qword, 0).expect("ignored");
        assert_eq!(read(&d, regs::SIGN, AccessWidth::Byte), 0x80);
    }

    #[test]
    fn counter_counts_every_access() {
        let d = dev();
        assert_eq!(read(&d, regs::COUNTER, AccessWidth::Qword), 1);
        assert_eq!(read(&d, regs::COUNTER, AccessWidth::Qword), 2);
        read(&d, regs::MAGIC, AccessWidth::Byte);
        d.handle_write(regs::SCRATCH, AccessWidth::Dword, 1).expect("write");
        read(&d, 0x800, AccessWidth::Dword);
        d.handle_write(0x800, AccessWidth::Dword, 1).expect("write");
        d.handle_write(regs::COUNTER, AccessWidth::Qword, 0).expect("ignored");
        assert_eq!(read(&d, regs::COUNTER, AccessWidth::Qword), 8);
        assert_eq!(d.access_count(), 8);
        assert_eq!(read(&d, regs::COUNTER, AccessWidth::Byte), 9);
    }

    #[test]
    fn memory_window_behaves_like_ram() {
        let d = dev();
        let m = regs::MEMORY;
        assert_eq!(read(&d, m, AccessWidth::Qword), 0);
        d.handle_write(m, AccessWidth::Qword, 0x8877_6655_4433_2211)
            .expect("write");
        d.handle_write(m + 8, AccessWidth::Dword, 0xaabb_ccdd).expect("write");
        assert_eq!(read(&d, m, AccessWidth::Qword), 0x8877_6655_4433_2211);
        assert_eq!(read(&d, m + 3, AccessWidth::Word), 0x5544);
        assert_eq!(read(&d, m + 6, AccessWidth::Dword), 0xccdd_8877);
        assert_eq!(read(&d, m + 8, AccessWidth::Qword), 0xaabb_ccdd);
        // The last bytes, and accesses that leave the window.
        d.handle_write(m + 0xf8, AccessWidth::Qword, u64::MAX).expect("write");
        assert_eq!(read(&d, m + 0xff, AccessWidth::Byte), 0xff);
        assert_eq!(read(&d, m + 0xfc, AccessWidth::Qword), 0);
        d.handle_write(m + 0xfc, AccessWidth::Qword, 0).expect("ignored");
        assert_eq!(read(&d, m + 0xf8, AccessWidth::Qword), u64::MAX);
        assert_eq!(read(&d, m - 1, AccessWidth::Word), 0);
        // The registers are unaffected.
        assert_eq!(read(&d, regs::SCRATCH, AccessWidth::Qword), 0);
    }

    #[test]
    fn unknown_offsets_read_zero_and_ignore_writes() {
        let d = dev();
        d.handle_write(0x20, AccessWidth::Qword, u64::MAX).expect("ignored");
        assert!(d.unhandled.has_logged());
        assert_eq!(read(&d, 0x20, AccessWidth::Qword), 0);
        assert_eq!(read(&d, 0xff8, AccessWidth::Qword), 0);
        assert_eq!(read(&d, usize::MAX, AccessWidth::Byte), 0);
        // An access straddling MAGIC and SCRATCH is no register's.
        assert_eq!(read(&d, 0x04, AccessWidth::Qword), 0);
        d.handle_write(0x0c, AccessWidth::Qword, u64::MAX).expect("ignored");
        assert_eq!(read(&d, regs::SCRATCH, AccessWidth::Qword), 0);
    }
}
