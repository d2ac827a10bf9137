//! Loading a VM's images into its memory: kernel, ramdisk, and the device
//! tree (the config's, fixed up for the VM, or one generated for the VM).

use crate::EmbeddedVm;
use crate::vm::Vm;
use axerrno::{AxError, AxResult};
use axvcpu::GuestPhysAddr;

/// Copies the images to their load addresses.
pub fn load(vm: &Vm, images: &EmbeddedVm) -> AxResult {
    let cfg = vm.image_config();
    vm.write_guest(GuestPhysAddr::from(cfg.kernel_load_gpa), images.kernel)
        .inspect_err(|e| {
            log::error!(
                "{}: kernel does not fit at {:#x}: {e:?}",
                vm.describe(),
                cfg.kernel_load_gpa
            );
        })?;
    let initrd = match (images.ramdisk, cfg.ramdisk_load_gpa) {
        (Some(data), Some(gpa)) => {
            vm.write_guest(GuestPhysAddr::from(gpa), data)?;
            Some((gpa as u64, data.len() as u64))
        }
        _ => None,
    };
    let Some(dtb_gpa) = cfg.dtb_load_gpa else {
        return Ok(());
    };
    // The config's tree with the VM's memory, command line and initrd, or
    // one generated for the VM.
    let dtb = match images.dtb {
        Some(dtb) => axvm::fdt::fixup(dtb, vm.config(), initrd).map_err(|e| {
            log::error!("{}: cannot fix up its device tree: {e}", vm.describe());
            AxError::InvalidInput
        })?,
        // No host tree yet: passthrough devices are left out of it.
        None => axvm::fdt::generate(vm.config(), initrd, axhal::device_tree()).map_err(|e| {
            log::error!("{}: cannot generate its device tree: {e}", vm.describe());
            AxError::InvalidInput
        })?,
    };
    vm.write_guest(GuestPhysAddr::from(dtb_gpa), &dtb)
}
