//! Host interrupt handlers: a table from INTID (aarch64) or vector (x86_64)
//! to handler, and the dispatch of the interrupt the GIC or the local APIC
//! signals. The table is portable and tested on the build machine;
//! acknowledging and ending the interrupt is arch code.

use core::sync::atomic::{AtomicUsize, Ordering};

/// INTIDs the table covers (SGIs, PPIs and SPIs of a GICv3; on x86_64
/// the 256 vectors).
pub const MAX_IRQS: usize = 1020;

/// A host interrupt handler; gets the INTID.
pub type IrqHandler = fn(u32);

/// INTID -> handler (a `fn` pointer stored as `usize`, 0 = none).
pub struct HandlerTable {
    slots: [AtomicUsize; MAX_IRQS],
}

impl Default for HandlerTable {
    fn default() -> Self {
        Self::new()
    }
}

impl HandlerTable {
    /// An empty table.
    pub const fn new() -> Self {
        Self {
            slots: [const { AtomicUsize::new(0) }; MAX_IRQS],
        }
    }

    /// Installs `h` for `intid`. Returns false if the INTID is out of range
    /// or already has a handler.
    pub fn register(&self, intid: u32, h: IrqHandler) -> bool {
        let Some(slot) = self.slots.get(intid as usize) else {
            return false;
        };
        slot.compare_exchange(0, h as usize, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Removes the handler of `intid`; returns whether there was one.
    pub fn unregister(&self, intid: u32) -> bool {
        self.slots
            .get(intid as usize)
            .is_some_and(|s| s.swap(0, Ordering::AcqRel) != 0)
    }

    /// Runs the handler of `intid`; returns false if there is none.
    pub fn handle(&self, intid: u32) -> bool {
        let Some(raw) = self.slots.get(intid as usize).map(|s| s.load(Ordering::Acquire)) else {
            return false;
        };
        if raw == 0 {
            return false;
        }
        // SAFETY: non-zero slots only ever hold values stored by `register`
        // from an `IrqHandler`, so this transmutes a fn pointer back.
        let h: IrqHandler = unsafe { core::mem::transmute::<usize, IrqHandler>(raw) };
        h(intid);
        true
    }
}

/// The host's table.
pub static HANDLERS: HandlerTable = HandlerTable::new();

/// Enables an interrupt that already has a handler on the calling CPU (for
/// PPIs: each CPU enables its own).
#[cfg(all(target_os = "none", target_arch = "aarch64"))]
pub fn enable_on_this_cpu(intid: u32) -> bool {
    set_enabled_on_this_cpu(intid, true)
}

/// Enables or disables an interrupt: an SGI or PPI in the calling CPU's
/// redistributor, an SPI in the distributor (for every CPU).
#[cfg(all(target_os = "none", target_arch = "aarch64"))]
pub fn set_enabled_on_this_cpu(intid: u32, enable: bool) -> bool {
    crate::arch::gic::set_enable(intid, crate::percpu::cpu_id(), enable)
}

/// Acknowledges the highest priority pending interrupt and returns its
/// INTID, or `None` if nothing is pending (spurious).
#[cfg(all(target_os = "none", target_arch = "aarch64"))]
pub fn fetch() -> Option<u32> {
    crate::arch::gic::acknowledge()
}

/// Per CPU: the running handler asked to leave its interrupt active.
#[cfg(all(target_os = "none", target_arch = "aarch64"))]
static LEAVE_ACTIVE: [core::sync::atomic::AtomicBool; axconfig::cpu::MAX_NUM] =
    [const { core::sync::atomic::AtomicBool::new(false) }; axconfig::cpu::MAX_NUM];

/// Called by a handler: the interrupt it handles stays active when it
/// returns (its priority is dropped). Someone else deactivates it: a guest,
/// through a list register linked to it, or [`deactivate`].
#[cfg(all(target_os = "none", target_arch = "aarch64"))]
pub fn leave_active() {
    if let Some(f) = LEAVE_ACTIVE.get(crate::percpu::cpu_id()) {
        f.store(true, Ordering::Relaxed);
    }
}

/// Deactivates an interrupt left active by [`leave_active`].
#[cfg(all(target_os = "none", target_arch = "aarch64"))]
pub fn deactivate(intid: u32) {
    crate::arch::gic::deactivate(intid);
}

/// Routes SPI `intid` to logical CPU `cpu_id`. False for an unknown CPU
/// or a number that is not an SPI.
#[cfg(all(target_os = "none", target_arch = "aarch64"))]
pub fn route_spi(intid: u32, cpu_id: usize) -> bool {
    crate::platform::info()
        .cpus
        .as_slice()
        .get(cpu_id)
        .is_some_and(|&mpidr| crate::arch::gic::route_spi(intid, mpidr))
}

/// Runs the handler of an interrupt taken with [`fetch`] and ends it
/// (priority drop, then deactivation unless the handler called
/// [`leave_active`]). An interrupt with no handler is logged and disabled
/// so it cannot storm.
#[cfg(all(target_os = "none", target_arch = "aarch64"))]
pub fn handle(intid: u32) {
    use crate::arch::gic;
    let leave = LEAVE_ACTIVE.get(crate::percpu::cpu_id());
    if let Some(f) = leave {
        f.store(false, Ordering::Relaxed);
    }
    if !HANDLERS.handle(intid) {
        log::warn!("IRQ {intid} has no handler; disabling it");
        gic::set_enable(intid, crate::percpu::cpu_id(), false);
    }
    gic::priority_drop(intid);
    if !leave.is_some_and(|f| f.swap(false, Ordering::Relaxed)) {
        gic::deactivate(intid);
    }
}

/// Acknowledges the signalled interrupt, runs its handler, ends it.
#[cfg(all(target_os = "none", target_arch = "aarch64"))]
pub fn dispatch_current() {
    if let Some(intid) = fetch() {
        handle(intid);
    }
}

/// The interrupt the host uses to wake a CPU that waits for interrupts:
/// SGI 1 on aarch64, the IPI vector 0xf1 on x86_64.
#[cfg(not(all(target_os = "none", target_arch = "x86_64")))]
pub const WAKEUP_SGI: u32 = 1;
/// The interrupt the host uses to wake a CPU that waits for interrupts:
/// SGI 1 on aarch64, the IPI vector 0xf1 on x86_64.
#[cfg(all(target_os = "none", target_arch = "x86_64"))]
pub const WAKEUP_SGI: u32 = crate::arch::lapic::WAKEUP_VECTOR as u32;

/// Wakes logical CPU `cpu_id` from `wait_for_irq` (an SGI). False if that
/// CPU is unknown.
#[cfg(all(target_os = "none", target_arch = "aarch64"))]
pub fn wake_cpu(cpu_id: usize) -> bool {
    let Some(&mpidr) = crate::platform::info().cpus.as_slice().get(cpu_id) else {
        return false;
    };
    crate::arch::gic::send_sgi(WAKEUP_SGI, mpidr)
}

/// Enables an interrupt that already has a handler on the calling CPU: the
/// local APIC timer, the wake-up IPI (always on), or an IOAPIC line (routed
/// to the calling CPU).
#[cfg(all(target_os = "none", target_arch = "x86_64"))]
pub fn enable_on_this_cpu(vector: u32) -> bool {
    set_enabled_on_this_cpu(vector, true)
}

/// Enables or disables an interrupt on x86_64: the local APIC timer (this
/// CPU's), the wake-up IPI (cannot be disabled), an IOAPIC line (its vector
/// is 32 plus the line; enabling routes it to the calling CPU; disabling one
/// line is not supported yet). False for anything else.
#[cfg(all(target_os = "none", target_arch = "x86_64"))]
pub fn set_enabled_on_this_cpu(vector: u32, enable: bool) -> bool {
    use crate::arch::{ioapic, lapic};
    match vector {
        v if v == lapic::TIMER_VECTOR as u32 => {
            lapic::set_timer_masked(!enable);
            true
        }
        v if v == WAKEUP_SGI => enable,
        v if enable && v >= ioapic::FIRST_VECTOR => {
            u8::try_from(v - ioapic::FIRST_VECTOR).is_ok_and(|line| ioapic::enable(line, crate::cpu::apic_id() as u8))
        }
        _ => false,
    }
}

/// Runs the handler of interrupt `vector` and ends it (EOI). An interrupt
/// with no handler is logged and, where it can be, disabled so it cannot
/// storm.
#[cfg(all(target_os = "none", target_arch = "x86_64"))]
pub fn handle(vector: u32) {
    if !HANDLERS.handle(vector) {
        log::warn!("interrupt vector {vector:#x} has no handler; disabling it");
        set_enabled_on_this_cpu(vector, false);
    }
    crate::arch::lapic::end_of_interrupt();
}

/// Wakes logical CPU `cpu_id` from `wait_for_irq` (an IPI). False if that
/// CPU is unknown.
#[cfg(all(target_os = "none", target_arch = "x86_64"))]
pub fn wake_cpu(cpu_id: usize) -> bool {
    let Some(&apic_id) = crate::platform_info().cpus.as_slice().get(cpu_id) else {
        return false;
    };
    let Ok(apic_id) = u8::try_from(apic_id) else {
        return false;
    };
    crate::arch::lapic::send_ipi(WAKEUP_SGI as u8, apic_id);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    static SEEN: AtomicU32 = AtomicU32::new(0);
    fn record(intid: u32) {
        SEEN.store(intid, Ordering::SeqCst);
    }
    fn other(_: u32) {}

    #[test]
    fn register_handle_unregister() {
        let t = HandlerTable::new();
        assert!(!t.handle(26), "nothing registered yet");
        assert!(t.register(26, record));
        assert!(!t.register(26, other), "a second handler is refused");
        assert!(t.handle(26));
        assert_eq!(SEEN.load(Ordering::SeqCst), 26);
        assert!(t.unregister(26));
        assert!(!t.unregister(26));
        assert!(!t.handle(26));
    }

    #[test]
    fn out_of_range_intids_are_refused() {
        let t = HandlerTable::new();
        assert!(!t.register(MAX_IRQS as u32, record));
        assert!(!t.register(u32::MAX, record));
        assert!(!t.handle(1023), "spurious INTID has no slot");
    }
}
