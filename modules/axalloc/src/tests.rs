//! Host tests: the allocator over a buffer that stands in for RAM.

use super::*;
use core::alloc::{GlobalAlloc, Layout};

/// A page-aligned buffer of `mib` MiB, leaked so the allocator may keep it.
fn ram(mib: usize) -> (usize, usize) {
    let size = mib << 20;
    let layout = Layout::from_size_align(size, PAGE_SIZE).unwrap();
    // SAFETY: non-zero size; the buffer is leaked on purpose.
    let p = unsafe { std::alloc::alloc(layout) } as usize;
    assert_ne!(p, 0);
    (p, size)
}

#[test]
fn init_needs_a_region_for_the_heap() {
    let a = GlobalAllocator::new();
    let (p, _) = ram(1);
    assert!(a.init(&[(p, 1 << 20)]).is_err());
}

#[test]
fn frames_are_aligned_zeroed_and_reused() {
    let a = GlobalAllocator::new();
    let (p, size) = ram(8);
    a.init(&[(p + 3, size - 3)]).unwrap(); // unaligned start is trimmed
    let s = a.stats();
    assert_eq!(s.heap_total, 2 << 20);
    let total = s.free_frames;
    assert!(total > 1000 && total < (6 << 20) / PAGE_SIZE, "{total}");

    let f = a.alloc_frames(3, 4).unwrap();
    assert_eq!(f % (4 * PAGE_SIZE), 0);
    assert!(f >= p && f + 3 * PAGE_SIZE <= p + size);
    // SAFETY: the three frames are ours.
    let bytes = unsafe { core::slice::from_raw_parts_mut(f as *mut u8, 3 * PAGE_SIZE) };
    assert!(bytes.iter().all(|&b| b == 0));
    bytes.fill(0xaa);
    assert_eq!(a.stats().used_frames, 4, "3 frames round up to a block of 4");

    a.dealloc_frames(f, 3, 4);
    assert_eq!(a.stats().used_frames, 0);
    let g = a.alloc_frames(3, 4).unwrap();
    // SAFETY: ours again.
    let bytes = unsafe { core::slice::from_raw_parts(g as *const u8, 3 * PAGE_SIZE) };
    assert!(bytes.iter().all(|&b| b == 0), "reused frames are zeroed again");
}

#[test]
fn bad_frame_requests_fail_cleanly() {
    let a = GlobalAllocator::new();
    let (p, size) = ram(4);
    a.init(&[(p, size)]).unwrap();
    assert_eq!(a.alloc_frames(0, 1), None);
    assert_eq!(a.alloc_frames(1, 3), None, "alignment must be a power of two");
    assert_eq!(a.alloc_frames(usize::MAX, 1), None);
    assert_eq!(a.alloc_frames(1 << 20, 1), None, "more than there is");
    a.dealloc_frames(p + 1, 1, 1); // logged and ignored
    assert_eq!(a.stats().used_frames, 0);
}

#[test]
fn heap_grows_from_frames_when_full() {
    let a = GlobalAllocator::new();
    let (p, size) = ram(16);
    a.init(&[(p, size)]).unwrap();
    let layout = Layout::from_size_align(3 << 20, 8).unwrap();
    // SAFETY: layout has non-zero size.
    let big = unsafe { a.alloc(layout) };
    assert!(!big.is_null(), "a 3 MiB block needs the heap to grow past 2 MiB");
    let s = a.stats();
    assert!(s.heap_total > 2 << 20);
    assert!(s.used_frames > 0);
    assert!(s.heap_used >= 3 << 20);
    // SAFETY: same pointer and layout as the allocation.
    unsafe { a.dealloc(big, layout) };
    assert_eq!(a.stats().heap_used, 0);
}

#[test]
fn heap_exhaustion_returns_null() {
    let a = GlobalAllocator::new();
    let (p, size) = ram(4);
    a.init(&[(p, size)]).unwrap();
    let layout = Layout::from_size_align(64 << 20, 8).unwrap();
    // SAFETY: layout has non-zero size.
    assert!(unsafe { a.alloc(layout) }.is_null());
}
