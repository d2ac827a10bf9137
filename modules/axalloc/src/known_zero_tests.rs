//! Host tests of the known-zero frames: the pool's bookkeeping in frame
//! numbers, a model check that no dirty frame is ever reported zero, and
//! the allocator skipping (only) the zeroing of known-zero frames.

// Lists of frame ranges with one element are what these tests mean.
#![allow(clippy::single_range_in_vec_init)]

use crate::frames::FramePool;
use crate::global::{GlobalAllocator, PAGE_SIZE};
use crate::known_zero::{CAPACITY, KnownZeroParts, MAX_REPORTED};
use core::alloc::Layout;
use core::ops::Range;

fn parts(p: &KnownZeroParts) -> Vec<Range<usize>> {
    p.as_slice().to_vec()
}

/// A pool with the frames `frames`, known zero from `zero_from` up.
fn pool_of(frames: Range<usize>, zero_from: Option<usize>) -> FramePool {
    let mut p = FramePool::new();
    p.add(frames, zero_from);
    p
}

#[test]
fn clean_ram_is_reported_clean() {
    let mut p = pool_of(100..200, Some(0));
    assert_eq!(p.known_zero_frames(), 100);
    let (at, zero) = p.alloc(10, 1).unwrap();
    assert_eq!(at, 100);
    assert_eq!(parts(&zero), [100..110]);
    assert_eq!(p.known_zero_frames(), 90);
    let (at, zero) = p.alloc(4, 4).unwrap();
    assert_eq!(at, 112, "aligned to 4 frames");
    assert_eq!(parts(&zero), [112..116]);
    assert_eq!(p.known_zero_frames(), 86);
}

#[test]
fn nothing_is_clean_unless_the_caller_says_so() {
    let mut p = pool_of(100..200, None);
    assert_eq!(p.known_zero_frames(), 0);
    let (_, zero) = p.alloc(100, 1).unwrap();
    assert!(zero.as_slice().is_empty());
}

#[test]
fn freed_frames_come_back_dirty() {
    let mut p = pool_of(100..200, Some(0));
    let (at, _) = p.alloc(10, 1).unwrap();
    assert!(p.dealloc(at, 10));
    assert_eq!(p.known_zero_frames(), 90, "freeing adds nothing to the set");
    let (again, zero) = p.alloc(10, 1).unwrap();
    assert_eq!(again, at, "first fit takes the freed frames again");
    assert!(zero.as_slice().is_empty(), "{zero:?}");
}

#[test]
fn an_allocation_over_dirty_and_clean_frames_reports_only_the_clean() {
    // Known zero from frame 150: the frames below it are dirty.
    let mut p = pool_of(100..200, Some(150));
    assert_eq!(p.known_zero_frames(), 50);
    let (at, zero) = p.alloc(60, 1).unwrap();
    assert_eq!(at, 100);
    assert_eq!(parts(&zero), [150..160]);
    assert_eq!(zero.frames(), 10);
    // Free the first 55 frames (dirty), then take 20: 5 of them (155..160)
    // were handed out before, so only the run after 160 is clean... but the
    // lowest 20 free frames are 100..120, all dirty.
    assert!(p.dealloc(100, 55));
    let (at, zero) = p.alloc(20, 1).unwrap();
    assert_eq!(at, 100);
    assert!(zero.as_slice().is_empty());
    // Give back everything handed out: one free run 100..200 whose top
    // 40 frames are still clean.
    assert!(p.dealloc(100, 20));
    assert!(p.dealloc(155, 5));
    let (at, zero) = p.alloc(100, 1).unwrap();
    assert_eq!(at, 100);
    assert_eq!(parts(&zero), [160..200]);
}

#[test]
fn a_region_below_the_zero_line_is_dirty_and_one_above_clean() {
    let mut p = FramePool::new();
    p.add(10..20, Some(50));
    p.add(60..70, Some(50));
    assert_eq!(p.known_zero_frames(), 10);
    let (at, zero) = p.alloc(10, 1).unwrap();
    assert_eq!(at, 10);
    assert!(zero.as_slice().is_empty());
    let (at, zero) = p.alloc(10, 1).unwrap();
    assert_eq!(at, 60);
    assert_eq!(parts(&zero), [60..70]);
}

#[test]
fn reservations_take_their_frames_out_of_the_set() {
    let mut p = pool_of(0..1000, Some(0));
    let zero = p.reserve(500 * PAGE_SIZE, 100 * PAGE_SIZE, 1).unwrap();
    assert_eq!(parts(&zero), [500..600], "clean RAM reserved whole");
    assert_eq!(p.known_zero_frames(), 900, "split around the reservation");
    // Both halves are still clean.
    let (at, zero) = p.alloc(500, 1).unwrap();
    assert_eq!(at, 0);
    assert_eq!(parts(&zero), [0..500]);
    let (at, zero) = p.alloc(400, 1).unwrap();
    assert_eq!(at, 600);
    assert_eq!(parts(&zero), [600..1000]);
    // A released reservation is dirty.
    assert_eq!(p.release(500 * PAGE_SIZE, 100 * PAGE_SIZE), Some(1));
    let zero = p.reserve(550 * PAGE_SIZE, 10 * PAGE_SIZE, 2).unwrap();
    assert!(zero.as_slice().is_empty());
    assert_eq!(p.known_zero_frames(), 0);
}

#[test]
fn a_reservation_over_dirty_and_clean_frames_reports_only_the_clean() {
    let mut p = pool_of(0..100, Some(0));
    let (at, _) = p.alloc(10, 1).unwrap();
    assert!(p.dealloc(at, 10));
    let zero = p.reserve(5 * PAGE_SIZE, 10 * PAGE_SIZE, 1).unwrap();
    assert_eq!(parts(&zero), [10..15]);
    let refused = p.reserve(12 * PAGE_SIZE, 10 * PAGE_SIZE, 2);
    assert!(refused.is_err());
    assert_eq!(p.known_zero_frames(), 85, "a refused reservation takes nothing");
}

/// Cuts the known-zero set of a fresh pool over `0..frames` into pieces
/// by reserving every other block of 10 frames, `holes` times.
fn fragmented(frames: usize, holes: usize) -> FramePool {
    let mut p = pool_of(0..frames, Some(0));
    for i in 0..holes {
        let at = (20 * i + 10) * PAGE_SIZE;
        p.reserve(at, 10 * PAGE_SIZE, i).unwrap();
    }
    p
}

#[test]
fn when_the_set_is_full_a_split_drops_its_smaller_half() {
    // CAPACITY - 1 holes make CAPACITY pieces: the set is full but exact.
    let mut p = fragmented(10_000, CAPACITY - 1);
    let clean = 10_000 - 10 * (CAPACITY - 1);
    assert_eq!(p.known_zero_frames(), clean);
    // One more hole near the top of the last (largest) piece: its smaller
    // half (above the hole) leaves the set.
    let zero = p.reserve(9_900 * PAGE_SIZE, 10 * PAGE_SIZE, 99).unwrap();
    assert_eq!(parts(&zero), [9_900..9_910]);
    assert_eq!(p.known_zero_frames(), clean - 10 - 90);
    let zero = p.reserve(9_910 * PAGE_SIZE, 90 * PAGE_SIZE, 100).unwrap();
    assert!(zero.as_slice().is_empty(), "dropped frames are dirty: {zero:?}");
    // The larger half below the hole is still clean.
    let zero = p.reserve(9_000 * PAGE_SIZE, 900 * PAGE_SIZE, 101).unwrap();
    assert_eq!(parts(&zero), [9_000..9_900]);
}

#[test]
fn an_allocation_over_many_pieces_reports_a_few_and_the_rest_is_dirty() {
    let mut p = fragmented(1_000, 10);
    // Give the holes back (dirty): one free run over clean and dirty
    // blocks that alternate, 11 clean pieces.
    for i in 0..10 {
        assert_eq!(p.release((20 * i + 10) * PAGE_SIZE, 10 * PAGE_SIZE), Some(i));
    }
    let (at, zero) = p.alloc(200, 1).unwrap();
    assert_eq!(at, 0);
    let want: Vec<_> = (0..MAX_REPORTED).map(|i| 20 * i..20 * i + 10).collect();
    assert_eq!(parts(&zero), want, "the first pieces, in order");
    assert_eq!(p.known_zero_frames(), 800, "all ten pieces under it left the set");
    // The unreported pieces were not handed back to the set.
    assert!(p.dealloc(0, 200));
    let (_, zero) = p.alloc(200, 1).unwrap();
    assert!(zero.as_slice().is_empty());
}

#[test]
fn dirty_parts_are_the_complement_of_the_clean_parts() {
    let mut p = pool_of(0..100, Some(0));
    let (_, _) = p.alloc(10, 1).unwrap();
    assert!(p.dealloc(0, 10));
    p.reserve(30 * PAGE_SIZE, 10 * PAGE_SIZE, 1).unwrap();
    assert_eq!(p.release(30 * PAGE_SIZE, 10 * PAGE_SIZE), Some(1));
    let (at, zero) = p.alloc(50, 1).unwrap();
    assert_eq!(parts(&zero), [10..30, 40..50]);
    let dirty: Vec<_> = zero.dirty_parts(at..at + 50).collect();
    assert_eq!(dirty, [0..10, 30..40]);
    let none = KnownZeroParts::default();
    assert_eq!(none.dirty_parts(5..9).collect::<Vec<_>>(), [5..9]);
}

/// xorshift64: a fixed sequence, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Random allocations, frees, reservations and releases against a model
/// that marks every frame handed out (and every frame below the zero
/// line) dirty for good: a frame reported zero must never be dirty, and
/// the reported parts must lie in the allocation, in order.
#[test]
fn no_dirty_frame_is_ever_reported_clean() {
    const FRAMES: usize = 4096;
    const ZERO_FROM: usize = 300;
    for seed in 1..=20u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut p = FramePool::new();
        p.add(0..FRAMES / 2, Some(ZERO_FROM));
        p.add(FRAMES / 2 + 64..FRAMES, Some(ZERO_FROM));
        let mut dirty: Vec<bool> = (0..FRAMES).map(|f| f < ZERO_FROM).collect();
        let mut allocs: Vec<(usize, usize)> = Vec::new();
        let mut reserved: Vec<Range<usize>> = Vec::new();
        let check = |first: usize, count: usize, zero: &KnownZeroParts, dirty: &mut Vec<bool>| {
            let mut last = first;
            for part in zero.as_slice() {
                assert!(
                    !part.is_empty() && part.start >= last && part.end <= first + count,
                    "seed {seed}: {zero:?}"
                );
                last = part.end;
                for f in part.clone() {
                    assert!(
                        !dirty[f],
                        "seed {seed}: frame {f} reported zero after it was handed out"
                    );
                }
            }
            dirty[first..first + count].fill(true);
        };
        for _ in 0..2000 {
            match rng.below(4) {
                0 => {
                    let count = 1 + rng.below(64);
                    let align = 1 << rng.below(5);
                    if let Some((at, zero)) = p.alloc(count, align) {
                        check(at, count, &zero, &mut dirty);
                        allocs.push((at, count));
                    }
                }
                1 if !allocs.is_empty() => {
                    let (at, count) = allocs.swap_remove(rng.below(allocs.len()));
                    assert!(p.dealloc(at, count));
                }
                2 => {
                    let first = rng.below(FRAMES);
                    let count = 1 + rng.below(32);
                    if let Ok(zero) = p.reserve(first * PAGE_SIZE, count * PAGE_SIZE, 0) {
                        check(first, count, &zero, &mut dirty);
                        reserved.push(first..first + count);
                    }
                }
                3 if !reserved.is_empty() => {
                    let r = reserved.swap_remove(rng.below(reserved.len()));
                    let size = r.len() * PAGE_SIZE;
                    assert_eq!(p.release(r.start * PAGE_SIZE, size), Some(0));
                }
                _ => {}
            }
            let clean = dirty.iter().filter(|&&d| !d).count();
            assert!(
                p.known_zero_frames() <= clean,
                "seed {seed}: more known zero than never used"
            );
        }
    }
}

#[test]
fn the_allocator_writes_only_the_frames_not_known_zero() {
    // A buffer standing in for RAM, filled with a pattern; the allocator is
    // told (falsely, on purpose) that its top half holds zeros, so what it
    // writes and what it leaves can be told apart.
    let size = 8 << 20;
    let layout = Layout::from_size_align(size, PAGE_SIZE).unwrap();
    // SAFETY: non-zero size; the buffer is leaked on purpose.
    let p = unsafe { std::alloc::alloc(layout) } as usize;
    assert_ne!(p, 0);
    // SAFETY: the buffer is ours.
    unsafe { core::ptr::write_bytes(p as *mut u8, 0x77, size) };
    let a = GlobalAllocator::new();
    let zero_from = p + size / 2;
    a.init(&[(p, size)], Some(zero_from)).unwrap();
    assert_eq!(a.stats().known_zero_frames, size / 2 / PAGE_SIZE);
    let bytes = |at: usize, len: usize| {
        // SAFETY: inside the buffer, which stays alive.
        unsafe { core::slice::from_raw_parts(at as *const u8, len) }.to_vec()
    };

    // The first frames (below the line) are zeroed.
    let low = a.alloc_frames(4, 1).unwrap();
    assert!(low < zero_from);
    assert!(bytes(low, 4 * PAGE_SIZE).iter().all(|&b| b == 0));

    // A reservation across the line: its lower part zeroed, its upper
    // part (known zero) left as it is.
    let across = zero_from - 2 * PAGE_SIZE;
    a.reserve_range(across, 4 * PAGE_SIZE, 1).unwrap();
    assert!(bytes(across, 2 * PAGE_SIZE).iter().all(|&b| b == 0), "dirty: zeroed");
    assert!(
        bytes(zero_from, 2 * PAGE_SIZE).iter().all(|&b| b == 0x77),
        "known zero: left alone"
    );
    assert_eq!(a.stats().known_zero_frames, size / 2 / PAGE_SIZE - 2);

    // Once given back they are dirty, and zeroed when handed out again.
    assert_eq!(a.release_range(across, 4 * PAGE_SIZE), Some(1));
    a.reserve_range(zero_from, 2 * PAGE_SIZE, 2).unwrap();
    assert!(bytes(zero_from, 2 * PAGE_SIZE).iter().all(|&b| b == 0), "freed: zeroed");
}
