//! Per-platform constants.
//!
//! Owns: the link-time and fallback facts of one platform (memory map, CPU
//! limits, device addresses), generated at build time from
//! `platforms/<AX_PLATFORM>/platform.toml` (see `build.rs`). The platform is
//! picked with the `AX_PLATFORM` environment variable (the Makefile sets it);
//! without it, the default platform of the target architecture is used.
//!
//! Does not own: anything discovered at boot. The kernel reads RAM, CPUs and
//! devices from the device tree and uses these values only as fallbacks.
//!
//! Written by hand rather than with `axconfig-gen`: the generator is forty
//! lines and this keeps the build free of a code-generation tool install.

#![cfg_attr(not(test), no_std)]

include!(concat!(env!("OUT_DIR"), "/config.rs"));

#[cfg(test)]
mod tests {
    #[test]
    fn default_platform_constants_are_generated() {
        assert_eq!(super::PLATFORM, "aarch64-qemu-virt");
        assert_eq!(super::ARCH, "aarch64");
        assert!(super::cpu::MAX_NUM >= 1);
        assert!(super::SMP >= 1 && super::SMP <= super::cpu::MAX_NUM);
        // The kernel must sit inside the fallback RAM window, 2 MiB aligned.
        let ram = super::memory::PHYS_BASE..super::memory::PHYS_BASE + super::memory::PHYS_SIZE;
        assert!(ram.contains(&super::memory::KERNEL_BASE));
        assert_eq!(super::memory::KERNEL_BASE % 0x20_0000, 0);
    }
}
