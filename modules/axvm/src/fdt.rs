//! The guest device tree.
//!
//! [`generate`] writes the tree the hypervisor gives a guest whose config
//! names none, enough for Linux to boot on: memory (the RAM regions), CPUs
//! (PSCI enable method, MPIDR from [`vcpu_mpidr`]), PSCI (HVC conduit), the
//! virtual GICv3 at [`gic_layout`]'s addresses as the root interrupt parent,
//! the architected timer's PPIs, the PL011 UARTs with their SPI and the
//! `apb-pclk` fixed clock the AMBA driver asks for, copies of the host's
//! nodes for the passthrough devices, the kernel command line and the
//! initrd range.
//!
//! A passthrough device's node is found in the host tree by the start of
//! its `reg` (the config's `hpa`) and copied with its `reg` moved to the
//! guest address and its interrupt set from the config's `irq`; the fixed
//! clocks it references by phandle are copied along, other phandle
//! references are dropped (module `passthrough`).
//!
//! [`fixup`] adapts a tree the config names (`dtb_path`): its memory nodes
//! become the VM's RAM regions and `/chosen` gets the config's command line
//! and the initrd range; every other node and property (phandles included)
//! is kept as it is.
//!
//! Written with `vm-fdt` (rust-vmm's FDT writer), read with the `fdt` crate
//! (both `no_std` + alloc). The trees read here come from the platform's
//! firmware and from the build, never from a guest; still, `fdt` checks the
//! header only and panics on some malformed structure blocks, so every blob
//! passes [`well_formed`] (module `check`) before it is read.

mod check;
mod fixup;
pub mod host_nodes;
#[cfg(test)]
mod host_nodes_tests;
mod passthrough;
#[cfg(test)]
mod tests;

use crate::AxVMConfig;
use crate::layout::{GICD_SIZE, gic_layout};
use alloc::{collections::BTreeSet, format, string::String, vec, vec::Vec};
use axdevice::VgicLayout;
use axvmconfig::{EmulatedDeviceType, GENERATED_DTB_MAX_SIZE};
use core::fmt;
use vm_fdt::FdtWriter;

pub use check::{MAX_DEPTH, Malformed, well_formed};
pub use fixup::fixup;

/// The root's `#address-cells` and `#size-cells` in generated trees.
const ROOT_CELLS: u32 = 2;
/// First cell of a GIC interrupt specifier: shared peripheral interrupt.
const GIC_SPI: u32 = 0;
/// First cell of a GIC interrupt specifier: private peripheral interrupt.
const GIC_PPI: u32 = 1;
/// Third cell of a GIC interrupt specifier: level-sensitive, active high.
const IRQ_TYPE_LEVEL_HIGH: u32 = 4;
/// INTID of PPI 0.
const PPI_BASE: usize = 16;
/// INTID of SPI 0.
const SPI_BASE: usize = 32;
/// GIC maintenance interrupt (PPI number).
const PPI_GIC_MAINTENANCE: u32 = 9;
/// EL2 physical timer (PPI number).
const PPI_HYP_TIMER: u32 = 10;
/// Virtual timer (PPI number).
const PPI_VIRT_TIMER: u32 = 11;
/// Secure EL1 physical timer (PPI number).
const PPI_SECURE_PHYS_TIMER: u32 = 13;
/// Non-secure EL1 physical timer (PPI number).
const PPI_PHYS_TIMER: u32 = 14;
/// Frequency of the generated `apb-pclk` fixed clock (as on QEMU virt).
const APB_PCLK_HZ: u32 = 24_000_000;
/// Phandle of the generated GIC node.
const GIC_PHANDLE: u32 = 1;
/// Phandle of the generated `apb-pclk` node.
const CLOCK_PHANDLE: u32 = 2;
/// The first phandle handed to nodes copied from the host tree.
const FIRST_COPY_PHANDLE: u32 = 3;

/// Why a device tree could not be written.
#[derive(Debug, PartialEq)]
#[non_exhaustive]
pub enum DtbError {
    /// The FDT writer refused a node or property.
    Write(vm_fdt::Error),
    /// A given blob (the host's tree, a `dtb_path` file) is not a device tree.
    Parse(::fdt::FdtError),
    /// A given tree is not well formed (see [`well_formed`]).
    Malformed(Malformed),
    /// A given tree has no root node.
    NoRoot,
    /// The generated tree is larger than the room the config checker keeps
    /// for it ([`GENERATED_DTB_MAX_SIZE`]).
    TooLarge {
        /// Its size in bytes.
        size: usize,
    },
    /// A value does not fit in the `#address-cells` / `#size-cells` of the
    /// tree it goes into (or those are not 1 or 2).
    CellsTooSmall {
        /// The property being written.
        property: &'static str,
        /// The value.
        value: u64,
        /// The number of 32-bit cells it had to fit in.
        cells: usize,
    },
}

impl From<vm_fdt::Error> for DtbError {
    fn from(e: vm_fdt::Error) -> Self {
        Self::Write(e)
    }
}

impl fmt::Display for DtbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Write(e) => write!(f, "device tree writer: {e}"),
            Self::Parse(e) => write!(f, "not a device tree: {e}"),
            Self::Malformed(m) => write!(f, "malformed device tree at byte {:#x}: {}", m.offset, m.problem),
            Self::NoRoot => f.write_str("the device tree has no root node"),
            Self::TooLarge { size } => write!(
                f,
                "the generated device tree has {size:#x} bytes, more than the {GENERATED_DTB_MAX_SIZE:#x} kept for it"
            ),
            Self::CellsTooSmall { property, value, cells } => {
                write!(f, "{property}: {value:#x} does not fit in {cells} cells")
            }
        }
    }
}

/// MPIDR affinity of vCPU `i` as the guest sees it (Aff0 = i).
pub fn vcpu_mpidr(i: usize) -> u64 {
    i as u64
}

/// The `interrupts` cells (`<type number flags>`) of GIC INTID `intid`, or
/// `None` for an SGI (or an INTID too large for a cell).
fn gic_interrupt(intid: usize, flags: u32) -> Option<[u32; 3]> {
    if intid >= SPI_BASE {
        Some([GIC_SPI, u32::try_from(intid - SPI_BASE).ok()?, flags])
    } else if intid >= PPI_BASE {
        Some([GIC_PPI, u32::try_from(intid - PPI_BASE).ok()?, flags])
    } else {
        None
    }
}

/// `values` encoded in `cells` 32-bit cells each (1 or 2), for `property`.
fn encode_cells(property: &'static str, values: &[u64], cells: usize) -> Result<Vec<u8>, DtbError> {
    // `cells` may come from a given tree: check it before sizing anything
    // by it.
    if !matches!(cells, 1 | 2) {
        let value = values.first().copied().unwrap_or(0);
        return Err(DtbError::CellsTooSmall { property, value, cells });
    }
    let mut out = Vec::with_capacity(values.len() * cells * 4);
    for &value in values {
        if cells == 1 {
            let v = u32::try_from(value).map_err(|_| DtbError::CellsTooSmall { property, value, cells })?;
            out.extend_from_slice(&v.to_be_bytes());
        } else {
            out.extend_from_slice(&value.to_be_bytes());
        }
    }
    Ok(out)
}

/// Writes one memory node per RAM region of `config`, with `reg` in the
/// root's `address_cells` / `size_cells`; returns the nodes' names.
fn write_memory(
    w: &mut FdtWriter,
    config: &AxVMConfig,
    address_cells: usize,
    size_cells: usize,
) -> Result<Vec<String>, DtbError> {
    let mut names = Vec::new();
    for r in config.memory_regions().iter().filter(|r| r.flags.is_ram()) {
        let name = format!("memory@{:x}", r.gpa);
        let node = w.begin_node(&name)?;
        w.property_string("device_type", "memory")?;
        let mut reg = encode_cells("memory reg", &[r.gpa as u64], address_cells)?;
        reg.extend(encode_cells("memory reg", &[r.size as u64], size_cells)?);
        w.property("reg", &reg)?;
        w.end_node(node)?;
        names.push(name);
    }
    Ok(names)
}

/// `/chosen`'s boot properties: the config's command line and the initrd
/// range (`initrd` = `(gpa, size)`).
fn write_boot_args(w: &mut FdtWriter, config: &AxVMConfig, initrd: Option<(u64, u64)>) -> Result<(), DtbError> {
    if let Some(cmdline) = config.cmdline() {
        w.property_string("bootargs", cmdline)?;
    }
    if let Some((start, size)) = initrd {
        w.property_u64("linux,initrd-start", start)?;
        w.property_u64("linux,initrd-end", start.saturating_add(size))?;
    }
    Ok(())
}

/// Builds the guest device tree. `initrd` is the `(gpa, size)` of the
/// ramdisk when the VM has one; `host_fdt` is the host's device tree, where
/// the nodes of the config's passthrough devices are found (without it they
/// are left out of the guest's tree, with a warning). The UARTs include the
/// default console `axvmconfig` adds to a VM whose config lists none. A
/// tree larger than [`GENERATED_DTB_MAX_SIZE`], the room the config checker
/// keeps for it, is refused ([`DtbError::TooLarge`]).
pub fn generate(config: &AxVMConfig, initrd: Option<(u64, u64)>, host_fdt: Option<&[u8]>) -> Result<Vec<u8>, DtbError> {
    let gic = gic_layout(config);
    let mut w = FdtWriter::new()?;
    // Root children's names, so that copied host nodes get unique ones.
    let mut names = BTreeSet::new();
    let root = w.begin_node("")?;
    w.property_string("compatible", "linux,dummy-virt")?;
    w.property_u32("#address-cells", ROOT_CELLS)?;
    w.property_u32("#size-cells", ROOT_CELLS)?;
    if gic.is_some() {
        w.property_u32("interrupt-parent", GIC_PHANDLE)?;
    }

    names.extend(write_memory(&mut w, config, ROOT_CELLS as usize, ROOT_CELLS as usize)?);
    write_cpus(&mut w, config)?;
    names.extend(["cpus", "psci", "timer", "chosen"].map(String::from));
    if let Some(gic) = gic {
        names.insert(write_gic(&mut w, &gic)?);
        write_timer(&mut w)?;
    }

    let uarts: Vec<_> = config
        .emu_devices()
        .iter()
        .filter(|d| matches!(d.emu_type, EmulatedDeviceType::Pl011 | EmulatedDeviceType::Console))
        .collect();
    if !uarts.is_empty() {
        write_apb_pclk(&mut w)?;
        names.insert(String::from("apb-pclk"));
    }
    let mut stdout = None;
    for d in uarts {
        let name = format!("pl011@{:x}", d.base_gpa);
        let node = w.begin_node(&name)?;
        w.property_string_list(
            "compatible",
            vec![String::from("arm,pl011"), String::from("arm,primecell")],
        )?;
        w.property_array_u64("reg", &[d.base_gpa as u64, d.length as u64])?;
        if gic.is_some() && d.irq_id != 0 {
            match gic_interrupt(d.irq_id, IRQ_TYPE_LEVEL_HIGH) {
                Some(cells) => w.property_array_u32("interrupts", &cells)?,
                None => log::warn!("{}: irq {} is an SGI, not given to the UART", d.name, d.irq_id),
            }
        }
        w.property_array_u32("clocks", &[CLOCK_PHANDLE, CLOCK_PHANDLE])?;
        w.property_string_list("clock-names", vec![String::from("uartclk"), String::from("apb_pclk")])?;
        w.end_node(node)?;
        stdout.get_or_insert_with(|| format!("/{name}"));
        names.insert(name);
    }

    if !config.pass_through_devices().is_empty() {
        match host_fdt {
            Some(blob) => {
                well_formed(blob)?;
                let host = ::fdt::Fdt::new(blob).map_err(DtbError::Parse)?;
                passthrough::write_devices(&mut w, &host, config, gic.is_some(), &mut names)?;
            }
            None => log::warn!(
                "VM {}: no host device tree, its passthrough devices are not in its device tree",
                config.id()
            ),
        }
    }

    let chosen = w.begin_node("chosen")?;
    write_boot_args(&mut w, config, initrd)?;
    if let Some(path) = stdout {
        w.property_string("stdout-path", &path)?;
    }
    w.end_node(chosen)?;

    w.end_node(root)?;
    within_room(w.finish()?)
}

/// `blob` if it fits in the room kept for a generated tree.
fn within_room(blob: Vec<u8>) -> Result<Vec<u8>, DtbError> {
    if blob.len() > GENERATED_DTB_MAX_SIZE {
        return Err(DtbError::TooLarge { size: blob.len() });
    }
    Ok(blob)
}

/// `/cpus` with one PSCI-enabled CPU per vCPU, and `/psci` (HVC conduit).
fn write_cpus(w: &mut FdtWriter, config: &AxVMConfig) -> Result<(), DtbError> {
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
    Ok(())
}

/// The GICv3 node: distributor and one redistributor region; returns its name.
fn write_gic(w: &mut FdtWriter, gic: &VgicLayout) -> Result<String, DtbError> {
    let gicr_size = gic.gicr_size().ok_or(DtbError::CellsTooSmall {
        property: "reg",
        value: u64::MAX,
        cells: ROOT_CELLS as usize,
    })?;
    let name = format!("intc@{:x}", gic.gicd_base.as_usize());
    let node = w.begin_node(&name)?;
    w.property_string("compatible", "arm,gic-v3")?;
    w.property_u32("#interrupt-cells", 3)?;
    w.property_null("interrupt-controller")?;
    w.property_u32("#address-cells", ROOT_CELLS)?;
    w.property_u32("#size-cells", ROOT_CELLS)?;
    w.property_null("ranges")?;
    w.property_array_u64(
        "reg",
        &[
            gic.gicd_base.as_usize() as u64,
            GICD_SIZE as u64,
            gic.gicr_base.as_usize() as u64,
            gicr_size as u64,
        ],
    )?;
    w.property_u32("#redistributor-regions", 1)?;
    w.property_array_u32("interrupts", &[GIC_PPI, PPI_GIC_MAINTENANCE, IRQ_TYPE_LEVEL_HIGH])?;
    w.property_phandle(GIC_PHANDLE)?;
    w.end_node(node)?;
    Ok(name)
}

/// The architected timer: secure and non-secure physical, virtual and
/// hypervisor timer PPIs (GICv3 binding: no CPU mask in the flags).
fn write_timer(w: &mut FdtWriter) -> Result<(), DtbError> {
    let node = w.begin_node("timer")?;
    w.property_string("compatible", "arm,armv8-timer")?;
    let mut interrupts = Vec::new();
    for ppi in [PPI_SECURE_PHYS_TIMER, PPI_PHYS_TIMER, PPI_VIRT_TIMER, PPI_HYP_TIMER] {
        interrupts.extend([GIC_PPI, ppi, IRQ_TYPE_LEVEL_HIGH]);
    }
    w.property_array_u32("interrupts", &interrupts)?;
    w.end_node(node)?;
    Ok(())
}

/// The fixed clock the PL011 nodes reference (`uartclk` and `apb_pclk`).
fn write_apb_pclk(w: &mut FdtWriter) -> Result<(), DtbError> {
    let node = w.begin_node("apb-pclk")?;
    w.property_string("compatible", "fixed-clock")?;
    w.property_u32("#clock-cells", 0)?;
    w.property_u32("clock-frequency", APB_PCLK_HZ)?;
    w.property_phandle(CLOCK_PHANDLE)?;
    w.end_node(node)?;
    Ok(())
}
