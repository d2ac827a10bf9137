//! When a vCPU's time slice ends, besides its own exits (a halt, a host
//! interrupt taken in the guest, its VM stopping).
//!
//! The host takes its interrupts whenever they are unmasked, in the
//! hypervisor too: an interrupt that arrives while a vCPU's last exit is
//! being handled (a hypercall answered, an instruction emulated) is taken
//! there and ends no guest run, so a vCPU that keeps making exits the
//! hypervisor answers at once would keep its CPU through host timer ticks
//! and wake-ups. So after every such exit its CPU also looks at the clock
//! and at its own notes, and ends the slice when:
//! - it has lasted [`SLICE_NS`] (the host tick);
//! - a halted vCPU of this CPU whose timer is saved (not loaded) is due;
//! - a halted vCPU of this CPU was woken ([`Vmm::kick`](crate::Vmm::kick)
//!   notes it in the CPU's [`WakeNote`]).

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};

/// The longest slice, in ns: the host's timer tick (100 Hz).
pub const SLICE_NS: u64 = 10_000_000;

/// A CPU's note that one of its halted vCPUs was woken since the CPU last
/// chose what to run.
#[derive(Default)]
pub struct WakeNote(AtomicBool);

impl WakeNote {
    /// A halted vCPU of this CPU was woken.
    pub fn set(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// The CPU chooses what to run now (it sees every vCPU woken so far):
    /// clears the note.
    pub fn clear(&self) {
        // A swap: it sees the waker's writes that came before its set.
        self.0.swap(false, Ordering::AcqRel);
    }

    /// Whether a halted vCPU was woken since the last [`Self::clear`].
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// The running slice of a CPU.
pub struct Slice {
    /// When it started, in host ns.
    start_ns: u64,
    /// The first saved timer deadline of a halted vCPU here, in ticks.
    timer: Option<u64>,
    /// The CPU's wake note.
    note: Option<Arc<WakeNote>>,
}

impl Slice {
    /// A slice starting at `start_ns`, which ends at the tick deadline
    /// `timer` at the latest and when `note` is set.
    pub fn new(start_ns: u64, timer: Option<u64>, note: Option<Arc<WakeNote>>) -> Self {
        Self { start_ns, timer, note }
    }

    /// Whether the slice is over at `now_ns` (host ns) and `now_ticks`.
    pub fn over(&self, now_ns: u64, now_ticks: u64) -> bool {
        now_ns.saturating_sub(self.start_ns) >= SLICE_NS
            || self.timer.is_some_and(|t| t <= now_ticks)
            || self.note.as_ref().is_some_and(|n| n.is_set())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slice_ends_at_the_tick_at_a_due_timer_and_at_a_wake() {
        let s = Slice::new(100, None, None);
        assert!(!s.over(100 + SLICE_NS - 1, 0));
        assert!(s.over(100 + SLICE_NS, 0));
        let s = Slice::new(0, Some(50), None);
        assert!(!s.over(10, 49));
        assert!(s.over(10, 50));
        let note = Arc::new(WakeNote::default());
        let s = Slice::new(0, None, Some(note.clone()));
        assert!(!s.over(10, 10));
        note.set();
        assert!(s.over(10, 10));
        note.clear();
        assert!(!s.over(10, 10));
    }
}
