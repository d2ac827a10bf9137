//! Hardware abstraction of the host kernel.
//!
//! Owns: the boot path (arm64 Image header, EL2 check, stacks), the EL2
//! stage-1 identity map, the host exception vectors and their reports, the
//! console (PL011), the interrupt controller (GICv3) and the dispatch of
//! host IRQs, the generic timer, starting secondary CPUs (PSCI CPU_ON),
//! per-CPU data (the `percpu` crate on TPIDR_EL2), power off, and reading
//! the platform facts from the device tree.
//!
//! Does not own: the init order (that is `axruntime`), memory allocation
//! (`axalloc`), logging (`axlog`), or anything about guests.
//!
//! Layout: `arch/aarch64/` holds the code that touches the CPU;
//! [`dtb`], [`mem`], [`esr`] and the IRQ handler table in [`irq`] are
//! portable and tested on the build machine (`cargo test -p axhal`).
//!
//! Crates chosen: `aarch64-cpu`/`tock-registers` for system registers and
//! descriptor bit fields, `arm-gic` (el2) for the GICv3, `arm-pl011-uart`
//! for the UART (both trustedfirmware.org, built on `safe-mmio`), `smccc`
//! for PSCI calls, `fdt` for the device tree, `percpu` (arm-el2) for
//! per-CPU data and `kspin` for locks. The page tables are hand-written:
//! the EL2 regime's descriptor rules (AP\[1\] RES1, no PXN) differ from the
//! EL1 ones `page_table_multiarch` emits, and the boot map is 200 lines.

#![cfg_attr(not(test), no_std)]

pub mod dtb;
#[path = "arch/aarch64/esr.rs"]
pub mod esr;
pub mod irq;
pub mod mem;

#[cfg(all(target_os = "none", target_arch = "aarch64"))]
mod arch;
#[cfg(all(target_os = "none", target_arch = "aarch64"))]
pub use arch::{cpu, power, trap};

#[cfg(target_os = "none")]
pub mod console;
#[cfg(target_os = "none")]
pub mod mp;
#[cfg(target_os = "none")]
pub mod percpu;
#[cfg(target_os = "none")]
mod platform;
#[cfg(target_os = "none")]
pub mod time;

#[cfg(target_os = "none")]
pub use platform::{device_tree, info as platform_info, init_early, init_irq_primary, init_memory, init_secondary};
