//! The allocator itself: a growing heap over a buddy frame allocator.

use buddy_system_allocator::{FrameAllocator, Heap};
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;
use kspin::SpinNoIrq;

/// Size of a frame.
pub const PAGE_SIZE: usize = 0x1000;
/// Heap taken from the first region big enough at init.
const INITIAL_HEAP: usize = 2 << 20;
/// Smallest step the heap grows by.
const HEAP_GROW_MIN: usize = 1 << 20;

/// Usage figures, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocStats {
    /// Bytes of RAM given to the heap so far.
    pub heap_total: usize,
    /// Bytes the heap has handed out (as requested by callers).
    pub heap_used: usize,
    /// Frames free in the frame allocator.
    pub free_frames: usize,
    /// Frames handed out (heap growth included).
    pub used_frames: usize,
}

/// Heap plus frames, each behind its own IRQ-safe lock. The two locks are
/// never held together, so heap growth (which takes frames, which may touch
/// the heap for the buddy lists) cannot deadlock.
pub struct GlobalAllocator {
    heap: SpinNoIrq<Heap<32>>,
    frames: SpinNoIrq<Frames>,
}

/// The buddy frame allocator with the counters it does not expose.
struct Frames {
    buddy: FrameAllocator<32>,
    total: usize,
    used: usize,
}

impl Default for GlobalAllocator {
    fn default() -> Self {
        Self::new()
    }
}

fn align_up(x: usize, a: usize) -> Option<usize> {
    Some(x.checked_add(a - 1)? & !(a - 1))
}

impl GlobalAllocator {
    /// An allocator with no memory; [`Self::init`] gives it some.
    pub const fn new() -> Self {
        Self {
            heap: SpinNoIrq::new(Heap::new()),
            frames: SpinNoIrq::new(Frames {
                buddy: FrameAllocator::new(),
                total: 0,
                used: 0,
            }),
        }
    }

    /// Takes the given free regions `(start, size)`. Each region is trimmed
    /// to whole frames. The first region of at least 2 MiB gives the initial
    /// heap; the rest becomes frames. The regions must be RAM that nothing
    /// else uses, mapped read-write at these addresses. Fails if no region
    /// is large enough for the initial heap.
    pub fn init(&self, regions: &[(usize, usize)]) -> Result<(), &'static str> {
        let mut heap_taken = false;
        let mut frames = whole_frames(regions);
        // First pass: the heap, so the frame allocator's lists have memory.
        for r in frames.iter_mut() {
            if !heap_taken && r.1 - r.0 >= INITIAL_HEAP {
                // SAFETY: the caller gives us exclusive use of these regions,
                // mapped read-write; the range is frame aligned and in bounds.
                unsafe { self.heap.lock().add_to_heap(r.0, r.0 + INITIAL_HEAP) };
                r.0 += INITIAL_HEAP;
                heap_taken = true;
            }
        }
        if !heap_taken {
            return Err("no free RAM region of 2 MiB for the initial heap");
        }
        for (start, end) in frames.iter().copied().filter(|r| r.0 < r.1) {
            let mut f = self.frames.lock();
            f.buddy.add_frame(start / PAGE_SIZE, end / PAGE_SIZE);
            f.total += (end - start) / PAGE_SIZE;
        }
        Ok(())
    }

    /// Allocates `count` contiguous frames aligned to `align_pages` frames
    /// (a power of two) and zeroes them. `None` when out of memory or for a
    /// bad request (zero count, alignment not a power of two).
    pub fn alloc_frames(&self, count: usize, align_pages: usize) -> Option<usize> {
        let blocks = block_frames(count, align_pages)?;
        let size = count.checked_mul(PAGE_SIZE)?;
        let addr = {
            let mut f = self.frames.lock();
            let frame = f.buddy.alloc_aligned(Layout::from_size_align(blocks, blocks).ok()?)?;
            f.used += blocks;
            frame * PAGE_SIZE
        };
        // SAFETY: the frames were just taken from the free pool, which only
        // holds RAM the caller of `init` gave us, mapped read-write.
        unsafe { core::ptr::write_bytes(addr as *mut u8, 0, size) };
        Some(addr)
    }

    /// Gives back frames from [`Self::alloc_frames`], with the same count
    /// and alignment.
    pub fn dealloc_frames(&self, addr: usize, count: usize, align_pages: usize) {
        let Some(blocks) = block_frames(count, align_pages).filter(|_| addr.is_multiple_of(PAGE_SIZE)) else {
            log::error!("dealloc_frames({addr:#x}, {count}, {align_pages}): bad request ignored");
            return;
        };
        let mut f = self.frames.lock();
        f.buddy.dealloc(addr / PAGE_SIZE, blocks);
        f.used = f.used.saturating_sub(blocks);
    }

    /// Current usage.
    pub fn stats(&self) -> AllocStats {
        let (heap_total, heap_used) = {
            let h = self.heap.lock();
            (h.stats_total_bytes(), h.stats_alloc_user())
        };
        let f = self.frames.lock();
        let (total, used) = (f.total, f.used);
        let (free_frames, used_frames) = (total - used, used);
        AllocStats {
            heap_total,
            heap_used,
            free_frames,
            used_frames,
        }
    }

    fn grow_heap(&self, layout: &Layout) -> bool {
        // The heap is a buddy allocator too: a block of `size` needs a
        // naturally aligned power-of-two chunk. Frames come back naturally
        // aligned, so one power-of-two chunk of at least that size serves.
        let Some(bytes) = layout
            .size()
            .max(layout.align())
            .max(HEAP_GROW_MIN)
            .checked_next_power_of_two()
        else {
            return false;
        };
        let pages = bytes / PAGE_SIZE;
        let Some(addr) = self.alloc_frames(pages, 1) else {
            return false;
        };
        // SAFETY: the frames are ours from now on and are mapped read-write.
        unsafe { self.heap.lock().add_to_heap(addr, addr + bytes) };
        true
    }
}

/// Frames the buddy allocator really hands out for a request: the count
/// rounded up to a power of two, at least the alignment. `None` for a zero
/// count or an alignment that is not a power of two.
fn block_frames(count: usize, align_pages: usize) -> Option<usize> {
    let align = align_pages.max(1);
    if count == 0 || !align.is_power_of_two() {
        return None;
    }
    Some(count.checked_next_power_of_two()?.max(align))
}

/// Trims each region to whole frames, dropping the ones with none.
fn whole_frames(regions: &[(usize, usize)]) -> [(usize, usize); 16] {
    let mut out = [(0usize, 0usize); 16];
    let mut n = 0;
    for &(start, size) in regions {
        let (Some(s), Some(end)) = (align_up(start, PAGE_SIZE), start.checked_add(size)) else {
            continue;
        };
        let e = end & !(PAGE_SIZE - 1);
        if s < e && n < out.len() {
            out[n] = (s, e);
            n += 1;
        }
    }
    out
}

// SAFETY: `alloc` returns memory from the heap, which only holds RAM handed to
// us for exclusive use; sizes and alignment come from `layout`, which the
// buddy heap honours. `dealloc` returns the block with the same layout.
unsafe impl GlobalAlloc for GlobalAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        loop {
            if let Ok(p) = self.heap.lock().alloc(layout) {
                return p.as_ptr();
            }
            if !self.grow_heap(&layout) {
                return core::ptr::null_mut();
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(p) = NonNull::new(ptr) {
            // SAFETY: `ptr` came from `alloc` with this `layout` (GlobalAlloc contract).
            unsafe { self.heap.lock().dealloc(p, layout) };
        }
    }
}
