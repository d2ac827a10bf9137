//! Shared pieces of the host fuzz targets (`fuzz_targets/`): reading an
//! access width and a bounded offset from the fuzzer's bytes, and a console
//! sink that drops what it is given. See `README.md` for the targets.

use arbitrary::Unstructured;
use axvcpu::AccessWidth;

/// Any of the four access widths.
pub fn width(u: &mut Unstructured) -> AccessWidth {
    match u.int_in_range(0..=3u8).unwrap_or(0) {
        0 => AccessWidth::Byte,
        1 => AccessWidth::Word,
        2 => AccessWidth::Dword,
        _ => AccessWidth::Qword,
    }
}

/// An offset below `size` (0 when `size` is 0), mostly aligned to 4 as
/// guests' register accesses are, sometimes not.
pub fn offset(u: &mut Unstructured, size: usize) -> usize {
    if size == 0 {
        return 0;
    }
    let raw = u.int_in_range(0..=size - 1).unwrap_or(0);
    if u.ratio(1u8, 8u8).unwrap_or(false) {
        raw
    } else {
        raw & !3
    }
}

/// A console that discards what VMs print.
pub struct NullConsole;

impl axdevice::ConsoleSink for NullConsole {
    fn write_bytes(&self, _vm_name: &str, _bytes: &[u8]) {}
}

/// The number of addresses `dev` claims (0 for a malformed range).
pub fn span(dev: &dyn axdevice::BaseDeviceOps) -> usize {
    dev.address_range()
        .bounds()
        .map(|(first, last)| last - first + 1)
        .unwrap_or(0)
}
