//! The intercept bitmaps: which I/O ports and MSRs make the guest exit.
//!
//! | bitmap | size | layout |
//! |---|---|---|
//! | VMX I/O bitmaps A and B ([`VmxIoBitmap`]) | 2 × 4 KiB, separate pages | A: ports 0x0000..0x7fff, B: 0x8000..0xffff, one bit each (SDM Vol. 3C, 25.6.4) |
//! | VMX MSR bitmap ([`VmxMsrBitmap`]) | 4 KiB | read-low, read-high, write-low, write-high, 1 KiB each; low = MSRs 0..0x1fff, high = 0xc000_0000..0xc000_1fff (SDM 25.6.9) |
//! | SVM I/O permission map ([`SvmIoPermissionMap`]) | 12 KiB, contiguous | one bit per port; an access checks the bits of every port it covers (APM Vol. 2, 15.10.1) |
//! | SVM MSR permission map ([`SvmMsrPermissionMap`]) | 8 KiB, contiguous | 2 KiB per range (0..0x1fff, 0xc000_0000.., 0xc001_0000..), two bits per MSR: read, then write (APM 15.11) |
//!
//! A set bit makes the access exit. MSRs outside a map's ranges always
//! exit: asking to pass one through is an error. The maps are built over
//! any byte storage (`AsRef<[u8]> + AsMut<[u8]>`): physical frames on the
//! hypervisor, plain arrays in the tests.

use axerrno::{AxError, AxResult};

/// The size of one page of a bitmap.
const PAGE: usize = 4096;

/// Sets or clears bit `bit` of `bytes` (the index is in range by
/// construction of every caller).
fn set_bit(bytes: &mut [u8], bit: usize, value: bool) {
    if let Some(b) = bytes.get_mut(bit / 8) {
        let mask = 1u8 << (bit % 8);
        if value {
            *b |= mask;
        } else {
            *b &= !mask;
        }
    }
}

fn get_bit(bytes: &[u8], bit: usize) -> bool {
    bytes.get(bit / 8).is_some_and(|b| b & (1 << (bit % 8)) != 0)
}

fn check_len(bytes: &[u8], len: usize) -> AxResult {
    if bytes.len() < len {
        Err(AxError::InvalidInput)
    } else {
        Ok(())
    }
}

/// The VMX I/O bitmaps A and B.
pub struct VmxIoBitmap<S> {
    a: S,
    b: S,
}

/// Ports per VMX I/O bitmap.
const VMX_IO_PORTS_PER_MAP: usize = 0x8000;

impl<S: AsRef<[u8]> + AsMut<[u8]>> VmxIoBitmap<S> {
    /// Wraps two pages (at least 4 KiB each), intercepting every port.
    pub fn new(a: S, b: S) -> AxResult<Self> {
        check_len(a.as_ref(), PAGE)?;
        check_len(b.as_ref(), PAGE)?;
        let mut m = Self { a, b };
        m.set_all(true);
        Ok(m)
    }

    /// Intercepts every port (`true`) or none.
    pub fn set_all(&mut self, intercept: bool) {
        let fill = if intercept { 0xff } else { 0 };
        self.a.as_mut()[..PAGE].fill(fill);
        self.b.as_mut()[..PAGE].fill(fill);
    }

    /// Intercepts `port` or passes it through.
    pub fn set_intercept(&mut self, port: u16, intercept: bool) {
        let p = usize::from(port);
        if p < VMX_IO_PORTS_PER_MAP {
            set_bit(self.a.as_mut(), p, intercept);
        } else {
            set_bit(self.b.as_mut(), p - VMX_IO_PORTS_PER_MAP, intercept);
        }
    }

    /// Whether an access to `port` exits.
    pub fn is_intercepted(&self, port: u16) -> bool {
        let p = usize::from(port);
        if p < VMX_IO_PORTS_PER_MAP {
            get_bit(self.a.as_ref(), p)
        } else {
            get_bit(self.b.as_ref(), p - VMX_IO_PORTS_PER_MAP)
        }
    }

    /// Bitmap A (ports 0..0x7fff) and B.
    pub fn pages(&self) -> (&S, &S) {
        (&self.a, &self.b)
    }
}

/// The SVM I/O permission map.
pub struct SvmIoPermissionMap<S> {
    map: S,
}

/// The size of the SVM I/O permission map.
pub const SVM_IOPM_SIZE: usize = 3 * PAGE;

impl<S: AsRef<[u8]> + AsMut<[u8]>> SvmIoPermissionMap<S> {
    /// Wraps 12 KiB, intercepting every port.
    pub fn new(map: S) -> AxResult<Self> {
        check_len(map.as_ref(), SVM_IOPM_SIZE)?;
        let mut m = Self { map };
        m.set_all(true);
        Ok(m)
    }

    /// Intercepts every port (`true`) or none. The bits past port 0xffff
    /// (an access that wraps past the last port) stay set either way.
    pub fn set_all(&mut self, intercept: bool) {
        let map = &mut self.map.as_mut()[..SVM_IOPM_SIZE];
        map.fill(0xff);
        if !intercept {
            map[..=usize::from(u16::MAX) / 8].fill(0);
        }
    }

    /// Intercepts `port` or passes it through.
    pub fn set_intercept(&mut self, port: u16, intercept: bool) {
        set_bit(self.map.as_mut(), usize::from(port), intercept);
    }

    /// Whether a one-byte access to `port` exits.
    pub fn is_intercepted(&self, port: u16) -> bool {
        get_bit(self.map.as_ref(), usize::from(port))
    }

    /// The storage.
    pub fn storage(&self) -> &S {
        &self.map
    }
}

/// A range of MSRs a map covers: its first MSR, and where its bits start.
struct MsrRange {
    first: u32,
    offset: usize,
}

/// The MSRs each range covers.
const MSR_RANGE_LEN: u32 = 0x2000;

fn find_range(ranges: &[MsrRange], msr: u32) -> Option<(usize, u32)> {
    ranges
        .iter()
        .find(|r| msr.wrapping_sub(r.first) < MSR_RANGE_LEN)
        .map(|r| (r.offset, msr - r.first))
}

/// The VMX MSR bitmap.
pub struct VmxMsrBitmap<S> {
    page: S,
}

/// Read bitmaps for low and high MSRs, then the write bitmaps, 1 KiB each.
const VMX_MSR_READ: [MsrRange; 2] = [
    MsrRange { first: 0, offset: 0 },
    MsrRange {
        first: 0xc000_0000,
        offset: 0x400,
    },
];
const VMX_MSR_WRITE_OFFSET: usize = 0x800;

/// The byte and bit of `msr`'s read (or write) bit in the VMX MSR bitmap.
pub fn vmx_msr_bit(msr: u32, write: bool) -> Option<(usize, u8)> {
    let (offset, n) = find_range(&VMX_MSR_READ, msr)?;
    let offset = offset + if write { VMX_MSR_WRITE_OFFSET } else { 0 };
    Some((offset + (n / 8) as usize, (n % 8) as u8))
}

impl<S: AsRef<[u8]> + AsMut<[u8]>> VmxMsrBitmap<S> {
    /// Wraps a page, intercepting every MSR.
    pub fn new(page: S) -> AxResult<Self> {
        check_len(page.as_ref(), PAGE)?;
        let mut m = Self { page };
        m.page.as_mut()[..PAGE].fill(0xff);
        Ok(m)
    }

    /// Intercepts reads (`write` false) or writes of `msr`, or passes them
    /// through. `InvalidInput` for passing through an MSR the bitmap does
    /// not cover (it always exits).
    pub fn set_intercept(&mut self, msr: u32, write: bool, intercept: bool) -> AxResult {
        match vmx_msr_bit(msr, write) {
            Some((byte, bit)) => {
                set_bit(self.page.as_mut(), byte * 8 + usize::from(bit), intercept);
                Ok(())
            }
            None if intercept => Ok(()),
            None => Err(AxError::InvalidInput),
        }
    }

    /// Whether a read (or write) of `msr` exits.
    pub fn is_intercepted(&self, msr: u32, write: bool) -> bool {
        vmx_msr_bit(msr, write).is_none_or(|(byte, bit)| get_bit(self.page.as_ref(), byte * 8 + usize::from(bit)))
    }

    /// The storage.
    pub fn storage(&self) -> &S {
        &self.page
    }
}

/// The SVM MSR permission map.
pub struct SvmMsrPermissionMap<S> {
    map: S,
}

/// The size of the SVM MSR permission map.
pub const SVM_MSRPM_SIZE: usize = 2 * PAGE;

const SVM_MSR_RANGES: [MsrRange; 3] = [
    MsrRange { first: 0, offset: 0 },
    MsrRange {
        first: 0xc000_0000,
        offset: 0x800,
    },
    MsrRange {
        first: 0xc001_0000,
        offset: 0x1000,
    },
];

/// The byte and bit of `msr`'s read (or write) bit in the SVM MSR
/// permission map.
pub fn svm_msr_bit(msr: u32, write: bool) -> Option<(usize, u8)> {
    let (offset, n) = find_range(&SVM_MSR_RANGES, msr)?;
    let bit = 2 * n + u32::from(write);
    Some((offset + (bit / 8) as usize, (bit % 8) as u8))
}

impl<S: AsRef<[u8]> + AsMut<[u8]>> SvmMsrPermissionMap<S> {
    /// Wraps 8 KiB, intercepting every MSR.
    pub fn new(map: S) -> AxResult<Self> {
        check_len(map.as_ref(), SVM_MSRPM_SIZE)?;
        let mut m = Self { map };
        m.map.as_mut()[..SVM_MSRPM_SIZE].fill(0xff);
        Ok(m)
    }

    /// Intercepts reads (`write` false) or writes of `msr`, or passes them
    /// through; `InvalidInput` for passing through an MSR outside the map.
    pub fn set_intercept(&mut self, msr: u32, write: bool, intercept: bool) -> AxResult {
        match svm_msr_bit(msr, write) {
            Some((byte, bit)) => {
                set_bit(self.map.as_mut(), byte * 8 + usize::from(bit), intercept);
                Ok(())
            }
            None if intercept => Ok(()),
            None => Err(AxError::InvalidInput),
        }
    }

    /// Whether a read (or write) of `msr` exits.
    pub fn is_intercepted(&self, msr: u32, write: bool) -> bool {
        svm_msr_bit(msr, write).is_none_or(|(byte, bit)| get_bit(self.map.as_ref(), byte * 8 + usize::from(bit)))
    }

    /// The storage.
    pub fn storage(&self) -> &S {
        &self.map
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{vec, vec::Vec};

    fn page() -> Vec<u8> {
        vec![0u8; PAGE]
    }

    /// The set bits of `bytes` as (byte, bit) pairs.
    fn set_bits(bytes: &[u8]) -> Vec<(usize, u8)> {
        let mut v = Vec::new();
        for (i, b) in bytes.iter().enumerate() {
            for bit in 0..8 {
                if b & (1 << bit) != 0 {
                    v.push((i, bit));
                }
            }
        }
        v
    }

    #[test]
    fn vmx_io_bitmap_bits() {
        let mut m = VmxIoBitmap::new(page(), page()).unwrap();
        assert!(m.is_intercepted(0) && m.is_intercepted(0xffff));
        m.set_all(false);
        // COM1 0x3f8: bitmap A, byte 0x7f, bit 0.
        m.set_intercept(0x3f8, true);
        // 0x8001: bitmap B, byte 0, bit 1. 0xffff: B byte 0xfff bit 7.
        m.set_intercept(0x8001, true);
        m.set_intercept(0xffff, true);
        let (a, b) = m.pages();
        assert_eq!(set_bits(a), [(0x7f, 0)]);
        assert_eq!(set_bits(b), [(0, 1), (0xfff, 7)]);
        assert!(m.is_intercepted(0x3f8) && !m.is_intercepted(0x3f9));
        m.set_intercept(0x3f8, false);
        assert!(!m.is_intercepted(0x3f8));
        assert!(VmxIoBitmap::new(vec![0; 100], page()).is_err());
    }

    #[test]
    fn svm_iopm_bits() {
        let mut m = SvmIoPermissionMap::new(vec![0u8; SVM_IOPM_SIZE]).unwrap();
        m.set_all(false);
        // Everything past port 0xffff stays set.
        assert_eq!(set_bits(m.storage()).first(), Some(&(0x2000, 0)));
        m.set_intercept(0x3f8, true);
        m.set_intercept(0xcf8, true);
        let bits = set_bits(&m.storage()[..0x2000]);
        assert_eq!(bits, [(0x7f, 0), (0x19f, 0)]);
        assert!(m.is_intercepted(0xcf8));
        assert!(SvmIoPermissionMap::new(vec![0u8; 8192]).is_err());
    }

    #[test]
    fn vmx_msr_bitmap_positions() {
        // SDM 25.6.9: read-low at 0, read-high at 1024, write-low at 2048,
        // write-high at 3072.
        assert_eq!(vmx_msr_bit(0x1b, false), Some((3, 3)));
        assert_eq!(vmx_msr_bit(0x1b, true), Some((2048 + 3, 3)));
        // IA32_EFER 0xC000_0080: high range, MSR 0x80 -> byte 16.
        assert_eq!(vmx_msr_bit(0xc000_0080, false), Some((1024 + 16, 0)));
        assert_eq!(vmx_msr_bit(0xc000_0080, true), Some((3072 + 16, 0)));
        assert_eq!(vmx_msr_bit(0x1fff, true), Some((2048 + 1023, 7)));
        assert_eq!(vmx_msr_bit(0x2000, false), None);
        assert_eq!(vmx_msr_bit(0xc001_0000, false), None);

        let mut m = VmxMsrBitmap::new(page()).unwrap();
        assert!(m.is_intercepted(0x10, false));
        m.page.as_mut_slice().fill(0);
        m.set_intercept(0xc000_0080, true, true).unwrap();
        assert_eq!(set_bits(m.storage()), [(3088, 0)]);
        assert!(m.is_intercepted(0xc000_0080, true));
        assert!(!m.is_intercepted(0xc000_0080, false));
        // Outside the ranges: always intercepted, cannot be passed through.
        assert!(m.is_intercepted(0x4000_0000, false));
        assert_eq!(m.set_intercept(0x4000_0000, false, false), Err(AxError::InvalidInput));
        assert_eq!(m.set_intercept(0x4000_0000, false, true), Ok(()));
    }

    #[test]
    fn svm_msrpm_positions() {
        // APM 15.11: two bits per MSR, read (even) then write (odd).
        // IA32_APIC_BASE 0x1b: bits 54, 55 -> byte 6, bits 6 and 7.
        assert_eq!(svm_msr_bit(0x1b, false), Some((6, 6)));
        assert_eq!(svm_msr_bit(0x1b, true), Some((6, 7)));
        // EFER 0xC000_0080: second vector at 0x800, bit 256 -> byte 0x820.
        assert_eq!(svm_msr_bit(0xc000_0080, false), Some((0x820, 0)));
        assert_eq!(svm_msr_bit(0xc000_0080, true), Some((0x820, 1)));
        // VM_HSAVE_PA 0xC001_0117: third vector at 0x1000, bit 0x22e.
        assert_eq!(svm_msr_bit(0xc001_0117, true), Some((0x1000 + 0x45, 7)));
        assert_eq!(svm_msr_bit(0xc001_2000, false), None);

        let mut m = SvmMsrPermissionMap::new(vec![0u8; SVM_MSRPM_SIZE]).unwrap();
        m.map.fill(0);
        m.set_intercept(0x1b, true, true).unwrap();
        m.set_intercept(0xc000_0080, false, true).unwrap();
        assert_eq!(set_bits(m.storage()), [(6, 7), (0x820, 0)]);
        m.set_intercept(0x1b, true, false).unwrap();
        assert!(!m.is_intercepted(0x1b, true));
        assert_eq!(m.set_intercept(0x4000_0000, true, false), Err(AxError::InvalidInput));
    }
}
