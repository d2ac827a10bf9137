//! Which free frames are known to hold zeros: RAM nobody has written since
//! power-on, on a platform whose boot RAM starts zeroed.
//!
//! The set is a small sorted array of disjoint frame ranges, so that
//! taking frames out of it never allocates (the pool works under its lock,
//! and the heap grows from the pool). Frames only ever leave the set: it
//! is filled once at init, and frames handed out and given back are dirty
//! for good. When a split would need more pieces than the array holds, the
//! smaller half is dropped from the set: those frames are zeroed when they
//! are handed out, which costs time and is always safe.

use core::ops::Range;

/// Most pieces the set tracks.
pub(crate) const CAPACITY: usize = 32;

/// Most known-zero pieces one allocation reports; the rest of its frames
/// are treated as dirty.
pub(crate) const MAX_REPORTED: usize = 4;

/// The parts of one allocation (frame ranges, in address order, disjoint)
/// that were known to hold zeros when it was taken. Every frame of the
/// allocation outside these parts may hold old data and must be zeroed
/// before anyone else sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct KnownZeroParts {
    parts: [Range<usize>; MAX_REPORTED],
    len: usize,
}

impl KnownZeroParts {
    /// The known-zero frame ranges, in address order.
    pub(crate) fn as_slice(&self) -> &[Range<usize>] {
        self.parts.get(..self.len).unwrap_or(&[])
    }

    /// How many frames are known zero.
    #[cfg(test)]
    pub(crate) fn frames(&self) -> usize {
        self.as_slice().iter().map(|r| r.len()).sum()
    }

    /// Records `frames`; when full, leaves them out (they count as dirty).
    fn push(&mut self, frames: Range<usize>) {
        if let Some(slot) = self.parts.get_mut(self.len) {
            *slot = frames;
            self.len += 1;
        }
    }

    /// The parts of `frames` not in `self` (which lies inside `frames`), in
    /// address order: what must be zeroed.
    pub(crate) fn dirty_parts(&self, frames: Range<usize>) -> impl Iterator<Item = Range<usize>> + '_ {
        let mut at = frames.start;
        let ends = self.as_slice().iter().map(|r| (r.start, r.end));
        ends.chain(core::iter::once((frames.end, frames.end)))
            .filter_map(move |(start, end)| {
                let gap = at..start.max(at);
                at = at.max(end);
                (!gap.is_empty()).then_some(gap)
            })
    }
}

/// The known-zero frames of the pool: disjoint, non-empty, sorted pieces.
pub(crate) struct KnownZero {
    pieces: [Range<usize>; CAPACITY],
    len: usize,
}

impl Default for KnownZero {
    fn default() -> Self {
        Self::new()
    }
}

impl KnownZero {
    pub(crate) const fn new() -> Self {
        Self {
            pieces: [const { 0..0 }; CAPACITY],
            len: 0,
        }
    }

    fn as_slice(&self) -> &[Range<usize>] {
        self.pieces.get(..self.len).unwrap_or(&[])
    }

    /// Frames in the set.
    pub(crate) fn frames(&self) -> usize {
        self.as_slice().iter().map(|r| r.len()).sum()
    }

    /// Adds `frames`, which must not overlap the set. Dropped (dirty) when
    /// the set is full.
    pub(crate) fn add(&mut self, frames: Range<usize>) {
        if frames.is_empty() || self.len >= CAPACITY || self.as_slice().iter().any(|p| overlaps(p, &frames)) {
            return;
        }
        let at = self.as_slice().partition_point(|p| p.start < frames.start);
        // Shift the pieces after `at` up by one; `len < CAPACITY` so the
        // last slot is free.
        if let Some(tail) = self.pieces.get_mut(at..=self.len) {
            tail.rotate_right(1);
            if let Some(slot) = tail.first_mut() {
                *slot = frames;
                self.len += 1;
            }
        }
    }

    /// Takes `frames` out of the set and says which of them were in it (up
    /// to [`MAX_REPORTED`] parts; further parts leave the set unreported).
    pub(crate) fn take(&mut self, frames: &Range<usize>) -> KnownZeroParts {
        let mut report = KnownZeroParts::default();
        let mut kept = [const { 0..0 }; CAPACITY];
        let mut n = 0;
        let mut keep = |piece: Range<usize>, n: &mut usize| {
            if let Some(slot) = kept.get_mut(*n) {
                *slot = piece;
                *n += 1;
            }
        };
        for piece in self.as_slice() {
            if !overlaps(piece, frames) {
                keep(piece.clone(), &mut n);
                continue;
            }
            report.push(piece.start.max(frames.start)..piece.end.min(frames.end));
            let below = piece.start..frames.start.min(piece.end);
            let above = frames.end.max(piece.start)..piece.end;
            match (below.is_empty(), above.is_empty()) {
                (false, false) if self.len == CAPACITY => {
                    // No room for both halves: keep the larger one.
                    keep(if below.len() >= above.len() { below } else { above }, &mut n);
                }
                _ => {
                    if !below.is_empty() {
                        keep(below, &mut n);
                    }
                    if !above.is_empty() {
                        keep(above, &mut n);
                    }
                }
            }
        }
        self.pieces = kept;
        self.len = n;
        report
    }
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}
