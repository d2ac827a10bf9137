//! The physical frame pool: free frames kept as a sorted map of ranges.
//!
//! Frames are counted in frame numbers (address / [`PAGE_SIZE`]). The pool
//! knows the RAM it was given at init (the *managed* ranges), which of it is
//! free, and which ranges were taken whole at a given address with
//! [`FramePool::reserve`] and by whom, so that a refused reservation can
//! say why: not RAM the allocator owns, reserved by someone else, or
//! handed out by an ordinary allocation.
//!
//! Allocation is first fit from the lowest address: ordinary allocations
//! fill RAM from the bottom up, which leaves the top of RAM free the longest
//! for reservations at fixed addresses.
//!
//! The pool also knows which free frames hold zeros ([`KnownZero`]): the
//! parts of the init ranges the caller declared zero, minus everything
//! handed out since. Each allocation and reservation says which of its
//! frames were in that set, so that only the others need zeroing.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use crate::global::PAGE_SIZE;
use crate::known_zero::{KnownZero, KnownZeroParts};

/// Why a range could not be reserved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReserveError {
    /// The address or the size is not a multiple of the frame size, the
    /// size is zero, or the range overflows.
    BadRange,
    /// Part of the range is not RAM that the allocator was given at boot:
    /// the hypervisor image, its boot data, or no RAM at all.
    NotManaged {
        /// The first address of the range that is not managed.
        at: usize,
    },
    /// Part of the range is reserved already.
    Reserved {
        /// The owner the overlapping reservation was made for.
        owner: usize,
        /// Its addresses.
        range: Range<usize>,
    },
    /// Part of the range is handed out by an ordinary allocation (the
    /// hypervisor's heap, page tables, or memory allocated to a VM).
    InUse {
        /// The first address of the range that is in use.
        at: usize,
    },
}

impl fmt::Display for ReserveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadRange => f.write_str("not a non-empty range of whole 4 KiB frames"),
            Self::NotManaged { at } => write!(
                f,
                "{at:#x} is not free RAM at boot (the hypervisor image, its boot data, or no RAM there)"
            ),
            Self::Reserved { owner, range } => write!(
                f,
                "overlaps [{:#x}, {:#x}) reserved by VM {owner}",
                range.start, range.end
            ),
            Self::InUse { at } => write!(
                f,
                "{at:#x} is in use (hypervisor heap, page tables, or memory allocated to a VM)"
            ),
        }
    }
}

/// A reservation made with [`FramePool::reserve`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reservation {
    frames: Range<usize>,
    owner: usize,
}

/// The free frames, the RAM they come from, and the fixed-address
/// reservations.
#[derive(Default)]
pub(crate) struct FramePool {
    /// Free ranges: first frame to one past the last, disjoint, not adjacent.
    free: BTreeMap<usize, usize>,
    /// The frame ranges given at init.
    managed: Vec<Range<usize>>,
    reservations: Vec<Reservation>,
    /// Free frames known to hold zeros (a subset of `free`).
    known_zero: KnownZero,
    pub(crate) total: usize,
    pub(crate) used: usize,
}

impl FramePool {
    pub(crate) const fn new() -> Self {
        Self {
            free: BTreeMap::new(),
            managed: Vec::new(),
            reservations: Vec::new(),
            known_zero: KnownZero::new(),
            total: 0,
            used: 0,
        }
    }

    /// Adds the free frames `frames` (a range the pool does not have yet),
    /// of which the frames from `zero_from` up are known to hold zeros
    /// (`None`: none are).
    pub(crate) fn add(&mut self, frames: Range<usize>, zero_from: Option<usize>) {
        if frames.is_empty() || self.managed.iter().any(|m| overlaps(m, &frames)) {
            return;
        }
        self.total += frames.len();
        self.managed.push(frames.clone());
        if let Some(z) = zero_from {
            self.known_zero.add(frames.start.max(z)..frames.end);
        }
        self.insert_free(frames);
    }

    /// Free frames known to hold zeros.
    pub(crate) fn known_zero_frames(&self) -> usize {
        self.known_zero.frames()
    }

    /// Takes `count` frames whose first is a multiple of `align` (a power of
    /// two), the lowest such run. Returns the first frame number and which
    /// of the frames are known to hold zeros.
    pub(crate) fn alloc(&mut self, count: usize, align: usize) -> Option<(usize, KnownZeroParts)> {
        if count == 0 || !align.is_power_of_two() {
            return None;
        }
        let (start, end, at) = self.free.iter().find_map(|(&start, &end)| {
            let at = start.checked_add(align - 1)? & !(align - 1);
            (at.checked_add(count)? <= end).then_some((start, end, at))
        })?;
        let zero = self.take(start, end, at..at + count);
        self.used += count;
        Some((at, zero))
    }

    /// Returns `count` frames from `first` to the free ranges. A range that
    /// is not managed or that is partly free already is refused (`false`).
    pub(crate) fn dealloc(&mut self, first: usize, count: usize) -> bool {
        let Some(end) = first.checked_add(count).filter(|_| count > 0) else {
            return false;
        };
        let frames = first..end;
        if !self.is_managed(&frames) || self.first_free_in(&frames).is_some() {
            return false;
        }
        self.insert_free(frames);
        self.used = self.used.saturating_sub(count);
        true
    }

    /// Takes the frames of `[addr, addr + size)` for `owner`, if all of
    /// them are free; says which of them are known to hold zeros.
    pub(crate) fn reserve(&mut self, addr: usize, size: usize, owner: usize) -> Result<KnownZeroParts, ReserveError> {
        let frames = byte_range_to_frames(addr, size)?;
        if let Some(at) = self.first_unmanaged_in(&frames) {
            return Err(ReserveError::NotManaged { at: at * PAGE_SIZE });
        }
        if let Some(r) = self.reservations.iter().find(|r| overlaps(&r.frames, &frames)) {
            return Err(ReserveError::Reserved {
                owner: r.owner,
                range: r.frames.start * PAGE_SIZE..r.frames.end * PAGE_SIZE,
            });
        }
        let holder = self
            .free
            .range(..=frames.start)
            .next_back()
            .map(|(&s, &e)| (s, e))
            .filter(|&(_, e)| e >= frames.end);
        let Some((start, end)) = holder else {
            let at = self.first_used_in(&frames).unwrap_or(frames.start);
            return Err(ReserveError::InUse { at: at * PAGE_SIZE });
        };
        let zero = self.take(start, end, frames.clone());
        self.used += frames.len();
        self.reservations.push(Reservation { frames, owner });
        Ok(zero)
    }

    /// Gives back the reservation of exactly `[addr, addr + size)`;
    /// returns its owner, or `None` if there is no such reservation.
    pub(crate) fn release(&mut self, addr: usize, size: usize) -> Option<usize> {
        let frames = byte_range_to_frames(addr, size).ok()?;
        let i = self.reservations.iter().position(|r| r.frames == frames)?;
        let r = self.reservations.swap_remove(i);
        self.insert_free(frames.clone());
        self.used = self.used.saturating_sub(frames.len());
        Some(r.owner)
    }

    /// Removes `taken` from the free range `start..end` that holds it (and
    /// from the known-zero frames: from now on it is dirty).
    fn take(&mut self, start: usize, end: usize, taken: Range<usize>) -> KnownZeroParts {
        let zero = self.known_zero.take(&taken);
        self.free.remove(&start);
        if start < taken.start {
            self.free.insert(start, taken.start);
        }
        if taken.end < end {
            self.free.insert(taken.end, end);
        }
        zero
    }

    /// Adds `frames` (none of them free) to the free ranges, merged with
    /// its neighbours.
    fn insert_free(&mut self, frames: Range<usize>) {
        let mut start = frames.start;
        let mut end = frames.end;
        if let Some((&s, &e)) = self.free.range(..start).next_back()
            && e == start
        {
            self.free.remove(&s);
            start = s;
        }
        if let Some(e) = self.free.remove(&end) {
            end = e;
        }
        self.free.insert(start, end);
    }

    fn is_managed(&self, frames: &Range<usize>) -> bool {
        self.first_unmanaged_in(frames).is_none()
    }

    /// The first frame of `frames` outside every managed range.
    fn first_unmanaged_in(&self, frames: &Range<usize>) -> Option<usize> {
        let mut at = frames.start;
        'walk: while at < frames.end {
            for m in &self.managed {
                if m.contains(&at) {
                    at = m.end;
                    continue 'walk;
                }
            }
            return Some(at);
        }
        None
    }

    /// The first frame of `frames` inside a managed range.
    pub(crate) fn first_managed_in(&self, frames: &Range<usize>) -> Option<usize> {
        self.managed
            .iter()
            .filter(|m| overlaps(m, frames))
            .map(|m| m.start.max(frames.start))
            .min()
    }

    /// The first free frame of `frames`.
    fn first_free_in(&self, frames: &Range<usize>) -> Option<usize> {
        if let Some((_, &e)) = self.free.range(..=frames.start).next_back()
            && e > frames.start
        {
            return Some(frames.start);
        }
        self.free.range(frames.start..frames.end).next().map(|(&s, _)| s)
    }

    /// The first frame of `frames` that is not free.
    fn first_used_in(&self, frames: &Range<usize>) -> Option<usize> {
        let mut at = frames.start;
        while at < frames.end {
            match self.free.range(..=at).next_back() {
                Some((_, &e)) if e > at => at = e,
                _ => return Some(at),
            }
        }
        None
    }
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// The frames of the byte range `[addr, addr + size)`, which must be whole frames.
fn byte_range_to_frames(addr: usize, size: usize) -> Result<Range<usize>, ReserveError> {
    let end = addr.checked_add(size).ok_or(ReserveError::BadRange)?;
    if size == 0 || !addr.is_multiple_of(PAGE_SIZE) || !size.is_multiple_of(PAGE_SIZE) {
        return Err(ReserveError::BadRange);
    }
    Ok(addr / PAGE_SIZE..end / PAGE_SIZE)
}
