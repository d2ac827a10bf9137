//! Exit counts, one per vCPU ([`ExitCount`]).

use core::sync::atomic::{AtomicU64, Ordering};

/// The exits one vCPU took. Only the CPU that runs the vCPU writes it
/// (under the vCPU's lock, which orders the writes of one CPU before the
/// next one's); anyone may read it. On a cache line of its own, so that
/// the vCPUs of a VM, running on several CPUs, do not contend for one
/// counter at every exit.
#[repr(align(64))]
#[derive(Debug, Default)]
pub(crate) struct ExitCount(AtomicU64);

impl ExitCount {
    /// Counts one exit: a load and a store, not a read-modify-write, as
    /// there is one writer.
    #[inline(always)]
    pub(crate) fn add_one(&self) {
        self.0
            .store(self.0.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
    }

    /// The exits counted so far.
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::ExitCount;

    #[test]
    fn counts_each_exit_on_a_cache_line_of_its_own() {
        let counts = [ExitCount::default(), ExitCount::default()];
        counts[0].add_one();
        counts[0].add_one();
        counts[1].add_one();
        assert_eq!((counts[0].get(), counts[1].get()), (2, 1));
        let apart = (&counts[1] as *const ExitCount as usize) - (&counts[0] as *const ExitCount as usize);
        assert!(apart >= 64, "two vCPUs' counters {apart} bytes apart");
    }
}
