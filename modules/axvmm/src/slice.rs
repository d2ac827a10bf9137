//! When a vCPU's time slice ends, besides its own exits (a halt, a host
//! interrupt taken in the guest unless the vCPU is alone on its CPU, its VM
//! stopping).
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

use core::sync::atomic::{AtomicBool, Ordering};

/// The longest slice, in ns: the host's timer tick (100 Hz).
pub const SLICE_NS: u64 = 10_000_000;

/// [`SLICE_NS`] in counter ticks at `ticks_per_second` (at least 1).
pub fn tick_in_ticks(ticks_per_second: u64) -> u64 {
    // SLICE_NS * ticks_per_second / 10^9, rounded down, without a 128-bit
    // division (SLICE_NS divides a second).
    const _: () = assert!(1_000_000_000 % SLICE_NS == 0);
    (ticks_per_second / (1_000_000_000 / SLICE_NS)).max(1)
}

/// A CPU's note that one of its halted vCPUs was woken since the CPU last
/// chose what to run.
#[derive(Default)]
pub struct WakeNote(AtomicBool);

impl WakeNote {
    /// A clear note.
    pub const fn new() -> Self {
        Self(AtomicBool::new(false))
    }

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

/// The running slice of a CPU. It is asked after every exit, so it works
/// in counter ticks only (no conversion to ns on that path): its end is
/// the earlier of [`SLICE_NS`] from its start and the first saved timer
/// deadline.
pub struct Slice<'a> {
    /// When it ends, in ticks.
    end: u64,
    /// The CPU's wake note.
    note: Option<&'a WakeNote>,
}

impl<'a> Slice<'a> {
    /// A slice starting at `start_ticks` of a counter running at
    /// `ticks_per_second`, which ends at the tick deadline `timer` at the
    /// latest and when `note` is set.
    pub fn new(start_ticks: u64, ticks_per_second: u64, timer: Option<u64>, note: Option<&'a WakeNote>) -> Self {
        let len = tick_in_ticks(ticks_per_second);
        let end = start_ticks.saturating_add(len);
        Self {
            end: timer.map_or(end, |t| t.min(end)),
            note,
        }
    }

    /// Whether the slice is over at `now_ticks`.
    pub fn over(&self, now_ticks: u64) -> bool {
        self.end <= now_ticks || self.note.as_ref().is_some_and(|n| n.is_set())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slice_ends_at_the_tick_at_a_due_timer_and_at_a_wake() {
        // A 62.5 MHz counter: the 10 ms slice is 625,000 ticks.
        const HZ: u64 = 62_500_000;
        let s = Slice::new(100, HZ, None, None);
        assert!(!s.over(100 + 624_999));
        assert!(s.over(100 + 625_000));
        let s = Slice::new(0, HZ, Some(50), None);
        assert!(!s.over(49));
        assert!(s.over(50));
        // A deadline after the slice's end does not lengthen it.
        let s = Slice::new(0, HZ, Some(10_000_000), None);
        assert!(s.over(625_000));
        let note = WakeNote::new();
        let s = Slice::new(0, HZ, None, Some(&note));
        assert!(!s.over(10));
        note.set();
        assert!(s.over(10));
        note.clear();
        assert!(!s.over(10));
    }

    #[test]
    fn the_tick_in_ticks_is_the_slice_rounded_down_and_at_least_one() {
        for hz in [0, 1, 99, 100, 24_000_000, 62_500_000, 1_000_000_007, u64::MAX] {
            let exact = (u128::from(SLICE_NS) * u128::from(hz) / 1_000_000_000).max(1) as u64;
            assert_eq!(tick_in_ticks(hz), exact, "{hz} Hz");
        }
    }

    #[test]
    fn a_slice_near_the_end_of_the_counter_does_not_wrap() {
        let s = Slice::new(u64::MAX - 10, 1_000_000_000, None, None);
        assert!(!s.over(u64::MAX - 1));
        assert!(s.over(u64::MAX));
    }
}
