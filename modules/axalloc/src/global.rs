//! The allocator itself: a growing buddy heap over the frame pool.

use crate::frames::{FramePool, ReserveError};
use crate::known_zero::KnownZeroParts;
use buddy_system_allocator::Heap;
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};
use kspin::SpinNoIrq;

/// Size of a frame.
pub const PAGE_SIZE: usize = 0x1000;
/// Heap taken from the first region big enough at init.
const INITIAL_HEAP: usize = 2 << 20;
/// Smallest step the heap grows by.
const HEAP_GROW_MIN: usize = 1 << 20;
/// Heap bytes kept free. The frame pool's bookkeeping (its B-tree nodes and
/// lists) is allocated from this heap while the frame lock is held; if the
/// heap had to grow then, the growth would wait for that same lock
/// forever. So the heap grows as soon as less than this is left, while the
/// bookkeeping still has room.
const HEAP_LOW_WATER: usize = 256 << 10;
/// How long an allocation that found the heap empty waits for another
/// CPU's growth to finish, in spin turns.
const GROW_WAIT_SPINS: u32 = 1 << 20;

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
    /// Free frames known to hold zeros (handed out without zeroing).
    pub known_zero_frames: usize,
}

/// Heap plus frames, each behind its own IRQ-safe lock. The two locks are
/// never held together. Heap growth takes frames, and the frame pool
/// allocates its bookkeeping from the heap under the frame lock: growth
/// starts early (`HEAP_LOW_WATER`) and one CPU at a time (`growing`), and
/// an allocation made during a growth never starts another, so the frame
/// lock is never asked for by the CPU that holds it.
pub struct GlobalAllocator {
    heap: SpinNoIrq<Heap<32>>,
    frames: SpinNoIrq<FramePool>,
    growing: AtomicBool,
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
            frames: SpinNoIrq::new(FramePool::new()),
            growing: AtomicBool::new(false),
        }
    }

    /// Takes the given free regions `(start, size)`. Each region is trimmed
    /// to whole frames. The first region of at least 2 MiB gives the initial
    /// heap; the rest becomes frames. The regions must be RAM that nothing
    /// else uses, mapped read-write at these addresses. Fails if no region
    /// is large enough for the initial heap.
    ///
    /// `zero_from`: the RAM of the regions at and above this address holds
    /// zeros now (nothing has written it since power-on), so it is handed
    /// out without being zeroed the first time; `None` when the platform
    /// cannot promise that for any of it. A wrong promise gives one VM
    /// whatever was left in that RAM.
    pub fn init(&self, regions: &[(usize, usize)], zero_from: Option<usize>) -> Result<(), &'static str> {
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
        // A partly zero frame is not a zero frame: round up.
        let zero_frame = zero_from
            .and_then(|z| z.checked_add(PAGE_SIZE - 1))
            .map(|z| z / PAGE_SIZE);
        for (start, end) in frames.iter().copied().filter(|r| r.0 < r.1) {
            self.frames.lock().add(start / PAGE_SIZE..end / PAGE_SIZE, zero_frame);
        }
        Ok(())
    }

    /// Allocates `count` contiguous zeroed frames aligned to `align_pages`
    /// frames (a power of two; 0 counts as 1): the lowest free run that
    /// fits. `None` when out of memory or for a bad request (zero count,
    /// alignment not a power of two). Frames known to hold zeros already
    /// are not written.
    pub fn alloc_frames(&self, count: usize, align_pages: usize) -> Option<usize> {
        count.checked_mul(PAGE_SIZE)?;
        let (frame, zero) = self.frames.lock().alloc(count, align_pages.max(1))?;
        zero_dirty_parts(frame..frame + count, &zero);
        Some(frame * PAGE_SIZE)
    }

    /// Gives back frames from [`Self::alloc_frames`], with the same count
    /// (the alignment is not needed, and is accepted for symmetry). A range
    /// that is not whole frames, not RAM given at init, or partly free
    /// already is logged and ignored.
    pub fn dealloc_frames(&self, addr: usize, count: usize, align_pages: usize) {
        let ok = addr.is_multiple_of(PAGE_SIZE) && self.frames.lock().dealloc(addr / PAGE_SIZE, count);
        if !ok {
            log::error!("dealloc_frames({addr:#x}, {count}, {align_pages}): bad request ignored");
        }
    }

    /// Takes the frames of `[addr, addr + size)` (whole frames) for `owner`
    /// (a VM id, for the messages of later refusals) and zeroes them (those
    /// not known to hold zeros already). Fails, taking nothing, unless every
    /// frame of the range is free RAM that the allocator was given at init;
    /// the error says what is in the way.
    pub fn reserve_range(&self, addr: usize, size: usize, owner: usize) -> Result<(), ReserveError> {
        let zero = self.frames.lock().reserve(addr, size, owner)?;
        let first = addr / PAGE_SIZE;
        zero_dirty_parts(first..first + size / PAGE_SIZE, &zero);
        Ok(())
    }

    /// The first address of `[addr, addr + size)` inside the RAM the
    /// allocator was given at init (free or not), if any.
    pub fn first_managed_in(&self, addr: usize, size: usize) -> Option<usize> {
        let first = addr / PAGE_SIZE;
        let end = addr.saturating_add(size).div_ceil(PAGE_SIZE);
        self.frames
            .lock()
            .first_managed_in(&(first..end))
            .map(|f| (f * PAGE_SIZE).max(addr))
    }

    /// Gives back the range reserved with [`Self::reserve_range`] at exactly
    /// `[addr, addr + size)`. Returns its owner, or `None` (logged) when no
    /// such reservation exists.
    pub fn release_range(&self, addr: usize, size: usize) -> Option<usize> {
        let owner = self.frames.lock().release(addr, size);
        if owner.is_none() {
            log::error!("release_range({addr:#x}, {size:#x}): no such reservation");
        }
        owner
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
            known_zero_frames: f.known_zero_frames(),
        }
    }

    /// Claims the right to grow the heap; `false` when a growth is under
    /// way.
    fn start_growth(&self) -> bool {
        self.growing
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Waits (bounded) until no growth is under way; `false` when it did not
    /// end: the waiting allocation is then the growth's own, which must not
    /// wait for itself.
    fn wait_for_growth(&self) -> bool {
        for _ in 0..GROW_WAIT_SPINS {
            if !self.growing.load(Ordering::Acquire) {
                return true;
            }
            core::hint::spin_loop();
        }
        false
    }

    fn grow_heap(&self, layout: &Layout) -> bool {
        // The heap is a buddy allocator: a block of `size` needs a naturally
        // aligned power-of-two chunk, so the frames are asked for aligned
        // to their own size.
        let Some(bytes) = layout
            .size()
            .max(layout.align())
            .max(HEAP_GROW_MIN)
            .checked_next_power_of_two()
        else {
            return false;
        };
        let pages = bytes / PAGE_SIZE;
        let Some(addr) = self.alloc_frames(pages, pages) else {
            return false;
        };
        // SAFETY: the frames are ours from now on and are mapped read-write.
        unsafe { self.heap.lock().add_to_heap(addr, addr + bytes) };
        true
    }
}

/// Zeroes the frames of `frames` (just taken from the pool) that `zero`
/// does not say hold zeros already. Called without the pool lock: the
/// frames belong to the caller now.
fn zero_dirty_parts(frames: core::ops::Range<usize>, zero: &KnownZeroParts) {
    for dirty in zero.dirty_parts(frames) {
        // SAFETY: the frames were just taken from the free pool, which only
        // holds RAM the caller of `init` gave us, mapped read-write; the
        // range is inside them (frame numbers that fit in an address).
        unsafe { core::ptr::write_bytes((dirty.start * PAGE_SIZE) as *mut u8, 0, dirty.len() * PAGE_SIZE) };
    }
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
            let (result, low) = {
                let mut h = self.heap.lock();
                let result = h.alloc(layout);
                let free = h.stats_total_bytes().saturating_sub(h.stats_alloc_actual());
                (result, free < HEAP_LOW_WATER)
            };
            if let Ok(p) = result {
                if low && self.start_growth() {
                    let min = Layout::from_size_align(HEAP_GROW_MIN, 1).unwrap_or(layout);
                    // Failing here only means no frames are left; the
                    // allocation itself succeeded.
                    let _ = self.grow_heap(&min);
                    self.growing.store(false, Ordering::Release);
                }
                return p.as_ptr();
            }
            if !self.start_growth() {
                // Another CPU is growing the heap (or this allocation is the
                // frame pool's, during a growth): wait for it, then retry.
                if !self.wait_for_growth() {
                    return core::ptr::null_mut();
                }
                continue;
            }
            let grown = self.grow_heap(&layout);
            self.growing.store(false, Ordering::Release);
            if !grown {
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
