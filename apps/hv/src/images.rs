//! Loading a VM's images into its memory: kernel, BIOS, ramdisk, and on aarch64
//! the device tree (the config's, fixed up for the VM, or one generated for
//! the VM; see `arch`).

use crate::EmbeddedVm;
use crate::vm::Vm;
use axerrno::AxResult;
use axvcpu::GuestPhysAddr;

/// Copies the images to their load addresses.
pub fn load(vm: &Vm, images: &EmbeddedVm) -> AxResult {
    let cfg = vm.image_config();
    vm.write_guest(GuestPhysAddr::from(cfg.kernel_load_gpa), images.kernel)
        .inspect_err(|e| {
            log::error!(
                "{}: kernel does not fit at {:#x}: {}",
                vm.describe(),
                cfg.kernel_load_gpa,
                axvcpu::ErrorName(*e)
            );
        })?;
    if let (Some(data), Some(gpa)) = (images.bios, cfg.bios_load_gpa) {
        vm.write_guest(GuestPhysAddr::from(gpa), data).inspect_err(|e| {
            log::error!(
                "{}: BIOS image does not fit at {gpa:#x}: {}",
                vm.describe(),
                axvcpu::ErrorName(*e)
            );
        })?;
    }
    let initrd = match (images.ramdisk, cfg.ramdisk_load_gpa) {
        (Some(data), Some(gpa)) => {
            vm.write_guest(GuestPhysAddr::from(gpa), data)?;
            Some((gpa as u64, data.len() as u64))
        }
        _ => None,
    };
    crate::arch::load_device_tree(vm, images.dtb, initrd)
}
