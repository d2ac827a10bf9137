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
    assert!(a.init(&[(p, 1 << 20)], None).is_err());
}

#[test]
fn frames_are_aligned_zeroed_and_reused() {
    let a = GlobalAllocator::new();
    let (p, size) = ram(8);
    a.init(&[(p + 3, size - 3)], None).unwrap(); // unaligned start is trimmed
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
    assert_eq!(a.stats().used_frames, 3, "exactly the frames asked for");

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
    a.init(&[(p, size)], None).unwrap();
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
    a.init(&[(p, size)], None).unwrap();
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
    a.init(&[(p, size)], None).unwrap();
    let layout = Layout::from_size_align(64 << 20, 8).unwrap();
    // SAFETY: layout has non-zero size.
    assert!(unsafe { a.alloc(layout) }.is_null());
}

/// An allocator over `mib` MiB whose first 2 MiB are the heap; returns it
/// and the range of its frames.
fn pool(mib: usize) -> (GlobalAllocator, usize, usize) {
    let a = GlobalAllocator::new();
    let (p, size) = ram(mib);
    a.init(&[(p, size)], None).unwrap();
    (a, p + (2 << 20), p + size)
}

#[test]
fn reserve_takes_a_free_range_and_zeroes_it() {
    let (a, start, end) = pool(8);
    let free = a.stats().free_frames;
    let at = end - (1 << 20);
    // SAFETY: free frames of the buffer, not handed out.
    unsafe { core::ptr::write_bytes(at as *mut u8, 0x5a, 1 << 20) };
    a.reserve_range(at, 1 << 20, 7).unwrap();
    assert_eq!(a.stats().free_frames, free - 256);
    // SAFETY: the range is ours now.
    let bytes = unsafe { core::slice::from_raw_parts(at as *const u8, 1 << 20) };
    assert!(bytes.iter().all(|&b| b == 0));
    // Ordinary allocations never land in it.
    while let Some(f) = a.alloc_frames(1, 1) {
        assert!(!(at..end).contains(&f), "{f:#x} is inside the reservation");
        assert!(f >= start);
    }
}

#[test]
fn reserve_refuses_a_range_in_use_and_says_by_whom() {
    let (a, start, end) = pool(8);
    let f = a.alloc_frames(4, 1).unwrap();
    assert_eq!(f, start, "first fit from the bottom");
    assert_eq!(
        a.reserve_range(f, 0x4000, 1),
        Err(ReserveError::InUse { at: f }),
        "allocated frames"
    );
    let top = end - 0x10_0000;
    a.reserve_range(top, 0x10_0000, 2).unwrap();
    assert_eq!(
        a.reserve_range(top + 0x1000, 0x1000, 3),
        Err(ReserveError::Reserved {
            owner: 2,
            range: top..end
        })
    );
    assert!(a.reserve_range(top, 0x10_0000, 2).is_err(), "twice is refused");
}

#[test]
fn reserve_refuses_a_partial_overlap_and_takes_nothing() {
    let (a, start, end) = pool(8);
    let f = a.alloc_frames(3, 1).unwrap();
    assert_eq!(f, start, "first fit from the bottom");
    a.dealloc_frames(f, 2, 1); // frames 0 and 1 free again, 2 still used
    let free = a.stats().free_frames;
    assert_eq!(
        a.reserve_range(f, 0x3000, 1),
        Err(ReserveError::InUse { at: f + 0x2000 }),
        "begins on free frames, runs into a used one"
    );
    assert_eq!(
        a.reserve_range(start - 0x1000, 0x2000, 1),
        Err(ReserveError::NotManaged { at: start - 0x1000 }),
        "below is the initial heap, not the pool's"
    );
    assert_eq!(
        a.reserve_range(end - 0x1000, 0x2000, 1),
        Err(ReserveError::NotManaged { at: end }),
        "past the end of RAM"
    );
    assert_eq!(a.reserve_range(end - 0x1000, 0, 1), Err(ReserveError::BadRange));
    assert_eq!(a.reserve_range(end - 0x1fff, 0x1000, 1), Err(ReserveError::BadRange));
    assert_eq!(
        a.reserve_range(usize::MAX & !0xfff, 0x2000, 1),
        Err(ReserveError::BadRange)
    );
    assert_eq!(a.stats().free_frames, free, "nothing taken by the refusals");
    a.reserve_range(f, 0x2000, 1).unwrap();
    assert_eq!(a.stats().free_frames, free - 2);
}

#[test]
fn release_returns_the_range_and_reserve_succeeds_again() {
    let (a, _, end) = pool(8);
    let free = a.stats().free_frames;
    let at = end - 0x20_0000;
    a.reserve_range(at, 0x20_0000, 5).unwrap();
    assert_eq!(a.release_range(at, 0x1000), None, "only the exact range");
    assert_eq!(a.release_range(at, 0x20_0000), Some(5));
    assert_eq!(a.stats().free_frames, free);
    assert_eq!(a.release_range(at, 0x20_0000), None, "released once");
    a.reserve_range(at, 0x20_0000, 6).unwrap();
    // The freed frames merged back: one allocation can span them.
    a.release_range(at, 0x20_0000);
    let big = a.alloc_frames(free, 1);
    assert!(big.is_some(), "all free frames are one run again");
}

#[test]
fn dealloc_of_free_or_foreign_frames_is_ignored() {
    let (a, start, _) = pool(4);
    let f = a.alloc_frames(2, 1).unwrap();
    a.dealloc_frames(f, 2, 1);
    let free = a.stats().free_frames;
    a.dealloc_frames(f, 2, 1); // double free: logged and ignored
    a.dealloc_frames(start - 0x1000, 1, 1); // the heap's, not the pool's
    assert_eq!(a.stats().free_frames, free);
}

#[test]
fn managed_ram_is_told_apart_from_the_rest() {
    let (a, start, end) = pool(4);
    assert_eq!(a.first_managed_in(end, 0x1000), None);
    assert_eq!(
        a.first_managed_in(start - 0x2000, 0x1000),
        None,
        "the initial heap is not the pool's"
    );
    assert_eq!(a.first_managed_in(start - 0x1000, 0x3000), Some(start));
    assert_eq!(a.first_managed_in(end - 0x1000, 0x3000), Some(end - 0x1000));
}

#[test]
fn the_heap_grows_before_it_runs_dry() {
    // The frame pool's own bookkeeping is allocated from the heap under
    // the frame lock, so the heap must never be found empty: it grows while
    // at least HEAP_LOW_WATER bytes are still free.
    let a = GlobalAllocator::new();
    let (p, size) = ram(16);
    a.init(&[(p, size)], None).unwrap();
    let layout = Layout::from_size_align(16 << 10, 8).unwrap();
    let mut grew = false;
    for _ in 0..256 {
        let before = a.stats().heap_total;
        // SAFETY: a non-zero layout; the block is leaked on purpose.
        let block = unsafe { a.alloc(layout) };
        assert!(!block.is_null());
        let s = a.stats();
        grew |= s.heap_total > before;
        assert!(
            s.heap_total - s.heap_used >= 128 << 10,
            "only {} heap bytes left free ({} of {})",
            s.heap_total - s.heap_used,
            s.heap_used,
            s.heap_total
        );
    }
    assert!(grew, "256 blocks of 16 KiB need more than the initial 2 MiB heap");
}
