//! x86_64 in long mode, ring 0: PVH entry, page tables, GDT/TSS/IDT and
//! exception reports, the local APIC (timer, IPIs), the IOAPIC, ACPI
//! tables, the 16550 console, SMP start (INIT-SIPI-SIPI) and power off.

mod acpi;
mod boot;
pub mod cpu;
mod gdt;
mod idt;
pub(crate) mod ioapic;
pub(crate) mod lapic;
mod mmu;
pub mod mp;
mod pit;
pub(crate) mod platform;
pub mod power;
pub mod timer;
mod trampoline;
pub mod trap;
pub(crate) mod uart;

unsafe extern "Rust" {
    /// The runtime's entry on the boot CPU (defined by `axruntime`).
    fn rust_main(cpu_id: usize, boot_info: usize) -> !;
    /// The runtime's entry on a secondary CPU (defined by `axruntime`).
    fn rust_main_secondary(cpu_id: usize) -> !;
}

/// First Rust code of the boot CPU, in long mode on the boot page tables;
/// `start_info` is the PVH start info's physical address.
extern "C" fn primary_main(start_info: usize) -> ! {
    mmu::init_boot_cpu();
    cpu::init_this_cpu(0);
    // SAFETY: `rust_main` is `axruntime`'s entry, called once on the boot CPU.
    unsafe { rust_main(0, start_info) }
}

/// First Rust code of a secondary CPU, in long mode on the kernel's tables.
extern "C" fn secondary_main(cpu_id: usize) -> ! {
    cpu::init_this_cpu(cpu_id);
    // SAFETY: `rust_main_secondary` is `axruntime`'s entry for this CPU,
    // called once per started CPU.
    unsafe { rust_main_secondary(cpu_id) }
}
