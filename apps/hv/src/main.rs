//! The hypervisor app: the composition. It implements the host services
//! the VM crates and the VM manager need on the host modules
//! ([`hal`]: `AxVMHal`, `AxVCpuHal`; [`platform`]: `axvmm::VmmHal`), adapts
//! `axvm`'s VM to the manager ([`vm`]), owns the physical interrupts that
//! belong to guests (aarch64: `guest_irqs`, `passthrough_irqs`), keeps what
//! differs per architecture in [`arch`], and hands every CPU to the
//! manager's loop.
//!
//! The VM configs are built into the image (`make VM=a.toml,b.toml`),
//! parsed and checked by the build script and embedded as Rust values, not
//! as text: the image has no TOML parser. Those
//! with `autostart` (the default) run at boot, the others wait for `vm
//! create` in the management shell (Ctrl-A m on the console). Built with
//! `POWEROFF_WHEN_IDLE=y` (the tests'), the machine powers off when no VM
//! is left; otherwise the hypervisor waits for commands.

#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

mod arch;
#[cfg(target_arch = "aarch64")]
mod guest_irqs;
mod hal;
mod images;
#[cfg(target_arch = "aarch64")]
mod passthrough_irqs;
mod per_cpu;
mod platform;
mod vm;

/// A VM built into the image: its config and its images.
pub struct EmbeddedVm {
    /// The config file it came from (for messages).
    pub file: &'static str,
    /// Builds the config, as written: the build script parsed and checked
    /// the file and wrote the result out as Rust (no TOML parser in the
    /// image).
    pub config: fn() -> axvmconfig::AxVMCrateConfig,
    /// The kernel image.
    pub kernel: &'static [u8],
    /// The BIOS / firmware image, if the config names one.
    pub bios: Option<&'static [u8]>,
    /// The device tree, if the config names one.
    pub dtb: Option<&'static [u8]>,
    /// The ramdisk, if the config names one.
    pub ramdisk: Option<&'static [u8]>,
}

/// An image built into the hypervisor, aligned to a page: guest RAM is
/// page-aligned too, so loading it copies whole words (an image at an odd
/// place in the binary would be copied byte by byte: about 100 million
/// instructions for a 32 MiB kernel).
#[repr(C, align(4096))]
pub struct PageAligned<T: ?Sized>(pub T);

/// The bytes of the file at a path, page-aligned ([`PageAligned`]).
macro_rules! embed {
    ($path:expr) => {{
        static IMAGE: &PageAligned<[u8]> = &PageAligned(*include_bytes!($path));
        &IMAGE.0
    }};
}

include!(concat!(env!("OUT_DIR"), "/vms.rs"));

/// The VM manager of this hypervisor.
pub static VMM: axvmm::Vmm<platform::HvPlatform> = axvmm::Vmm::new();

// The runtime calls the app's entry points by name.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
fn main() {
    axlog::ax_println!("hv: {} VM config(s), {} CPUs", VMS.len(), axruntime::cpu_count());
    arch::register_guest_irqs();
    per_cpu::enable_virtualization_on_this_cpu();
    let images = VMS.iter().map(vm::image_of).collect();
    VMM.init(images, axruntime::cpu_count(), POWEROFF_WHEN_IDLE);
    VMM.boot();
    VMM.cpu_loop(0);
}

#[allow(unsafe_code)]
#[unsafe(no_mangle)]
fn secondary_main(cpu_id: usize) {
    per_cpu::enable_virtualization_on_this_cpu();
    VMM.cpu_loop(cpu_id);
}
