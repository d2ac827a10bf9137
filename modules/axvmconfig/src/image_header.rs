//! The header of an arm64 Linux `Image`, and the load and entry addresses a
//! boot loader derives from it.
//!
//! The header (64 bytes at the start of the file, described in the Linux
//! arm64 booting document) carries `text_offset` (little-endian u64 at
//! byte 8), `image_size` (u64 at byte 16: the bytes the kernel occupies
//! once running, `.bss` included) and the magic `"ARM\x64"` at byte 0x38.
//! The image goes at a 2 MiB aligned base plus `text_offset`, and is
//! entered at its first byte. A header with `image_size` 0 comes from a
//! kernel older than 3.17, whose `text_offset` is 0x80000 whatever the
//! field says.

use core::fmt;

/// Where the magic sits in the header.
const MAGIC_OFFSET: usize = 0x38;
/// The magic: `"ARM\x64"`.
pub const ARM64_IMAGE_MAGIC: [u8; 4] = *b"ARM\x64";
/// Offset of `text_offset`.
const TEXT_OFFSET_OFFSET: usize = 8;
/// Offset of `image_size`.
const IMAGE_SIZE_OFFSET: usize = 16;
/// The `text_offset` of kernels whose header has `image_size` 0.
const LEGACY_TEXT_OFFSET: u64 = 0x8_0000;
/// The alignment of the base an image's `text_offset` counts from.
pub const ARM64_IMAGE_BASE_ALIGN: usize = 0x20_0000;

/// The fields of an arm64 `Image` header that placing it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arm64ImageHeader {
    /// Bytes from the 2 MiB aligned base to the load address.
    pub text_offset: u64,
    /// Bytes the kernel occupies once running (0: not given).
    pub image_size: u64,
}

impl Arm64ImageHeader {
    /// The length of the header: the bytes of the file [`Self::parse`] reads.
    pub const LEN: usize = 64;

    /// The header at the start of `image`, or `None` when `image` is shorter
    /// than a header or has no magic (a raw binary).
    pub fn parse(image: &[u8]) -> Option<Self> {
        let field = |at: usize| -> Option<u64> {
            let bytes: [u8; 8] = image.get(at..at.checked_add(8)?)?.try_into().ok()?;
            Some(u64::from_le_bytes(bytes))
        };
        if image.get(MAGIC_OFFSET..MAGIC_OFFSET + ARM64_IMAGE_MAGIC.len())? != ARM64_IMAGE_MAGIC {
            return None;
        }
        let image_size = field(IMAGE_SIZE_OFFSET)?;
        let text_offset = if image_size == 0 {
            LEGACY_TEXT_OFFSET
        } else {
            field(TEXT_OFFSET_OFFSET)?
        };
        Some(Self {
            text_offset,
            image_size,
        })
    }

    /// The load address in RAM starting at `ram_start`, as a boot loader
    /// picks it: the first 2 MiB boundary at or above `ram_start`, plus
    /// `text_offset`. `None` on overflow.
    pub fn load_address(&self, ram_start: usize) -> Option<usize> {
        let base = ram_start.checked_add(ARM64_IMAGE_BASE_ALIGN - 1)? & !(ARM64_IMAGE_BASE_ALIGN - 1);
        base.checked_add(usize::try_from(self.text_offset).ok()?)
    }
}

impl fmt::Display for Arm64ImageHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arm64 Image header: text_offset {:#x}, image_size {:#x}",
            self.text_offset, self.image_size
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(text_offset: u64, image_size: u64) -> [u8; 64] {
        let mut h = [0u8; 64];
        h[8..16].copy_from_slice(&text_offset.to_le_bytes());
        h[16..24].copy_from_slice(&image_size.to_le_bytes());
        h[0x38..0x3c].copy_from_slice(&ARM64_IMAGE_MAGIC);
        h
    }

    #[test]
    fn reads_the_fields_and_places_the_image() {
        let h = Arm64ImageHeader::parse(&header(0, 0x200_0000)).unwrap();
        assert_eq!(h.text_offset, 0);
        assert_eq!(h.image_size, 0x200_0000);
        assert_eq!(h.load_address(0x8000_0000), Some(0x8000_0000));
        assert_eq!(h.load_address(0x8000_1000), Some(0x8020_0000), "up to the next 2 MiB");
        let h = Arm64ImageHeader::parse(&header(0x8_0000, 0x100)).unwrap();
        assert_eq!(h.load_address(0x4000_0000), Some(0x4008_0000));
        assert_eq!(h.load_address(usize::MAX - 0x1000), None);
    }

    #[test]
    fn old_kernels_and_raw_binaries() {
        let h = Arm64ImageHeader::parse(&header(0x1234, 0)).unwrap();
        assert_eq!(h.text_offset, 0x8_0000, "image_size 0: the fixed text_offset");
        let mut raw = header(0, 0x1000);
        raw[0x3b] = 0;
        assert_eq!(Arm64ImageHeader::parse(&raw), None);
        assert_eq!(Arm64ImageHeader::parse(&header(0, 1)[..0x3b]), None, "too short");
        assert_eq!(Arm64ImageHeader::parse(&[]), None);
    }
}
