//! Hardware abstraction of the host kernel, for aarch64 (EL2, QEMU virt)
//! and x86_64 (long mode, QEMU q35).
//!
//! Owns: the boot path and stacks, the kernel's identity map, the host
//! exception vectors and their reports, the console, the interrupt
//! controller and the dispatch of host IRQs, the timer, starting secondary
//! CPUs, per-CPU data (the `percpu` crate), power off, and reading the
//! platform facts from what the boot loader passes.
//!
//! Which free RAM holds zeros at boot is a platform fact it reports
//! (`boot_ram_zero_from` in [`mem`], from the platform's
//! `memory.boot-ram-zero`): the allocator skips zeroing that RAM the first
//! time it hands it out. A port whose firmware leaves RAM dirty must say
//! none is known zero (`boot-ram-zero = false`).
//!
//! Does not own: the init order (that is `axruntime`), memory allocation
//! (`axalloc`), logging (`axlog`), or anything about guests.
//!
//! Layout: `arch/aarch64/` and `arch/x86_64/` hold the code that touches
//! the CPU, one concern per file; [`dtb`], [`mem`], [`esr`],
//! [`x86_exception`], the `\_S5` reader and the IRQ handler table in [`irq`]
//! are portable and tested on the build machine (`cargo test -p axhal`).
//!
//! # aarch64
//!
//! Boot as an arm64 Image at EL2 (refused at EL1), the EL2 stage-1 map,
//! PL011 console, GICv3, the EL2 physical timer, PSCI CPU_ON and
//! SYSTEM_OFF, per-CPU data on TPIDR_EL2, the device tree.
//!
//! Crates chosen: `aarch64-cpu`/`tock-registers` for system registers and
//! descriptor bit fields, `arm-gic` (el2) for the GICv3, `arm-pl011-uart`
//! for the UART (both trustedfirmware.org, built on `safe-mmio`), `smccc`
//! for PSCI calls, `fdt` for the device tree, `percpu` (arm-el2) for
//! per-CPU data and `kspin` for locks. The page tables are hand-written:
//! the EL2 regime's descriptor rules (AP\[1\] RES1, no PXN) differ from the
//! EL1 ones `page_table_multiarch` emits, and the boot map is 200 lines.
//!
//! # x86_64
//!
//! - Boot: PVH (Xen's x86/HVM direct boot ABI), which QEMU's `-kernel`
//!   loads from a plain ELF: an ELF note gives the 32-bit entry, the start
//!   info hands over a memory map and the ACPI RSDP. Multiboot 1 was the
//!   other choice; QEMU only loads an ELF64 through its "a.out kludge"
//!   (load addresses in the header, file laid out as memory) and passes no
//!   RSDP. The firmware is qboot (`-bios qboot.rom`, in `qemu-system-data`):
//!   it enters PVH kernels directly, in milliseconds, and prints nothing,
//!   where SeaBIOS clears the serial terminal. The 32-bit entry checks for
//!   long mode and NX, switches to long mode on a 1 GiB boot map, and Rust
//!   builds the kernel's own tables: text RX, rodata R, data/bss RW NX,
//!   devices uncached, CR0.WP on.
//! - Traps: per-CPU GDT and TSS (an IST stack for double faults), one IDT
//!   whose 256 vectors enter through stubs that save all registers; an
//!   exception is reported (vector in words, error code decoded, RIP, CR2
//!   for #PF, registers) and QEMU exits with status 1.
//! - Interrupts: the local APIC in xAPIC mode (QEMU 7.2's emulation has no
//!   x2APIC), its timer one-shot as the tick, a fixed-vector IPI to wake a
//!   CPU, the IOAPIC brought up with every line masked (line n on vector
//!   32 + n), the legacy PICs masked. The IRQ handler table is indexed by
//!   vector.
//! - Time: the TSC counted from boot; the TSC and APIC timer rates are
//!   measured against PIT channel 2 at boot (QEMU's CPUs report neither in
//!   CPUID leaves 0x15/0x16).
//! - CPUs: from the ACPI MADT (the boot CPU first), started one at a time
//!   with INIT-SIPI-SIPI through a real-mode trampoline copied to 0x8000;
//!   per-CPU data on the GS base, per-CPU stacks.
//! - Power: ACPI S5 (PM1 control ports from the FADT, SLP_TYP from the
//!   DSDT's `\_S5`) powers off with QEMU exit status 0; failures write to
//!   QEMU's isa-debug-exit port (status 1).
//!
//! Crates chosen: `x86_64` for the GDT, TSS, IDT, page-table entries,
//! control registers and instructions (typed, maintained by rust-osdev);
//! `x86` for the xAPIC register map, the ICR encoding, the IOAPIC driver and
//! port I/O (`x86_64` has no APIC support); `raw-cpuid` for feature and
//! vendor checks; `acpi` (no allocation) for the RSDP, MADT and FADT;
//! `uart_16550` for the console; `percpu` for per-CPU data. Not `x2apic`:
//! it writes the LINT pins unmasked, wants xAPIC destinations pre-shifted
//! and cannot live in a static. Not the `aml` interpreter: the one value
//! needed from the DSDT is read by a 60-line scanner.

#![cfg_attr(not(test), no_std)]

#[cfg(any(test, all(target_os = "none", target_arch = "x86_64")))]
#[path = "arch/x86_64/s5.rs"]
mod acpi_s5;
pub mod dtb;
#[path = "arch/aarch64/esr.rs"]
pub mod esr;
pub mod irq;
pub mod mem;
#[cfg_attr(not(target_os = "none"), allow(dead_code))]
mod mul_div;
#[path = "arch/x86_64/exception.rs"]
pub mod x86_exception;

#[cfg(target_os = "none")]
mod arch;
#[cfg(target_os = "none")]
pub use arch::{cpu, power, trap};

#[cfg(target_os = "none")]
pub mod console;
#[cfg(all(target_os = "none", target_arch = "aarch64"))]
pub mod mp;
#[cfg(all(target_os = "none", target_arch = "x86_64"))]
pub use arch::mp;
#[cfg(target_os = "none")]
pub mod percpu;
#[cfg(all(target_os = "none", target_arch = "aarch64"))]
mod platform;
#[cfg(target_os = "none")]
pub mod time;

/// Where the RAM known to hold zeros at boot starts (for `axalloc::init`).
#[cfg(target_os = "none")]
pub use mem::boot_ram_zero_from;
#[cfg(all(target_os = "none", target_arch = "aarch64"))]
pub use platform::{
    BOOT_INFO_NAME, device_tree, info as platform_info, init_early, init_irq_primary, init_memory, init_secondary,
};

#[cfg(all(target_os = "none", target_arch = "x86_64"))]
pub use arch::platform::{
    BOOT_INFO_NAME, info as platform_info, init_early, init_irq_primary, init_memory, init_secondary,
};
