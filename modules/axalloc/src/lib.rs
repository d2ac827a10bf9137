//! Heap and physical frame allocator of the host kernel.
//!
//! Owns: every free byte of RAM after boot. RAM regions handed to [`init`]
//! (all RAM the device tree reports, minus the kernel image, the device tree
//! and anything else the caller reserved) go to a buddy frame allocator;
//! the heap (`alloc::` types, the global allocator on the target) starts
//! with a slice of that RAM and grows by taking more frames when it runs out.
//!
//! Does not own: the address map. Addresses here are the kernel's virtual
//! addresses; the host kernel maps RAM 1:1, so they equal physical ones.
//!
//! The heap is `buddy_system_allocator`'s `Heap` (maintained, used by rCore
//! and ArceOS). The frames are this crate's own pool (`frames`): free
//! ranges in a `BTreeMap`, first fit from the lowest address, because a
//! buddy allocator cannot hand out a range at a given address, which an
//! identity-mapped VM needs ([`reserve_range`]). Each sits behind a `kspin`
//! IRQ-safe lock. The pool keeps its ranges on the heap, which is why the
//! heap is set up first.
//!
//! Every frame handed out (by [`alloc_frames`] or [`reserve_range`]) holds
//! zeros, so no VM ever sees another's data or the hypervisor's. Zeroing a
//! Linux guest's RAM is most of the time it takes to create the VM, so the
//! pool remembers which free frames are *known zero*: RAM the platform
//! says was zero at boot (the `zero_from` of [`init`]) and that has not
//! been handed out since. Those are handed out as they are; all other
//! frames (freed ones included) are zeroed outside the pool lock when they
//! are handed out. The known-zero set is a fixed array of ranges
//! (`known_zero`): when it runs out of room, frames drop out of it and are
//! zeroed like any other, which is slower, never wrong.

#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod frames;
mod global;
mod known_zero;

pub use frames::ReserveError;
pub use global::{AllocStats, GlobalAllocator, PAGE_SIZE};

/// The one allocator of the kernel (the global allocator on the target).
#[cfg_attr(target_os = "none", global_allocator)]
pub static GLOBAL: GlobalAllocator = GlobalAllocator::new();

/// Hands the free RAM regions (`(start, size)` in bytes) to the allocator;
/// the RAM of those regions from `zero_from` up holds zeros (`None`: the
/// platform cannot say so of any). See [`GlobalAllocator::init`].
pub fn init(regions: &[(usize, usize)], zero_from: Option<usize>) -> Result<(), &'static str> {
    GLOBAL.init(regions, zero_from)
}

/// Allocates `count` contiguous zeroed 4 KiB frames aligned to `align_pages`
/// frames. Returns the start address.
pub fn alloc_frames(count: usize, align_pages: usize) -> Option<usize> {
    GLOBAL.alloc_frames(count, align_pages)
}

/// Returns frames taken with [`alloc_frames`] (same count and alignment).
pub fn dealloc_frames(addr: usize, count: usize, align_pages: usize) {
    GLOBAL.dealloc_frames(addr, count, align_pages)
}

/// Takes the physical range `[addr, addr + size)` for VM `owner` (an
/// identity-mapped RAM region). See [`GlobalAllocator::reserve_range`].
pub fn reserve_range(addr: usize, size: usize, owner: usize) -> Result<(), ReserveError> {
    GLOBAL.reserve_range(addr, size, owner)
}

/// Gives back a range taken with [`reserve_range`].
pub fn release_range(addr: usize, size: usize) -> Option<usize> {
    GLOBAL.release_range(addr, size)
}

#[cfg(test)]
mod known_zero_tests;
#[cfg(test)]
mod tests;
