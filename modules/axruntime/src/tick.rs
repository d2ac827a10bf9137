//! Per-CPU counts of timer ticks and wake-up interrupts (portable part).

use core::sync::atomic::{AtomicU64, Ordering};

/// Counts of an interrupt (timer ticks, wake-ups), one per CPU.
pub struct TickCounts<const N: usize> {
    counts: [AtomicU64; N],
}

impl<const N: usize> Default for TickCounts<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> TickCounts<N> {
    /// All zero.
    pub const fn new() -> Self {
        Self {
            counts: [const { AtomicU64::new(0) }; N],
        }
    }

    /// Counts one tick on `cpu`; ignored for an out-of-range id.
    pub fn tick(&self, cpu: usize) {
        if let Some(c) = self.counts.get(cpu) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Ticks counted on `cpu` (0 for an out-of-range id).
    pub fn get(&self, cpu: usize) -> u64 {
        self.counts.get(cpu).map_or(0, |c| c.load(Ordering::Relaxed))
    }
}

pub(crate) static TICKS: TickCounts<{ axconfig::cpu::MAX_NUM }> = TickCounts::new();

/// Timer interrupts taken so far on `cpu`.
pub fn ticks_on(cpu: usize) -> u64 {
    TICKS.get(cpu)
}

pub(crate) static WAKEUPS: TickCounts<{ axconfig::cpu::MAX_NUM }> = TickCounts::new();

/// Wake-up interrupts (`axhal::irq::wake_cpu`) taken so far on `cpu`.
pub fn wakeups_on(cpu: usize) -> u64 {
    WAKEUPS.get(cpu)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_per_cpu_and_bounded() {
        let t: TickCounts<2> = TickCounts::new();
        t.tick(0);
        t.tick(1);
        t.tick(1);
        t.tick(7);
        assert_eq!((t.get(0), t.get(1), t.get(7)), (1, 2, 0));
    }
}
