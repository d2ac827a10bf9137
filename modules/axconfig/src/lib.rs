//! Per-platform constants.
//!
//! Owns: the link-time and fallback facts of one platform (memory map, CPU
//! limits, device addresses), generated at build time from
//! `platforms/<AX_PLATFORM>/platform.toml` (see `build.rs`). The platform is
//! picked with the `AX_PLATFORM` environment variable (the Makefile sets it);
//! without it, the default platform of the target architecture is used.
//!
//! Does not own: anything discovered at boot. The kernel reads RAM, CPUs and
//! devices from the device tree (aarch64) or the PVH memory map and the ACPI
//! tables (x86_64) and uses these values only as fallbacks.
//!
//! Written by hand rather than with `axconfig-gen`: the generator is forty
//! lines and this keeps the build free of a code-generation tool install.

#![cfg_attr(not(test), no_std)]

include!(concat!(env!("OUT_DIR"), "/config.rs"));

// Facts the rest of the kernel relies on, checked when this crate builds.
const _: () = assert!(SMP >= 1 && SMP <= cpu::MAX_NUM, "SMP must be within cpu.max-num");
const _: () = assert!(
    memory::KERNEL_BASE.is_multiple_of(0x20_0000),
    "memory.kernel-base must be 2 MiB aligned"
);
const _: () = assert!(
    match memory::KERNEL_BASE.checked_sub(memory::PHYS_BASE) {
        Some(offset) => offset < memory::PHYS_SIZE,
        None => false,
    },
    "memory.kernel-base must lie in the fallback RAM"
);

#[cfg(test)]
#[path = "generate.rs"]
mod generate;
