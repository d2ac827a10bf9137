//! The per-CPU interrupts that belong to the guest running on a CPU rather
//! than to the host: the EL1 timers, and the GIC maintenance interrupt
//! that ends a guest run when it deactivates an interrupt the hypervisor
//! watches or when list registers run empty.

/// INTID of the EL1 virtual timer (PPI 11).
pub const VTIMER_PPI: u32 = 27;
/// INTID of the EL1 physical timer (PPI 14).
pub const PTIMER_PPI: u32 = 30;
/// INTID of the GIC maintenance interrupt (PPI 9).
pub const MAINTENANCE_PPI: u32 = 25;

/// The INTID an acknowledge returns when nothing is pending (the interrupt
/// went away before it was taken).
pub const SPURIOUS: u32 = 1023;

/// Whether a physical interrupt that ended a guest run only concerns that
/// guest, or nobody (spurious): the VM layer re-enters the guest at once
/// instead of returning to the host's scheduler, so the vCPU keeps its
/// turn on a shared CPU.
pub const fn is_guest_owned(intid: usize) -> bool {
    intid < 1024 && matches!(intid as u32, VTIMER_PPI | PTIMER_PPI | MAINTENANCE_PPI | SPURIOUS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_and_maintenance_are_the_guests() {
        assert!(is_guest_owned(27) && is_guest_owned(30) && is_guest_owned(25));
        assert!(!is_guest_owned(26), "the host's EL2 timer");
        assert!(!is_guest_owned(1), "the host's wake-up SGI");
        assert!(!is_guest_owned(33));
        assert!(!is_guest_owned(27 + (1 << 32)), "no truncation");
        assert!(is_guest_owned(1023), "spurious: nothing for the host");
    }
}
