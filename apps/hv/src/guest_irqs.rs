//! The physical per-CPU interrupts that belong to the guest on a CPU: the
//! EL1 virtual and physical timers (PPIs 27 and 30) and the GIC maintenance
//! interrupt (PPI 25).
//!
//! A timer interrupt is level-sensitive and stays asserted until the guest
//! reprograms its timer, so when one fires the host leaves it active on
//! this CPU (its priority dropped, not deactivated: it cannot fire again)
//! and notes that the vCPU bound here has a timer event; the VM layer then
//! gives the line's level to the virtual GIC, which delivers it through a
//! list register linked to this physical interrupt. The guest's
//! deactivation of the virtual interrupt deactivates the physical one, with
//! no exit. Before each guest entry, and after each WFI exit (the vCPU may
//! sleep then, and its timer's interrupt is what wakes it), the VM layer
//! asks for the interrupt of every idle timer line to be re-armed
//! ([`unmask`]): deactivated here if the host still holds it active (the
//! guest reprogrammed its timer without taking the interrupt, or another
//! vCPU ran here since). The physical active state is not made to match
//! the vCPU loaded next: a leftover is cleared by that vCPU's first sample
//! (its line low) or by its own deactivation (its line high), and a
//! deactivation of an interrupt that is not active changes nothing. The
//! maintenance interrupt only ends the guest run; the VM layer does the
//! work after the exit.

use arm_vcpu::irqs::{MAINTENANCE_PPI, PTIMER_PPI, VTIMER_PPI};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

const MAX_CPUS: usize = axconfig::cpu::MAX_NUM;

/// Per CPU: bit `n` set while PPI `n` is left active by [`on_timer`] (the
/// guest may have deactivated it since, through a linked list register).
static LEFT_ACTIVE: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(0) }; MAX_CPUS];
/// Per CPU: a guest timer fired since the CPU loop last looked.
static TIMER_FIRED: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(false) }; MAX_CPUS];

fn on_timer(intid: u32) {
    let cpu = axhal::percpu::cpu_id();
    if let Some(m) = LEFT_ACTIVE.get(cpu) {
        m.fetch_or(1 << intid, Ordering::AcqRel);
        axhal::irq::leave_active();
    }
    if let Some(f) = TIMER_FIRED.get(cpu) {
        f.store(true, Ordering::Release);
    }
}

fn on_maintenance(_intid: u32) {}

/// Registers the handlers (once, on the boot CPU).
pub fn register() {
    for intid in [VTIMER_PPI, PTIMER_PPI] {
        if !axhal::irq::HANDLERS.register(intid, on_timer) {
            log::error!("IRQ {intid} already has a handler; guest timers may not wake their vCPUs");
        }
    }
    if !axhal::irq::HANDLERS.register(MAINTENANCE_PPI, on_maintenance) {
        log::error!("IRQ {MAINTENANCE_PPI} already has a handler");
    }
}

/// Enables the guest-owned PPIs on the calling CPU.
pub fn enable_on_this_cpu() {
    for intid in [VTIMER_PPI, PTIMER_PPI, MAINTENANCE_PPI] {
        axhal::irq::enable_on_this_cpu(intid);
    }
}

/// Re-arms `irq`: deactivates a PPI on this CPU if [`on_timer`] left it
/// active, or unmasks a forwarded SPI the guest has finished with.
pub fn unmask(irq: usize) {
    let cpu = axhal::percpu::cpu_id();
    let (Some(m), Ok(intid)) = (LEFT_ACTIVE.get(cpu), u32::try_from(irq)) else {
        return;
    };
    if intid >= 32 {
        // A forwarded SPI: the guest cleared it through its distributor
        // (linked), or deactivated it (masked by the host).
        if crate::passthrough_irqs::is_linked(intid) {
            axhal::irq::deactivate(intid);
        }
        axhal::irq::set_enabled_on_this_cpu(intid, true);
        return;
    }
    let bit = 1 << intid;
    if m.load(Ordering::Acquire) & bit != 0 {
        m.fetch_and(!bit, Ordering::AcqRel);
        // Harmless when the guest deactivated it already.
        axhal::irq::deactivate(intid);
    }
}

/// Takes this CPU's "a guest timer fired" note.
pub fn take_timer_fired(cpu: usize) -> bool {
    TIMER_FIRED.get(cpu).is_some_and(|f| f.swap(false, Ordering::AcqRel))
}

/// Whether a guest timer fired on `cpu` (without taking the note).
pub fn timer_fired(cpu: usize) -> bool {
    TIMER_FIRED.get(cpu).is_some_and(|f| f.load(Ordering::Acquire))
}
