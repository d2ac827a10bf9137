//! Adapting a device tree the config names (`dtb_path`) to the VM.

use super::{DtbError, write_boot_args, write_memory};
use crate::AxVMConfig;
use ::fdt::{Fdt, node::FdtNode};
use alloc::vec::Vec;
use vm_fdt::{FdtReserveEntry, FdtWriter};

/// `/chosen` properties [`fixup`] sets from the config, so never copies.
const INITRD_PROPERTIES: [&str; 2] = ["linux,initrd-start", "linux,initrd-end"];

/// Re-emits `dtb` for the VM: its memory nodes (`device_type = "memory"`)
/// are replaced by the VM's RAM regions (in the root's cells), and
/// `/chosen` gets `bootargs` from the config's command line (the tree's is
/// kept when the config has none) and the initrd range from `initrd`
/// (`(gpa, size)`; the tree's range is dropped). Every other node and
/// property, phandles included, and the memory reservations are kept as
/// they are.
pub fn fixup(dtb: &[u8], config: &AxVMConfig, initrd: Option<(u64, u64)>) -> Result<Vec<u8>, DtbError> {
    super::well_formed(dtb)?;
    let tree = Fdt::new(dtb).map_err(DtbError::Parse)?;
    let root = tree.find_node("/").ok_or(DtbError::NoRoot)?;
    let reservations = tree
        .memory_reservations()
        .map(|r| FdtReserveEntry::new(r.address() as usize as u64, r.size() as u64))
        .collect::<Result<Vec<_>, _>>()?;
    let mut w = FdtWriter::new_with_mem_reserv(&reservations)?;
    let cells = root.cell_sizes();

    let node = w.begin_node("")?;
    for prop in root.properties() {
        w.property(prop.name, prop.value)?;
    }
    let mut memory_written = false;
    let mut chosen_written = false;
    for child in root.children() {
        if child.property("device_type").and_then(|p| p.as_str()) == Some("memory") {
            // All of the VM's memory where the tree's first memory node was.
            if !memory_written {
                write_memory(&mut w, config, cells.address_cells, cells.size_cells)?;
                memory_written = true;
            }
        } else if child.name == "chosen" {
            let chosen = w.begin_node(child.name)?;
            for prop in child.properties() {
                let replaced =
                    INITRD_PROPERTIES.contains(&prop.name) || (prop.name == "bootargs" && config.cmdline().is_some());
                if !replaced {
                    w.property(prop.name, prop.value)?;
                }
            }
            write_boot_args(&mut w, config, initrd)?;
            for grandchild in child.children() {
                copy_node(&mut w, grandchild)?;
            }
            w.end_node(chosen)?;
            chosen_written = true;
        } else {
            copy_node(&mut w, child)?;
        }
    }
    if !memory_written {
        write_memory(&mut w, config, cells.address_cells, cells.size_cells)?;
    }
    if !chosen_written {
        let chosen = w.begin_node("chosen")?;
        write_boot_args(&mut w, config, initrd)?;
        w.end_node(chosen)?;
    }
    w.end_node(node)?;
    Ok(w.finish()?)
}

/// Writes `node` and everything under it as it is.
fn copy_node(w: &mut FdtWriter, node: FdtNode<'_, '_>) -> Result<(), DtbError> {
    let copy = w.begin_node(node.name)?;
    for prop in node.properties() {
        w.property(prop.name, prop.value)?;
    }
    for child in node.children() {
        copy_node(w, child)?;
    }
    w.end_node(copy)?;
    Ok(())
}
