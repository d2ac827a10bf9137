//! Which vCPU a physical CPU runs next.
//!
//! Each vCPU has a *pass*: the guest time it has had on its CPU, in ticks
//! of the host counter (no conversion on the exit path). A CPU runs, among its runnable vCPUs, the one with the
//! smallest pass (the lowest index on a tie), until its next exit the VM
//! does not handle, at the latest the host timer tick; its pass then grows
//! by the time it ran. So vCPUs sharing a CPU get equal shares of it over
//! time, whatever they do: a guest that spins with its interrupts masked
//! still leaves the guest at every host tick, and then the other vCPUs,
//! whose pass is now smaller, run first. A halted vCPU is not runnable and
//! costs nothing; when it wakes, its pass is raised to just below the
//! smallest pass of the others: a long sleep does not buy it a long burst,
//! and it runs next (before the vCPU it interrupted, whose slice ended for
//! it: [`crate::slice`]) unless it already had more time than the others.

/// The index of the candidate to run: the smallest pass, the first on a
/// tie. `candidates` yields `(index, pass)` of runnable vCPUs.
pub fn pick(candidates: impl IntoIterator<Item = (usize, u64)>) -> Option<usize> {
    candidates
        .into_iter()
        .fold(None, |best: Option<(usize, u64)>, (i, pass)| match best {
            Some((_, p)) if p <= pass => best,
            _ => Some((i, pass)),
        })
        .map(|(i, _)| i)
}

/// The pass of a vCPU that becomes runnable after waiting: not below the
/// smallest pass of the vCPUs that kept running (`floor`) less one, so
/// that it comes before them on what would be a tie.
pub fn on_wake(pass: u64, floor: Option<u64>) -> u64 {
    floor.map_or(pass, |f| pass.max(f.saturating_sub(1)))
}

/// The pass after running for `ran` ticks.
pub fn charge(pass: u64, ran: u64) -> u64 {
    // At least 1: a run that took no measurable time still moves the vCPU
    // behind its equals.
    pass.saturating_add(ran.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_smallest_pass_first_on_tie() {
        assert_eq!(pick([]), None);
        assert_eq!(pick([(0, 5), (1, 3), (2, 3)]), Some(1));
        assert_eq!(pick([(4, 0)]), Some(4));
    }

    /// Two vCPUs on one CPU, one always spinning (it runs a whole tick each
    /// time), one doing short runs: each gets a share, and over many picks
    /// their guest time differs by at most one tick.
    #[test]
    fn shares_are_equal_over_time() {
        const TICK: u64 = 10_000_000;
        let mut pass = [0u64; 2];
        let mut runs = [0u32; 2];
        for _ in 0..1000 {
            let i = pick(pass.iter().copied().enumerate()).unwrap();
            let ran = if i == 0 { TICK } else { 300_000 };
            pass[i] = charge(pass[i], ran);
            runs[i] += 1;
        }
        assert!(pass[0].abs_diff(pass[1]) <= TICK, "{pass:?}");
        assert!(runs[1] > runs[0] * 20, "short runs are picked more often: {runs:?}");
    }

    #[test]
    fn a_sleeper_does_not_get_a_burst() {
        assert_eq!(on_wake(10, Some(1_000_000)), 999_999);
        assert_eq!(on_wake(2_000_000, Some(1_000_000)), 2_000_000);
        assert_eq!(on_wake(10, None), 10);
        assert_eq!(on_wake(0, Some(0)), 0);
        // It comes first on what would be a tie with the vCPU that kept
        // running.
        assert_eq!(pick([(0, 1_000_000), (1, on_wake(10, Some(1_000_000)))]), Some(1));
        // So after waking, the two alternate instead of the sleeper running
        // until it caught up.
        let mut pass = [on_wake(0, Some(500)), 500];
        let first = pick(pass.iter().copied().enumerate()).unwrap();
        pass[first] = charge(pass[first], 100);
        assert_ne!(pick(pass.iter().copied().enumerate()), Some(first));
    }

    #[test]
    fn charge_saturates_and_always_moves() {
        assert_eq!(charge(u64::MAX - 1, 10), u64::MAX);
        assert_eq!(charge(5, 0), 6);
    }
}
