//! A bounded reader over instruction bytes.

use super::{DecodeError, MAX_INSTRUCTION_LEN};

/// Reads instruction bytes front to back; reading past the given bytes is
/// [`DecodeError::Truncated`], past 15 bytes [`DecodeError::TooLong`].
pub(super) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    fn at(&self, pos: usize) -> Result<u8, DecodeError> {
        if pos >= MAX_INSTRUCTION_LEN {
            return Err(DecodeError::TooLong);
        }
        self.bytes.get(pos).copied().ok_or(DecodeError::Truncated)
    }

    /// The next byte, not consumed.
    pub(super) fn peek(&self) -> Result<u8, DecodeError> {
        self.at(self.pos)
    }

    /// The next byte, consumed.
    pub(super) fn next(&mut self) -> Result<u8, DecodeError> {
        let b = self.at(self.pos)?;
        self.pos += 1;
        Ok(b)
    }

    /// Consumes `n` bytes.
    pub(super) fn skip(&mut self, n: usize) -> Result<(), DecodeError> {
        for _ in 0..n {
            self.next()?;
        }
        Ok(())
    }

    /// Consumes `n` (at most 8) bytes as a little-endian value.
    pub(super) fn read_le(&mut self, n: usize) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for i in 0..n.min(8) {
            value |= u64::from(self.next()?) << (8 * i);
        }
        Ok(value)
    }

    /// The number of bytes consumed (at most 15).
    pub(super) fn consumed(&self) -> u8 {
        // `at` refuses positions from 15 on, so this fits.
        self.pos as u8
    }
}
