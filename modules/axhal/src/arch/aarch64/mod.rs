//! AArch64 at EL2: boot, MMU, exception vectors, GICv3, generic timer,
//! PSCI, CPU helpers and the kernel's `memcpy`.

mod boot;
pub mod cpu;
pub mod gic;
mod mem;
mod mmu;
pub mod power;
mod pte;
pub mod timer;
pub mod trap;
pub(crate) mod uart;

pub(crate) use boot::secondary_entry;
pub(crate) use mmu::{MapError, map_ram};

unsafe extern "Rust" {
    /// The runtime's entry on the boot CPU (defined by `axruntime`).
    fn rust_main(cpu_id: usize, dtb: usize) -> !;
    /// The runtime's entry on a secondary CPU (defined by `axruntime`).
    fn rust_main_secondary(cpu_id: usize) -> !;
}

/// First Rust code of the boot CPU with the MMU on.
extern "C" fn primary_main(dtb: usize) -> ! {
    cpu::init_this_cpu();
    // SAFETY: `rust_main` is `axruntime`'s entry, called once on the boot CPU.
    unsafe { rust_main(0, dtb) }
}

/// First Rust code of a secondary CPU with the MMU on.
extern "C" fn secondary_main(cpu_id: usize) -> ! {
    cpu::init_this_cpu();
    // SAFETY: `rust_main_secondary` is `axruntime`'s entry for this CPU,
    // called once per started CPU.
    unsafe { rust_main_secondary(cpu_id) }
}
