//! Port I/O: one `in` or `out` instruction each, with the port in `DX`.

use core::arch::asm;

/// Reads a byte from `port`.
///
/// # Safety
///
/// `port` must be a port whose read has no effect this program does not
/// expect (a device register it owns, or one the contract names).
pub unsafe fn inb(port: u16) -> u8 {
    let value: u8;
    // SAFETY: one `in` from `port`, which the caller vouches for; no memory
    // is touched.
    unsafe { asm!("in al, dx", in("dx") port, out("al") value, options(nomem, nostack, preserves_flags)) };
    value
}

/// Writes a byte to `port`.
///
/// # Safety
///
/// As for [`inb`], for a write.
pub unsafe fn outb(port: u16, value: u8) {
    // SAFETY: one `out` to `port`, which the caller vouches for; no memory
    // is touched.
    unsafe { asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags)) };
}

/// Writes a 16-bit word to `port`.
///
/// # Safety
///
/// As for [`inb`], for a write.
pub unsafe fn outw(port: u16, value: u16) {
    // SAFETY: one 16-bit `out` to `port`, which the caller vouches for; no
    // memory is touched.
    unsafe { asm!("out dx, ax", in("dx") port, in("ax") value, options(nomem, nostack, preserves_flags)) };
}
