//! Passthrough devices named by their host device-tree node
//! (`passthrough_devices = [["/pl011@9000000"]]`, or `[["/"]]` for every
//! host device the hypervisor does not use itself), resolved against the
//! host tree when the VM is built, and their copies in the guest tree.
//!
//! A node gives the VM, at the same addresses (GPA = HPA):
//! - each of its `reg` ranges, as device memory, in whole 4 KiB pages; a
//!   page already given by an earlier node is mapped once. A node named by
//!   its path must have page-aligned ranges (it cannot be mapped without
//!   the page's other registers, which the config did not name); `["/"]`
//!   takes sub-page devices with their whole page (QEMU packs eight
//!   virtio-mmio devices in a page, all of which it takes), as long as the
//!   page holds nothing of the hypervisor's or of the VM's own devices;
//! - each of its interrupts, which must be GIC SPIs: forwarded to the VM.
//!
//! `["/"]` takes every node that is a child of the root, or of a bus whose
//! `ranges` is empty (addresses mapped one to one), and that has a `reg`,
//! except:
//! - nodes whose `status` is not `"okay"`;
//! - memory nodes (the VM's RAM comes from `memory_regions`);
//! - interrupt controllers and MSI controllers (`interrupt-controller`,
//!   `msi-controller`; the VM gets the virtual GIC) with their children;
//! - nodes with a `reg` range the hypervisor uses itself (`own`: its
//!   console UART, the GIC distributor and redistributors);
//! - nodes whose registers overlap the VM's RAM, its emulated devices or
//!   its `passthrough_addresses` (the VM's own device there wins: its
//!   default console takes the host console's place, for instance);
//! - bridges whose `ranges` translate addresses (PCIe host bridges): their
//!   windows are not passed through yet, which is logged;
//! - nodes with interrupts other than GIC SPIs (logged);
//! - the nodes in `excluded_devices`, with their children.
//!
//! Nodes without `reg` (CPUs, timer, PSCI, clocks, `chosen`) are never
//! taken: the guest tree has its own.
//!
//! A node named by its path must exist, have a `reg`, use none of the
//! hypervisor's ranges, have page-aligned ranges and only SPIs; otherwise
//! the VM is not built and the error names the config field.
//!
//! The guest tree gets a copy of each node as a child of its root, with its
//! `reg` and `interrupts` as in the host tree (the addresses are the same,
//! and the guest's interrupt parent is the virtual GIC, which numbers SPIs
//! as the host's does) and without the properties that reference other
//! nodes (the rule of the copies of address-named devices); its children are copied as they
//! are, less such properties.

use super::DtbError;
use super::passthrough::{ClockCopies, copy_subtree, dropped, map_clocks, unique_name};
use crate::AxVMConfig;
use ::fdt::{Fdt, node::FdtNode};
use alloc::{collections::BTreeSet, format, string::String, vec::Vec};
use axvmconfig::PassThroughDeviceConfig;
use core::fmt;
use core::ops::Range;
use vm_fdt::FdtWriter;

/// The page size passthrough windows are made of.
const PAGE: usize = 0x1000;
/// First GIC INTID that is an SPI.
const SPI_BASE: u32 = 32;
/// The SPI type of a GIC interrupt specifier's first cell.
const GIC_SPI: u32 = 0;
/// `#interrupt-cells` of a GIC.
const GIC_INTERRUPT_CELLS: usize = 3;

/// Why a node-path passthrough entry cannot be given to the VM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeError {
    /// The config field: `devices.passthrough_devices[0]`.
    pub field: String,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

/// A host node resolved for a VM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostNodeDevice {
    /// Its full path in the host tree.
    pub path: String,
    /// The page windows of its `reg` ranges not mapped by an earlier node.
    pub windows: Vec<Range<usize>>,
    /// Its interrupts (GIC INTIDs, all SPIs).
    pub spis: Vec<u32>,
}

/// Why a node is left out of `["/"]`, or refused when named.
enum Skip {
    /// Left out silently: not a device (no `reg`, memory, disabled).
    NotADevice,
    /// Left out with this reason (logged for `["/"]`, the error when named).
    Because(String),
}

/// [`resolve`] against the host tree blob `host`.
pub fn resolve_blob(host: &[u8], config: &AxVMConfig, own: &[Range<usize>]) -> Result<Vec<HostNodeDevice>, NodeError> {
    let host = Fdt::new(host).map_err(|e| NodeError {
        field: String::from("devices.passthrough_devices"),
        problem: format!("the host device tree does not parse: {e:?}"),
    })?;
    resolve(&host, config, own)
}

/// Resolves `config`'s node-path passthrough entries against the host tree
/// `host` (`own`: the host physical ranges the hypervisor uses itself).
pub fn resolve(host: &Fdt<'_>, config: &AxVMConfig, own: &[Range<usize>]) -> Result<Vec<HostNodeDevice>, NodeError> {
    let mut taken: Vec<Range<usize>> = Vec::new();
    let mut out = Vec::new();
    for excluded in config.excluded_devices() {
        if host.find_node(excluded).is_none() {
            let i = config
                .excluded_devices()
                .iter()
                .position(|e| e == excluded)
                .unwrap_or(0);
            return Err(NodeError {
                field: format!("devices.excluded_devices[{i}]"),
                problem: format!("\"{excluded}\": no such node in the host device tree"),
            });
        }
    }
    let vm_ranges = vm_ranges(config);
    for entry in config.pass_through_nodes() {
        let field = format!("devices.passthrough_devices[{}]", entry.index);
        if entry.is_root() {
            let root = host.find_node("/").ok_or_else(|| NodeError {
                field: field.clone(),
                problem: "the host device tree has no root node".into(),
            })?;
            let mut candidates = Vec::new();
            collect_root_devices(root, "", &mut candidates);
            for (path, node) in candidates {
                if is_excluded(&path, config.excluded_devices()) || out.iter().any(|d: &HostNodeDevice| d.path == path)
                {
                    continue;
                }
                match check_node(host, node, own, &vm_ranges, false) {
                    Ok(spis) => out.push(take(path, node, spis, &mut taken)),
                    Err(Skip::NotADevice) => {}
                    Err(Skip::Because(why)) => {
                        log::info!("VM {}: [\"/\"] leaves out {path}: {why}", config.id());
                    }
                }
            }
            continue;
        }
        let Some(node) = host.find_node(&entry.path) else {
            return Err(NodeError {
                field,
                problem: format!("\"{}\": no such node in the host device tree", entry.path),
            });
        };
        if let Some(parent) = entry.path.rsplit_once('/').map(|(p, _)| p).filter(|p| !p.is_empty())
            && let Some(bus) = host.find_node(parent)
            && !bus.property("ranges").is_some_and(|p| p.value.is_empty())
        {
            return Err(NodeError {
                field,
                problem: format!(
                    "\"{}\" is behind {parent}, which translates addresses (its `ranges` is not empty); \
                     only children of the root or of one-to-one buses can be passed through",
                    entry.path
                ),
            });
        }
        let spis = match check_node(host, node, own, &vm_ranges, true) {
            Ok(spis) => spis,
            Err(Skip::NotADevice) => {
                return Err(NodeError {
                    field,
                    problem: format!(
                        "\"{}\" is not a device that can be passed through (no `reg`, disabled, or a memory node)",
                        entry.path
                    ),
                });
            }
            Err(Skip::Because(why)) => {
                return Err(NodeError {
                    field,
                    problem: format!("\"{}\": {why}", entry.path),
                });
            }
        };
        if out.iter().all(|d: &HostNodeDevice| d.path != entry.path) {
            out.push(take(entry.path.clone(), node, spis, &mut taken));
        }
    }
    Ok(out)
}

/// Adds the resolved nodes to `config`: each window is a passthrough
/// device named by the node path (the first ones carry its SPIs; SPIs
/// beyond its windows get an empty window), and the node is recorded for
/// the guest tree.
pub fn apply(config: &mut AxVMConfig, nodes: Vec<HostNodeDevice>) {
    let passthrough_irqs = config.interrupt_mode() == axvmconfig::VMInterruptMode::Passthrough;
    for node in nodes {
        let n = node.windows.len().max(node.spis.len());
        for i in 0..n {
            let window = node.windows.get(i).cloned().unwrap_or(0..0);
            let irq = node.spis.get(i).copied().unwrap_or(0);
            config.add_pass_through_device(PassThroughDeviceConfig {
                name: node.path.clone(),
                base_gpa: window.start,
                base_hpa: window.start,
                length: window.len(),
                irq_id: irq as usize,
            });
            if passthrough_irqs && irq >= SPI_BASE {
                config.add_pass_through_spi((irq - SPI_BASE) as usize);
            }
        }
        config.add_host_node(node.path);
    }
}

/// The guest ranges the VM has of its own: RAM, emulated devices, windows.
fn vm_ranges(config: &AxVMConfig) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    for r in config.memory_regions() {
        ranges.push(r.gpa..r.gpa.saturating_add(r.size));
    }
    for d in config.emu_devices() {
        if d.emu_type.space() == axvmconfig::DeviceSpace::Mmio {
            ranges.push(d.base_gpa..d.base_gpa.saturating_add(d.length));
        }
    }
    for w in config.pass_through_addresses() {
        ranges.push(w.base_gpa..w.base_gpa.saturating_add(w.length));
    }
    ranges
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// Whether `path` is an excluded node or below one.
fn is_excluded(path: &str, excluded: &[String]) -> bool {
    excluded
        .iter()
        .any(|e| path == e || path.strip_prefix(e.as_str()).is_some_and(|rest| rest.starts_with('/')))
}

/// The children of `node` (path `prefix`) that `["/"]` considers, with
/// the children of one-to-one buses in their place; bridges that translate
/// addresses are taken as candidates (and refused by [`check_node`]).
fn collect_root_devices<'b, 'a>(node: FdtNode<'b, 'a>, prefix: &str, out: &mut Vec<(String, FdtNode<'b, 'a>)>) {
    for child in node.children() {
        let path = format!("{prefix}/{}", child.name);
        let one_to_one_bus = child.reg().is_none() && child.property("ranges").is_some_and(|p| p.value.is_empty());
        if one_to_one_bus {
            collect_root_devices(child, &path, out);
        } else {
            out.push((path, child));
        }
    }
}

/// Whether a node can be passed through (`named`: by its path, which
/// wants page-aligned ranges); its SPIs if so.
fn check_node(
    host: &Fdt<'_>,
    node: FdtNode<'_, '_>,
    own: &[Range<usize>],
    vm_ranges: &[Range<usize>],
    named: bool,
) -> Result<Vec<u32>, Skip> {
    let status_ok = node
        .property("status")
        .and_then(|p| p.as_str())
        .is_none_or(|s| s == "okay" || s == "ok");
    let memory = node.property("device_type").and_then(|p| p.as_str()) == Some("memory");
    if !status_ok || memory {
        return Err(Skip::NotADevice);
    }
    if node.property("interrupt-controller").is_some() || node.property("msi-controller").is_some() {
        return Err(Skip::Because(
            "an interrupt controller; the VM has the virtual GIC".into(),
        ));
    }
    if node.property("ranges").is_some_and(|p| !p.value.is_empty()) {
        return Err(Skip::Because(
            "a bridge whose `ranges` translate addresses (its windows are not passed through yet)".into(),
        ));
    }
    let Some(reg) = node.reg() else {
        return Err(Skip::NotADevice);
    };
    let mut ranges = Vec::new();
    for r in reg {
        let start = r.starting_address as usize;
        let size = r.size.unwrap_or(0);
        if size == 0 {
            continue;
        }
        let Some(end) = start.checked_add(size) else {
            return Err(Skip::Because(format!("reg {start:#x}+{size:#x} overflows")));
        };
        if named && !start.is_multiple_of(PAGE) {
            return Err(Skip::Because(format!(
                "reg {start:#x}+{size:#x} does not start on a 4 KiB page (it cannot be mapped alone)"
            )));
        }
        let range = start..end;
        let page_end = end.checked_next_multiple_of(PAGE).unwrap_or(end);
        let pages = (start & !(PAGE - 1))..page_end;
        if let Some(o) = own.iter().find(|o| overlaps(o, &pages)) {
            return Err(Skip::Because(format!(
                "reg [{start:#x}, {end:#x}) is used by the hypervisor itself ([{:#x}, {:#x}))",
                o.start, o.end
            )));
        }
        if let Some(v) = vm_ranges.iter().find(|v| overlaps(v, &pages)) {
            return Err(Skip::Because(format!(
                "reg [{start:#x}, {end:#x}) overlaps the VM's own memory or device [{:#x}, {:#x})",
                v.start, v.end
            )));
        }
        ranges.push(range);
    }
    if ranges.is_empty() {
        return Err(Skip::NotADevice);
    }
    spis_of(host, node).map_err(Skip::Because)
}

/// The INTIDs of `node`'s interrupts, all of which must be GIC SPIs.
fn spis_of(host: &Fdt<'_>, node: FdtNode<'_, '_>) -> Result<Vec<u32>, String> {
    let Some(prop) = node.property("interrupts") else {
        return Ok(Vec::new());
    };
    let controller = node.interrupt_parent().or_else(|| {
        let root = host.find_node("/")?;
        let phandle = root.property("interrupt-parent")?.as_usize()?;
        host.find_phandle(u32::try_from(phandle).ok()?)
    });
    if controller.and_then(|c| c.interrupt_cells()) != Some(GIC_INTERRUPT_CELLS) {
        return Err("its interrupt controller does not use GIC specifiers".into());
    }
    if !prop.value.len().is_multiple_of(4 * GIC_INTERRUPT_CELLS) {
        return Err("its `interrupts` is malformed".into());
    }
    let cells: Vec<u32> = prop
        .value
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let mut spis = Vec::new();
    for spec in cells.chunks_exact(GIC_INTERRUPT_CELLS) {
        let (kind, number) = (spec[0], spec[1]);
        let intid = number.checked_add(SPI_BASE).filter(|_| kind == GIC_SPI);
        match intid {
            Some(intid) if !spis.contains(&intid) => spis.push(intid),
            Some(_) => {}
            None => {
                return Err(format!(
                    "interrupt <{kind} {number} ..> is not an SPI (only shared interrupts can be given to a VM)"
                ));
            }
        }
    }
    Ok(spis)
}

/// The device for `node`: its windows less the pages already taken.
fn take(path: String, node: FdtNode<'_, '_>, spis: Vec<u32>, taken: &mut Vec<Range<usize>>) -> HostNodeDevice {
    let mut windows = Vec::new();
    for r in node.reg().into_iter().flatten() {
        let start = r.starting_address as usize & !(PAGE - 1);
        let Some(end) = (r.starting_address as usize)
            .checked_add(r.size.unwrap_or(0))
            .and_then(|e| e.checked_next_multiple_of(PAGE))
        else {
            continue;
        };
        // Page by page, skipping pages an earlier window has.
        let mut page = start;
        while page < end {
            let next = page + PAGE;
            let covered = taken.iter().chain(windows.iter()).any(|t| t.contains(&page));
            if !covered {
                match windows.last_mut() {
                    Some(last) if last.end == page => last.end = next,
                    _ => windows.push(page..next),
                }
            }
            page = next;
        }
    }
    taken.extend(windows.iter().cloned());
    HostNodeDevice { path, windows, spis }
}

/// Writes the copies of `config`'s host nodes as children of the guest's
/// root (`names`: the root's children so far).
pub(super) fn write_nodes(
    w: &mut FdtWriter,
    host: &Fdt<'_>,
    config: &AxVMConfig,
    clocks: &mut ClockCopies,
    names: &mut BTreeSet<String>,
) -> Result<(), DtbError> {
    for path in config.host_nodes() {
        let Some(node) = host.find_node(path) else {
            continue; // resolved against this tree: present
        };
        let name = unique_name(names, node.name);
        let copy = w.begin_node(&name)?;
        let mut reg = Vec::new();
        for r in node.reg().into_iter().flatten() {
            reg.extend([r.starting_address as u64, r.size.unwrap_or(0) as u64]);
        }
        w.property_array_u64("reg", &reg)?;
        // Fixed clocks are copied along; other clocks are left out.
        let guest_clocks = node.property("clocks").and_then(|p| map_clocks(host, p.value, clocks));
        if let Some(cells) = &guest_clocks {
            w.property_array_u32("clocks", cells)?;
        }
        for prop in node.properties() {
            match prop.name {
                "reg" | "clocks" => {}
                "clock-names" => {
                    if guest_clocks.is_some() {
                        w.property(prop.name, prop.value)?;
                    }
                }
                other if dropped(other) => {}
                other => w.property(other, prop.value)?,
            }
        }
        for child in node.children() {
            copy_subtree(w, child)?;
        }
        w.end_node(copy)?;
    }
    Ok(())
}
