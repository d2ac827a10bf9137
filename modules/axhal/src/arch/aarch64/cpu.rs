//! CPU-local registers: identity, interrupt masking, waiting.

use aarch64_cpu::{asm, registers::*};

/// The mode the host kernel runs in, for the boot banner.
pub const MODE: &str = "EL2";
/// What [`hw_id`] is called on this architecture.
pub const HW_ID_NAME: &str = "MPIDR";

/// HCR_EL2 of the host when no guest runs: physical IRQs, FIQs and SErrors
/// are taken at EL2 (IMO/FMO/AMO; without them an interrupt that arrives at
/// EL2 would target EL1 and never be taken), EL1 is AArch64.
fn host_hcr() {
    HCR_EL2.write(
        HCR_EL2::IMO::EnableVirtualIRQ + HCR_EL2::FMO::EnableVirtualFIQ + HCR_EL2::AMO::SET + HCR_EL2::RW::EL1IsAarch64,
    );
}

/// Per-CPU register setup right after the MMU is on.
pub(super) fn init_this_cpu() {
    super::trap::install_vectors();
    host_hcr();
    // Start with the interrupt mask set; the runtime unmasks when ready.
    DAIF.write(DAIF::I::Masked + DAIF::F::Masked + DAIF::A::Unmasked + DAIF::D::Masked);
}

/// MPIDR_EL1 affinity fields (Aff3..Aff0) of this CPU.
pub fn mpidr() -> u64 {
    const AFF_MASK: u64 = 0xff_00ff_ffff;
    MPIDR_EL1.get() & AFF_MASK
}

/// The hardware id of this CPU (its MPIDR affinity), as the platform's CPU
/// list has it.
pub fn hw_id() -> u64 {
    mpidr()
}

/// Unmasks IRQs on this CPU.
pub fn enable_irqs() {
    DAIF.modify(DAIF::I::Unmasked);
}

/// Masks IRQs on this CPU.
pub fn disable_irqs() {
    DAIF.modify(DAIF::I::Masked);
}

/// Whether IRQs are masked on this CPU.
pub fn irqs_disabled() -> bool {
    DAIF.is_set(DAIF::I)
}

/// Waits for an interrupt (or other wake-up event).
pub fn wait_for_irq() {
    asm::wfi();
}

/// Waits for an interrupt unless `ready()` says there is work, without
/// losing a wake-up: IRQs are masked from the check to the WFI (a pending
/// interrupt still ends the WFI), then restored and taken.
pub fn wait_for_irq_unless(ready: impl FnOnce() -> bool) {
    let was_masked = irqs_disabled();
    disable_irqs();
    if !ready() {
        asm::wfi();
    }
    if !was_masked {
        enable_irqs();
    }
}
