//! CPU-local state: descriptor tables, identity, interrupt masking, waiting.

use raw_cpuid::CpuId;
use x86_64::instructions::{hlt, interrupts};

/// The mode the host kernel runs in, for the boot banner.
pub const MODE: &str = "long mode, ring 0";
/// What [`hw_id`] is called on this architecture.
pub const HW_ID_NAME: &str = "APIC ID";

/// Per-CPU register setup right after long mode: GDT and TSS, IDT, the
/// local APIC. Interrupts stay masked; the runtime unmasks when ready.
pub(super) fn init_this_cpu(cpu_id: usize) {
    super::gdt::init_this_cpu(cpu_id);
    super::idt::init_this_cpu();
    super::lapic::init_this_cpu();
}

/// The first CPU feature the host kernel needs that this CPU lacks (long
/// mode and NX were checked on entry): a local APIC and a TSC.
pub(super) fn missing_feature() -> Option<&'static str> {
    let Some(f) = CpuId::new().get_feature_info() else {
        return Some("CPUID leaf 1");
    };
    if !f.has_apic() {
        Some("a local APIC")
    } else if !f.has_tsc() {
        Some("a time-stamp counter")
    } else {
        None
    }
}

/// Whether a CPU needs the SDM's 10 ms pause between INIT and the first
/// STARTUP IPI. Linux's rule: not Intel family 6, nor AMD family 0xf and
/// later (nor QEMU's models, which report one of those).
pub(super) fn needs_init_delay() -> bool {
    let id = CpuId::new();
    let (Some(vendor), Some(f)) = (id.get_vendor_info(), id.get_feature_info()) else {
        return true;
    };
    let family = f.family_id();
    !matches!((vendor.as_str(), family), ("GenuineIntel", 6) | ("AuthenticAMD", 0xf..))
}

/// The local APIC ID of this CPU.
pub fn apic_id() -> u32 {
    super::lapic::id()
}

/// The hardware id of this CPU (its local APIC ID), as the platform's CPU
/// list has it.
pub fn hw_id() -> u64 {
    apic_id() as u64
}

/// Unmasks IRQs on this CPU.
pub fn enable_irqs() {
    interrupts::enable();
}

/// Masks IRQs on this CPU.
pub fn disable_irqs() {
    interrupts::disable();
}

/// Takes the interrupts pending at this CPU's local APIC (one that ended a
/// guest run, say) through the IDT, then masks IRQs again: STI, one more
/// instruction (the STI shadow), CLI.
pub fn take_pending_irqs() {
    // SAFETY: the handlers are installed (the IDT is loaded at boot); this
    // only opens the interrupt window for one instruction.
    unsafe { core::arch::asm!("sti", "nop", "cli") };
}

/// Whether IRQs are masked on this CPU.
pub fn irqs_disabled() -> bool {
    !interrupts::are_enabled()
}

/// Waits for an interrupt and takes it (HLT with IRQs unmasked), then
/// leaves the mask as it was.
pub fn wait_for_irq() {
    if irqs_disabled() {
        interrupts::enable_and_hlt();
        disable_irqs();
    } else {
        hlt();
    }
}

/// Waits for an interrupt unless `ready()` says there is work, without
/// losing a wake-up: IRQs are masked from the check to the HLT, and STI
/// holds them off for one more instruction, so an interrupt that arrives
/// after the check still ends the HLT. Then the mask is restored.
pub fn wait_for_irq_unless(ready: impl FnOnce() -> bool) {
    let was_masked = irqs_disabled();
    disable_irqs();
    if !ready() {
        interrupts::enable_and_hlt();
        disable_irqs();
    }
    if !was_masked {
        enable_irqs();
    }
}
