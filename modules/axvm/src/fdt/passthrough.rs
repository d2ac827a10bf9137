//! Copies of the host's device-tree nodes for a VM's passthrough devices.
//!
//! A device is the host node whose first `reg` entry starts at the config's
//! `hpa`, searched among the root's children and the children of nodes with
//! an empty `ranges` (buses that map addresses one to one). Its copy, a
//! child of the guest's root, keeps its name (with the guest address as
//! unit address) and its properties, except:
//!
//! - `reg`: each entry inside `hpa..hpa + size` moves to the guest address,
//!   in the guest root's cells; entries outside it are dropped;
//! - `interrupts`: the config's `irq` (a GIC INTID) with the host's trigger
//!   type, or none when `irq` is 0; `interrupt-parent` is dropped (the
//!   guest root's, the virtual GIC, applies);
//! - `clocks`: the fixed clocks it references are copied too (once, with
//!   new phandles); a reference to anything else drops `clocks` and
//!   `clock-names`;
//! - other properties that hold phandles (resets, DMA channels, pin
//!   control, power domains, PHYs, IOMMUs, MSI, GPIOs, regulators) and the
//!   node's own `phandle` are dropped: the nodes they point at are not
//!   the guest's.

use super::{DtbError, FIRST_COPY_PHANDLE, IRQ_TYPE_LEVEL_HIGH, gic_interrupt};
use crate::AxVMConfig;
use ::fdt::{Fdt, node::FdtNode};
use alloc::{
    collections::{BTreeMap, BTreeSet},
    format,
    string::String,
    vec::Vec,
};
use axvmconfig::PassThroughDeviceConfig;
use vm_fdt::FdtWriter;

/// Properties that reference other nodes (or name such references), which a
/// copy cannot keep valid; with the prefixes and suffixes in [`dropped`].
const PHANDLE_PROPERTIES: &[&str] = &[
    "phandle",
    "linux,phandle",
    "interrupt-parent",
    "interrupts-extended",
    "interrupt-map",
    "interrupt-map-mask",
    "resets",
    "reset-names",
    "dmas",
    "dma-names",
    "power-domains",
    "power-domain-names",
    "phys",
    "phy-names",
    "iommus",
    "iommu-map",
    "msi-parent",
    "msi-map",
    "gpios",
    "assigned-clocks",
    "assigned-clock-parents",
    "assigned-clock-rates",
];

/// Trigger type bits of a GIC interrupt specifier's flags cell.
const IRQ_TYPE_MASK: u32 = 0xf;
/// `#interrupt-cells` of a GIC.
const GIC_INTERRUPT_CELLS: usize = 3;

/// Whether a copy leaves out property `name` (see [`PHANDLE_PROPERTIES`]).
pub(super) fn dropped(name: &str) -> bool {
    PHANDLE_PROPERTIES.contains(&name)
        || name.starts_with("pinctrl-")
        || name.ends_with("-supply")
        || name.ends_with("-gpios")
        || name.ends_with("-gpio")
}

/// The big-endian 32-bit cells of a property value, or `None` when its
/// length is not a multiple of 4.
fn be_cells(value: &[u8]) -> Option<Vec<u32>> {
    if !value.len().is_multiple_of(4) {
        return None;
    }
    Some(
        value
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

/// `name`, or `name` with `-1`, `-2`, ... before its unit address when a
/// sibling already has it; recorded in `names`.
pub(super) fn unique_name(names: &mut BTreeSet<String>, name: &str) -> String {
    let mut candidate = String::from(name);
    let (base, unit) = match name.split_once('@') {
        Some((base, unit)) => (base, Some(unit)),
        None => (name, None),
    };
    let mut n = 0u32;
    while names.contains(&candidate) {
        n += 1;
        candidate = match unit {
            Some(unit) => format!("{base}-{n}@{unit}"),
            None => format!("{base}-{n}"),
        };
    }
    names.insert(candidate.clone());
    candidate
}

/// The fixed clocks copied so far: host phandle to guest phandle.
pub(super) struct ClockCopies {
    map: BTreeMap<u32, u32>,
    next: u32,
}

impl ClockCopies {
    fn guest_phandle(&mut self, host: u32) -> u32 {
        *self.map.entry(host).or_insert_with(|| {
            let p = self.next;
            self.next += 1;
            p
        })
    }
}

/// The guest's `clocks` cells for a host `clocks` value: each reference to
/// a host fixed clock becomes one to its copy. `None` when a reference is
/// to something else or the value is malformed.
pub(super) fn map_clocks(host: &Fdt<'_>, value: &[u8], copies: &mut ClockCopies) -> Option<Vec<u32>> {
    let cells = be_cells(value)?;
    // (host phandle, specifier) of each reference; copies are recorded only
    // once all of them are known to be fixed clocks.
    let mut refs = Vec::new();
    let mut i = 0;
    while i < cells.len() {
        let provider = host.find_phandle(cells[i])?;
        let fixed = provider
            .compatible()
            .is_some_and(|c| c.all().any(|s| s == "fixed-clock"));
        if !fixed {
            return None;
        }
        let specifier_cells = provider
            .property("#clock-cells")
            .and_then(|p| p.as_usize())
            .unwrap_or(0);
        let end = i.checked_add(1)?.checked_add(specifier_cells)?;
        refs.push((cells[i], cells.get(i + 1..end)?));
        i = end;
    }
    let mut out = Vec::with_capacity(cells.len());
    for (phandle, specifier) in refs {
        out.push(copies.guest_phandle(phandle));
        out.extend_from_slice(specifier);
    }
    Some(out)
}

/// Whether `node`'s first `reg` entry (with a size) starts at `hpa` and the
/// node is not a memory node.
fn starts_at(node: FdtNode<'_, '_>, hpa: usize) -> bool {
    if node.property("device_type").and_then(|p| p.as_str()) == Some("memory") {
        return false;
    }
    node.reg()
        .and_then(|mut r| r.next())
        .is_some_and(|r| r.size.is_some() && r.starting_address as usize == hpa)
}

/// The node of the device at `hpa` under `parent` (see the module doc).
fn find_device<'b, 'a>(parent: FdtNode<'b, 'a>, hpa: usize) -> Option<FdtNode<'b, 'a>> {
    for child in parent.children() {
        if starts_at(child, hpa) {
            return Some(child);
        }
        if child.property("ranges").is_some_and(|p| p.value.is_empty())
            && let Some(found) = find_device(child, hpa)
        {
            return Some(found);
        }
    }
    None
}

/// The trigger type of `node`'s first interrupt in the host tree, when its
/// interrupt controller uses GIC specifiers; level-high otherwise.
fn host_trigger(host: &Fdt<'_>, node: FdtNode<'_, '_>) -> u32 {
    let controller = node.interrupt_parent().or_else(|| {
        let root = host.find_node("/")?;
        let phandle = root.property("interrupt-parent")?.as_usize()?;
        host.find_phandle(u32::try_from(phandle).ok()?)
    });
    let gic_cells = controller.and_then(|c| c.interrupt_cells()) == Some(GIC_INTERRUPT_CELLS);
    let cells = node.property("interrupts").and_then(|p| be_cells(p.value));
    match cells {
        Some(cells) if gic_cells && cells.len() >= GIC_INTERRUPT_CELLS => match cells[2] & IRQ_TYPE_MASK {
            0 => IRQ_TYPE_LEVEL_HIGH,
            t => t,
        },
        _ => IRQ_TYPE_LEVEL_HIGH,
    }
}

/// Writes the copies of `config`'s passthrough devices and of the fixed
/// clocks they use as children of the guest's root (`names`: the root's
/// children so far). A device missing from `host` is skipped with a warning.
pub(super) fn write_devices(
    w: &mut FdtWriter,
    host: &Fdt<'_>,
    config: &AxVMConfig,
    has_gic: bool,
    names: &mut BTreeSet<String>,
) -> Result<(), DtbError> {
    let root = host.find_node("/").ok_or(DtbError::NoRoot)?;
    let mut clocks = ClockCopies {
        map: BTreeMap::new(),
        next: FIRST_COPY_PHANDLE,
    };
    // Devices named by host node path are written whole, below.
    for dev in config
        .pass_through_devices()
        .iter()
        .filter(|d| !d.name.starts_with('/'))
    {
        match find_device(root, dev.base_hpa) {
            Some(node) => write_device(w, host, node, dev, has_gic, &mut clocks, names)?,
            None => log::warn!(
                "VM {}: passthrough device {} at {:#x}: no node in the host device tree, left out of the guest's",
                config.id(),
                dev.name,
                dev.base_hpa
            ),
        }
    }
    super::host_nodes::write_nodes(w, host, config, &mut clocks, names)?;
    for (&host_phandle, &guest_phandle) in &clocks.map {
        // map_clocks found each of them.
        if let Some(node) = host.find_phandle(host_phandle) {
            let name = unique_name(names, node.name);
            let copy = w.begin_node(&name)?;
            for prop in node.properties().filter(|p| !dropped(p.name)) {
                w.property(prop.name, prop.value)?;
            }
            w.property_phandle(guest_phandle)?;
            w.end_node(copy)?;
        }
    }
    Ok(())
}

/// Writes the copy of one device's host node.
fn write_device(
    w: &mut FdtWriter,
    host: &Fdt<'_>,
    node: FdtNode<'_, '_>,
    dev: &PassThroughDeviceConfig,
    has_gic: bool,
    clocks: &mut ClockCopies,
    names: &mut BTreeSet<String>,
) -> Result<(), DtbError> {
    let base = node.name.split('@').next().unwrap_or(node.name);
    let name = unique_name(names, &format!("{base}@{:x}", dev.base_gpa));
    let guest_clocks = match node.property("clocks") {
        Some(p) => {
            let mapped = map_clocks(host, p.value, clocks);
            if mapped.is_none() {
                log::warn!(
                    "passthrough device {}: its clocks are not fixed clocks, left out of its node",
                    dev.name
                );
            }
            mapped
        }
        None => None,
    };

    let copy = w.begin_node(&name)?;
    w.property_array_u64("reg", &guest_reg(node, dev))?;
    if has_gic
        && dev.irq_id != 0
        && let Some(cells) = gic_interrupt(dev.irq_id, host_trigger(host, node))
    {
        w.property_array_u32("interrupts", &cells)?;
        // The name of the one interrupt kept: the first of the list.
        let irq_names = node.property("interrupt-names").map(|p| p.value);
        if let Some(first) = irq_names
            .and_then(|v| v.split(|&b| b == 0).next())
            .filter(|n| !n.is_empty())
        {
            let mut value = first.to_vec();
            value.push(0);
            w.property("interrupt-names", &value)?;
        }
    }
    if let Some(cells) = &guest_clocks {
        w.property_array_u32("clocks", cells)?;
    }
    for prop in node.properties() {
        match prop.name {
            "reg" | "interrupts" | "interrupt-names" => {}
            "clocks" | "clock-names" => {
                if guest_clocks.is_some() && prop.name == "clock-names" {
                    w.property(prop.name, prop.value)?;
                }
            }
            other if dropped(other) => log::debug!("passthrough device {}: {other} left out", dev.name),
            other => w.property(other, prop.value)?,
        }
    }
    for child in node.children() {
        copy_subtree(w, child)?;
    }
    w.end_node(copy)?;
    Ok(())
}

/// The guest `reg` of a copied device: `(address, size)` pairs of the host
/// entries inside the passthrough window, moved to the guest address.
fn guest_reg(node: FdtNode<'_, '_>, dev: &PassThroughDeviceConfig) -> Vec<u64> {
    let mut reg = Vec::new();
    for r in node.reg().into_iter().flatten() {
        let addr = r.starting_address as usize;
        let size = r.size.unwrap_or(0);
        let inside = addr
            .checked_sub(dev.base_hpa)
            .filter(|off| off.checked_add(size).is_some_and(|end| end <= dev.length));
        match inside.and_then(|off| dev.base_gpa.checked_add(off)) {
            Some(gpa) => reg.extend([gpa as u64, size as u64]),
            None => log::warn!(
                "passthrough device {}: reg entry {addr:#x}+{size:#x} is outside its window, left out",
                dev.name
            ),
        }
    }
    reg
}

/// Copies a child node of a passthrough device as it is, less the
/// properties that reference other nodes.
pub(super) fn copy_subtree(w: &mut FdtWriter, node: FdtNode<'_, '_>) -> Result<(), DtbError> {
    let copy = w.begin_node(node.name)?;
    for prop in node.properties() {
        if !dropped(prop.name) && !matches!(prop.name, "clocks" | "clock-names") {
            w.property(prop.name, prop.value)?;
        }
    }
    for child in node.children() {
        copy_subtree(w, child)?;
    }
    w.end_node(copy)?;
    Ok(())
}
