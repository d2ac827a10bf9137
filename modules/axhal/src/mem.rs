//! Physical memory: which RAM is free once the kernel, the device tree and
//! firmware reservations are taken out. The arithmetic is portable and
//! tested on the build machine; the kernel's own section bounds come from
//! the linker script (`kernel_image()`, target only).

use crate::dtb::{List, PhysRange};

/// Most free ranges produced.
pub const MAX_FREE: usize = 16;

/// `ram` minus every range in `reserved`, in order, each trimmed to 4 KiB
/// frames. Overlapping or unsorted reservations are fine; ranges that
/// overflow the address space are dropped.
pub fn free_ranges(ram: &[PhysRange], reserved: &[PhysRange]) -> List<PhysRange, MAX_FREE> {
    const PAGE: usize = 0x1000;
    let mut out = List::default();
    for bank in ram {
        let Some(bank_end) = bank.end() else { continue };
        // Walk the bank from left to right, skipping reserved pieces.
        let mut cursor = bank.base;
        while cursor < bank_end {
            // The reservation that covers `cursor`, if any: jump past it.
            if let Some(end) = reserved
                .iter()
                .filter_map(|r| Some((r.base, r.end()?)))
                .filter(|&(s, e)| s <= cursor && cursor < e)
                .map(|(_, e)| e)
                .max()
            {
                cursor = end;
                continue;
            }
            // Otherwise the free piece runs to the next reservation start.
            let next = reserved
                .iter()
                .map(|r| r.base)
                .filter(|&s| s > cursor && s < bank_end)
                .min()
                .unwrap_or(bank_end);
            let start = cursor.next_multiple_of(PAGE);
            let end = next & !(PAGE - 1);
            if start < end {
                out.push(PhysRange {
                    base: start,
                    size: end - start,
                });
            }
            cursor = next;
        }
    }
    out
}

/// Where the free RAM known to hold zeros at boot starts: every free byte
/// from here up has not been written since power-on, so the allocator may
/// hand it out without zeroing it once (`axalloc::init`). `None` when the
/// platform cannot promise that of any RAM.
///
/// It is the platform's `memory.boot-ram-zero`: true only where RAM is zero
/// at power-on and no firmware runs before the kernel (QEMU `virt` with
/// `-kernel`). Even there the boot loader writes below the kernel's end
/// (its boot stub at the start of RAM, the kernel image itself), so only
/// RAM above the image counts; the device tree it places higher is
/// reserved and never reaches the allocator. A port whose firmware or boot
/// loader leaves RAM dirty must set `boot-ram-zero = false`.
#[cfg(target_os = "none")]
pub fn boot_ram_zero_from() -> Option<usize> {
    if axconfig::memory::BOOT_RAM_ZERO {
        kernel_image().end()
    } else {
        None
    }
}

/// The kernel image in memory: `[_skernel, _ekernel)` from the linker script.
#[cfg(target_os = "none")]
pub fn kernel_image() -> PhysRange {
    unsafe extern "C" {
        safe static _skernel: [u8; 0];
        safe static _ekernel: [u8; 0];
    }
    let base = _skernel.as_ptr() as usize;
    PhysRange {
        base,
        size: _ekernel.as_ptr() as usize - base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(base: usize, size: usize) -> PhysRange {
        PhysRange { base, size }
    }

    #[test]
    fn kernel_and_dtb_are_cut_out() {
        let ram = [r(0x4000_0000, 0x8000_0000)];
        let kernel = r(0x4020_0000, 0x12_3456);
        let dtb = r(0x4800_0000, 0x1f5e);
        let free = free_ranges(&ram, &[dtb, kernel]);
        assert_eq!(
            free.as_slice(),
            &[
                r(0x4000_0000, 0x20_0000),
                r(0x4032_4000, 0x4800_0000 - 0x4032_4000),
                r(0x4800_2000, 0xc000_0000 - 0x4800_2000),
            ]
        );
    }

    #[test]
    fn overlapping_and_outside_reservations() {
        let ram = [r(0x1000, 0x9000)];
        let free = free_ranges(&ram, &[r(0x2000, 0x2000), r(0x3000, 0x2000), r(0x20_0000, 0x1000)]);
        assert_eq!(free.as_slice(), &[r(0x1000, 0x1000), r(0x5000, 0x5000)]);
        // A reservation covering the whole bank leaves nothing.
        assert!(free_ranges(&ram, &[r(0, 0x10_0000)]).is_empty());
    }

    #[test]
    fn overflowing_ranges_are_ignored() {
        let ram = [r(usize::MAX - 0xfff, 0x2000), r(0x1000, 0x1000)];
        let free = free_ranges(&ram, &[r(usize::MAX, 2)]);
        assert_eq!(free.as_slice(), &[r(0x1000, 0x1000)]);
    }
}
