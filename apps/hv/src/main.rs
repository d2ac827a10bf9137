//! The hypervisor app: builds every VM of the configs given at build time
//! (`make VM=a.toml,b.toml`), loads their images, and runs each vCPU on
//! the physical CPU its config names, handling the exits the VM layer
//! returns: CPU on/off, system off, halt, hypercalls, external interrupts.
//! A VM that faults is stopped with a logged reason; the others go on.
//! When no VM is left the machine powers off.
//!
//! Interrupts: the guest's timer and GIC maintenance interrupts are masked
//! or ignored by the host and handled by the VM layer ([`guest_irqs`]);
//! physical interrupts of passthrough devices are forwarded to their VM
//! ([`passthrough_irqs`]); a vCPU halted in WFI sleeps until its virtual
//! GIC has something for it, its timer fires, or another vCPU kicks it.

#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

mod console;
mod exits;
mod guest_irqs;
mod hal;
mod images;
mod passthrough_irqs;
mod vmm;

/// A VM built into the image: its config text and its images.
pub struct EmbeddedVm {
    /// The config file it came from (for messages).
    pub file: &'static str,
    /// The config, as written.
    pub toml: &'static str,
    /// The kernel image.
    pub kernel: &'static [u8],
    /// The device tree, if the config names one.
    pub dtb: Option<&'static [u8]>,
    /// The ramdisk, if the config names one.
    pub ramdisk: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/vms.rs"));

// The runtime calls the app's entry points by name.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
fn main() {
    axlog::ax_println!("hv: {} VM config(s), {} CPUs", VMS.len(), axruntime::cpu_count());
    guest_irqs::register();
    vmm::enable_virtualization_on_this_cpu();
    vmm::note_memory_before_vms();
    for vm in VMS {
        vmm::create_vm(vm);
    }
    vmm::start();
    vmm::cpu_loop(0);
}

#[allow(unsafe_code)]
#[unsafe(no_mangle)]
fn secondary_main(cpu_id: usize) {
    vmm::enable_virtualization_on_this_cpu();
    vmm::wait_for_start();
    vmm::cpu_loop(cpu_id);
}
