//! The device tree the hypervisor gives a guest whose config names none:
//! memory, CPUs (PSCI enable method), PSCI (HVC conduit), the UARTs, the
//! kernel command line and the initrd range. Written with `vm-fdt`
//! (rust-vmm's FDT writer, `no_std` + alloc).
//!
//! The interrupt controller and timer nodes come with the virtual GIC.

use crate::AxVMConfig;
use alloc::{format, string::String, vec, vec::Vec};
use axvmconfig::EmulatedDeviceType;
use vm_fdt::{Error, FdtWriter};

/// MPIDR affinity of vCPU `i` as the guest sees it (Aff0 = i).
pub fn vcpu_mpidr(i: usize) -> u64 {
    i as u64
}

/// Builds the guest device tree. `initrd` is the `(gpa, size)` of the
/// ramdisk when the VM has one.
pub fn generate(config: &AxVMConfig, initrd: Option<(u64, u64)>) -> Result<Vec<u8>, Error> {
    let mut w = FdtWriter::new()?;
    let root = w.begin_node("")?;
    w.property_string("compatible", "linux,dummy-virt")?;
    w.property_u32("#address-cells", 2)?;
    w.property_u32("#size-cells", 2)?;

    for r in config.memory_regions().iter().filter(|r| r.flags.is_ram()) {
        let node = w.begin_node(&format!("memory@{:x}", r.gpa))?;
        w.property_string("device_type", "memory")?;
        w.property_array_u64("reg", &[r.gpa as u64, r.size as u64])?;
        w.end_node(node)?;
    }

    let cpus = w.begin_node("cpus")?;
    w.property_u32("#address-cells", 1)?;
    w.property_u32("#size-cells", 0)?;
    for i in 0..config.cpu_num() {
        let mpidr = vcpu_mpidr(i);
        let cpu = w.begin_node(&format!("cpu@{mpidr:x}"))?;
        w.property_string("device_type", "cpu")?;
        w.property_string("compatible", "arm,armv8")?;
        w.property_u32("reg", mpidr as u32)?;
        w.property_string("enable-method", "psci")?;
        w.end_node(cpu)?;
    }
    w.end_node(cpus)?;

    let psci = w.begin_node("psci")?;
    w.property_string_list(
        "compatible",
        vec![String::from("arm,psci-1.0"), String::from("arm,psci-0.2")],
    )?;
    w.property_string("method", "hvc")?;
    w.end_node(psci)?;

    let mut stdout = None;
    for d in config.emu_devices() {
        if matches!(d.emu_type, EmulatedDeviceType::Pl011 | EmulatedDeviceType::Console) {
            let name = format!("pl011@{:x}", d.base_gpa);
            let node = w.begin_node(&name)?;
            w.property_string_list(
                "compatible",
                vec![String::from("arm,pl011"), String::from("arm,primecell")],
            )?;
            w.property_array_u64("reg", &[d.base_gpa as u64, d.length as u64])?;
            w.end_node(node)?;
            stdout.get_or_insert(name);
        }
    }

    let chosen = w.begin_node("chosen")?;
    if let Some(cmdline) = config.cmdline() {
        w.property_string("bootargs", cmdline)?;
    }
    if let Some(path) = stdout {
        w.property_string("stdout-path", &format!("/{path}"))?;
    }
    if let Some((start, size)) = initrd {
        w.property_u64("linux,initrd-start", start)?;
        w.property_u64("linux,initrd-end", start.saturating_add(size))?;
    }
    w.end_node(chosen)?;

    w.end_node(root)?;
    w.finish()
}
