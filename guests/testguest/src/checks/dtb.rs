//! The device tree the hypervisor passes in `X0`: only its header is
//! checked (magic and a plausible size), nothing is parsed.

use super::Report;
use crate::platform::{RAM_BASE, RAM_END};

/// `FDT_MAGIC`, stored big-endian at offset 0.
const FDT_MAGIC: u32 = 0xd00d_feed;
/// Offset of the big-endian `totalsize` field.
const FDT_TOTALSIZE: u64 = 4;
/// Size of the FDT header (version 17).
const FDT_HEADER_SIZE: u32 = 40;
/// The largest DTB this VM's is expected to be.
const FDT_MAX_SIZE: u32 = 64 << 10;
/// The FDT must start on an 8-byte boundary.
const FDT_ALIGN: u64 = 8;

/// Reads the big-endian word at `addr`.
///
/// # Safety
///
/// `addr` must be 4-byte aligned guest RAM.
unsafe fn read_be32(addr: u64) -> u32 {
    // SAFETY: the caller guarantees an aligned RAM address; a volatile read
    // of plain RAM has no side effects.
    u32::from_be(unsafe { core::ptr::read_volatile(addr as usize as *const u32) })
}

/// Checks the DTB header at `addr`.
pub fn run(report: &mut Report, addr: u64) {
    let name = format_args!("dtb");
    let header_in_ram = addr >= RAM_BASE
        && addr
            .checked_add(u64::from(FDT_HEADER_SIZE))
            .is_some_and(|e| e <= RAM_END);
    if !header_in_ram || !addr.is_multiple_of(FDT_ALIGN) {
        report.fail(
            name,
            format_args!("x0={:#x} is not an aligned address in guest RAM", addr),
        );
        return;
    }
    // SAFETY: addr and addr + 4 are 8-byte aligned and in guest RAM (checked
    // above); no Rust object lives in the DTB.
    let (magic, size) = unsafe { (read_be32(addr), read_be32(addr + FDT_TOTALSIZE)) };
    if magic != FDT_MAGIC {
        report.fail(
            name,
            format_args!("x0={:#x} magic {:#x}, want {:#x}", addr, magic, FDT_MAGIC),
        );
    } else if !(FDT_HEADER_SIZE..FDT_MAX_SIZE).contains(&size) || addr + u64::from(size) > RAM_END {
        report.fail(name, format_args!("x0={:#x} implausible totalsize {:#x}", addr, size));
    } else {
        report.pass(name);
    }
}
