//! One vCPU's place in the manager: its physical CPU, its power state as
//! the guest's power management sees it, whether it waits for an interrupt,
//! and its scheduling account.

use crate::hal::Power;
use axvcpu::{LOCAL_TIMERS, TimerDeadlines};
use core::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use kspin::SpinNoIrq;

/// A vCPU of a running VM.
pub struct VCpuSlot {
    /// Its id in the VM.
    pub id: usize,
    /// The physical CPU that runs it.
    pub pcpu: usize,
    power: AtomicU8,
    /// Waiting (WFI, HLT) for an interrupt.
    halted: AtomicBool,
    /// Something for it arrived (an interrupt from another vCPU or a device).
    wake: AtomicBool,
    /// In the guest right now (between entry and exit).
    in_guest: AtomicBool,
    /// What its VM was last told: whether its wait-for-interrupt
    /// instruction exits (`ManagedVm::set_wfi_exits`; only its CPU uses it).
    wfi_exits: AtomicBool,
    /// In a slice alone on its CPU, with WFI waiting in the guest.
    waits_in_guest: AtomicBool,
    /// When (host counter ticks) its console's partial line was last looked
    /// at while it waits in the guest.
    partial_look: AtomicU64,
    /// Entry and first argument of a pending CPU_ON.
    start: SpinNoIrq<(usize, u64)>,
    /// Its scheduling pass: guest time it has had on its CPU, in host counter ticks
    /// ([`crate::sched`]).
    pass: AtomicU64,
    /// Per timer, the saved deadline it last ran for (so an expired timer
    /// that the guest keeps masked in its interrupt controller wakes it
    /// once, not at every pass; and one timer's old deadline does not hide
    /// the other's new one).
    timer_seen: [AtomicU64; LOCAL_TIMERS],
}

impl VCpuSlot {
    /// vCPU `id` on physical CPU `pcpu`, in power state `power`.
    pub fn new(id: usize, pcpu: usize, power: Power) -> Self {
        Self {
            id,
            pcpu,
            power: AtomicU8::new(power as u8),
            halted: AtomicBool::new(false),
            wake: AtomicBool::new(false),
            in_guest: AtomicBool::new(false),
            wfi_exits: AtomicBool::new(true),
            waits_in_guest: AtomicBool::new(false),
            partial_look: AtomicU64::new(0),
            start: SpinNoIrq::new((0, 0)),
            pass: AtomicU64::new(0),
            timer_seen: [const { AtomicU64::new(u64::MAX) }; LOCAL_TIMERS],
        }
    }

    /// Its power state.
    pub fn power(&self) -> Power {
        match self.power.load(Ordering::Acquire) {
            1 => Power::OnPending,
            2 => Power::On,
            _ => Power::Off,
        }
    }

    /// Moves it from `from` to `to`; false if it was not in `from`.
    pub fn transition(&self, from: Power, to: Power) -> bool {
        self.power
            .compare_exchange(from as u8, to as u8, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// A CPU_ON: moves it from off to on-pending and records its entry and
    /// argument. Only the caller that wins the transition writes them
    /// (under the lock its CPU reads them with), so a losing racer cannot
    /// replace the winner's entry. False if it was not off.
    pub fn try_start(&self, entry: usize, arg: u64) -> bool {
        let mut start = self.start.lock();
        let won = self.transition(Power::Off, Power::OnPending);
        if won {
            *start = (entry, arg);
        }
        won
    }

    /// Its CPU picks up a pending CPU_ON: the entry and argument, and the
    /// vCPU is on. `None` if none was pending.
    pub fn take_start(&self) -> Option<(usize, u64)> {
        // Only `try_start` makes it OnPending (under the lock, before the
        // entry is read here under it): no lock on the usual pass.
        if self.power() != Power::OnPending {
            return None;
        }
        let start = self.start.lock();
        self.transition(Power::OnPending, Power::On).then_some(*start)
    }

    /// Whether it waits for an interrupt.
    pub fn halted(&self) -> bool {
        self.halted.load(Ordering::Acquire)
    }

    /// Marks it waiting for an interrupt (or not).
    pub fn set_halted(&self, halted: bool) {
        self.halted.store(halted, Ordering::Release);
    }

    /// Notes that something for it arrived.
    pub fn set_wake(&self) {
        // A read-modify-write, as every write of the note: a kick that
        // finds it set sees what the vCPU's CPU did before it cleared it.
        self.wake.swap(true, Ordering::AcqRel);
    }

    /// Notes that something for it arrived; false if that was already
    /// noted since its slice began (its CPU was told then, and it looks at
    /// everything that arrived before it enters the guest from the manager
    /// again, this too: the swap here and the one in [`Self::clear_wait`]
    /// order the caller's earlier writes before that look).
    pub fn note_wake(&self) -> bool {
        !self.wake.swap(true, Ordering::AcqRel)
    }

    /// Whether something for it arrived since it last ran.
    pub fn woken(&self) -> bool {
        self.wake.load(Ordering::Acquire)
    }

    /// Clears the notes of a halt and a wake-up: it runs now.
    pub fn clear_wait(&self) {
        self.halted.store(false, Ordering::Release);
        self.wake.swap(false, Ordering::AcqRel);
    }

    /// Whether it is in a slice alone on its CPU, where it waits for
    /// interrupts in the guest (every kick interrupts its CPU then).
    pub fn waits_in_guest(&self) -> bool {
        self.waits_in_guest.load(Ordering::Acquire)
    }

    /// Notes the start (true, before [`Self::clear_wait`]) or the end of
    /// a slice alone on its CPU.
    pub fn set_waits_in_guest(&self, yes: bool) {
        self.waits_in_guest.swap(yes, Ordering::AcqRel);
    }

    /// Notes whether its wait-for-interrupt instruction exits; true if
    /// that changed, so that its VM is told (only its own CPU sets it).
    pub fn set_wfi_exits(&self, exits: bool) -> bool {
        self.wfi_exits.swap(exits, Ordering::Relaxed) != exits
    }

    /// Whether its console's partial line is to be looked at again, `now`,
    /// at most once every `period` (host counter ticks); notes the look.
    pub fn partial_look_due(&self, now: u64, period: u64) -> bool {
        let last = self.partial_look.load(Ordering::Relaxed);
        if now.wrapping_sub(last) < period {
            return false;
        }
        self.partial_look.store(now, Ordering::Relaxed);
        true
    }

    /// Whether it is in the guest right now.
    pub fn in_guest(&self) -> bool {
        self.in_guest.load(Ordering::Acquire)
    }

    /// Marks it entering (true) or leaving (false) the guest.
    pub fn set_in_guest(&self, yes: bool) {
        self.in_guest.store(yes, Ordering::Release);
    }

    /// Its scheduling pass.
    pub fn pass(&self) -> u64 {
        self.pass.load(Ordering::Acquire)
    }

    /// Sets its scheduling pass.
    pub fn set_pass(&self, pass: u64) {
        self.pass.store(pass, Ordering::Release);
    }

    /// Whether one of its saved timer `deadlines` has passed at `now` and
    /// it has not run for that deadline yet.
    pub fn timer_due(&self, deadlines: &TimerDeadlines, now: u64) -> bool {
        deadlines
            .iter()
            .zip(&self.timer_seen)
            .any(|(d, seen)| d.is_some_and(|d| d <= now && d != seen.load(Ordering::Acquire)))
    }

    /// It runs with its saved timer `deadlines` at `now`: those that have
    /// passed are taken care of by this run.
    pub fn saw_timers(&self, deadlines: &TimerDeadlines, now: u64) {
        for (d, seen) in deadlines.iter().zip(&self.timer_seen) {
            if let Some(d) = d.filter(|&d| d <= now) {
                seen.store(d, Ordering::Release);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_on_is_won_once_and_taken_once() {
        let s = VCpuSlot::new(1, 0, Power::Off);
        assert!(s.try_start(0x4008_0000, 7));
        assert!(!s.try_start(0x1234, 9), "a second CPU_ON while pending loses");
        assert_eq!(s.power(), Power::OnPending);
        assert_eq!(s.take_start(), Some((0x4008_0000, 7)));
        assert_eq!(s.power(), Power::On);
        assert_eq!(s.take_start(), None);
        assert!(!s.try_start(0x1234, 9), "an on vCPU cannot be started");
        assert!(s.transition(Power::On, Power::Off));
        assert!(s.try_start(0x5000, 1), "CPU_OFF then CPU_ON again");
        assert_eq!(s.take_start(), Some((0x5000, 1)));
    }

    #[test]
    fn wait_notes() {
        let s = VCpuSlot::new(0, 2, Power::On);
        s.set_halted(true);
        s.set_wake();
        assert!(s.halted() && s.woken());
        s.clear_wait();
        assert!(!s.halted() && !s.woken());
        assert!(s.note_wake(), "the first wake-up since it ran is news");
        assert!(!s.note_wake(), "a second one is not");
        s.clear_wait();
        assert!(s.note_wake(), "it ran: news again");
    }

    #[test]
    fn each_timer_is_due_once_per_deadline() {
        let s = VCpuSlot::new(0, 0, Power::On);
        // The physical timer fired long ago and was seen; the virtual
        // timer is armed later.
        let deadlines = [Some(500), Some(0)];
        s.saw_timers(&deadlines, 100);
        assert!(!s.timer_due(&deadlines, 100), "the seen one is not due again");
        assert!(!s.timer_due(&deadlines, 499));
        assert!(s.timer_due(&deadlines, 500), "the other one, due, is not hidden by it");
        s.saw_timers(&deadlines, 500);
        assert!(!s.timer_due(&deadlines, 10_000));
        assert!(
            s.timer_due(&[Some(500), Some(7_000)], 10_000),
            "a new deadline of the seen timer"
        );
    }
}
