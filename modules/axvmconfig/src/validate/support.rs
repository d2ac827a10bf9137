//! What the schema accepts (it is AxVisor's) but this hypervisor does not
//! offer yet, each refused by name; and the shape of the keys that are
//! resolved at run time (host device-tree node paths) or map host
//! addresses as they are (`passthrough_addresses`).

use alloc::format;
use alloc::vec::Vec;

use super::{PAGE_SIZE, Region, gpa_range, overlaps, push, show};
use crate::crate_config::AxVMCrateConfig;
use crate::device::EmulatedDeviceType;
use crate::error::{ConfigError, ErrorKind};
use crate::types::ImageLocation;

/// The emulated device types that have no model here, with the name the
/// refusal gives them.
fn unsupported(t: EmulatedDeviceType) -> Option<&'static str> {
    match t {
        EmulatedDeviceType::Iommu => Some("iommu"),
        EmulatedDeviceType::IVCChannel => Some("ivc-channel"),
        EmulatedDeviceType::GPPTITS => Some("gppt-its, a GIC interrupt translation service"),
        EmulatedDeviceType::VirtioBlk => Some("virtio-blk"),
        EmulatedDeviceType::VirtioNet => Some("virtio-net"),
        EmulatedDeviceType::VirtioConsole => Some("virtio-console"),
        _ => None,
    }
}

pub(super) fn check(config: &AxVMCrateConfig, regions: &[Region], errors: &mut Vec<ConfigError>) {
    let kernel = &config.kernel;
    if kernel.image_location == ImageLocation::Fs {
        push(
            errors,
            ErrorKind::InvalidValue,
            "kernel.image_location",
            "\"fs\" is not supported: this hypervisor has no filesystem to read images from at run time; \
             use \"memory\" (the build embeds the image files)"
                .into(),
        );
    }
    if kernel.disk_path.is_some() {
        push(
            errors,
            ErrorKind::InvalidValue,
            "kernel.disk_path",
            "is not supported yet (no emulated block device)".into(),
        );
    }
    let devices = &config.devices;
    for (i, dev) in devices.emu_devices.iter().enumerate() {
        if let Some(name) = unsupported(dev.emu_type) {
            push(
                errors,
                ErrorKind::InvalidValue,
                format!("devices.emu_devices[{i}]"),
                format!("type 0x{:X} ({name}) is not supported yet", dev.emu_type.number()),
            );
        }
    }
    for (i, dev) in devices.emu_devices.iter().enumerate() {
        check_cfg_list(i, dev.emu_type, &dev.cfg_list, config.base.cpu_num, errors);
    }
    check_node_paths(config, errors);
    check_addresses(config, regions, errors);
}

/// The stride between two vCPUs' redistributors (GICv3: RD and SGI frames).
const GICR_STRIDE: usize = 0x2_0000;

/// An emulated device's `cfg_list`: only the redistributors take one
/// (`gicr_v3` and the GIC partial-passthrough redistributor:
/// `[vcpus, stride, first host CPU]`, each part optional from the end). The
/// redistributors are emulated here, one per vCPU at the stride of a
/// GICv3, so the list must agree with that; the first host CPU does not
/// apply (no host redistributor is handed to the guest). Any other device
/// takes no parameters: a list given to one would be ignored, so it is
/// refused.
fn check_cfg_list(i: usize, t: EmulatedDeviceType, cfg: &[usize], cpu_num: usize, errors: &mut Vec<ConfigError>) {
    let field = format!("devices.emu_devices[{i}].cfg_list");
    if matches!(t, EmulatedDeviceType::GPPTRedistributor | EmulatedDeviceType::GicrV3) {
        // With no vCPUs, base.cpu_num is the error to report.
        let vcpus_ok = cpu_num == 0 || cfg.first().is_none_or(|&n| n == cpu_num);
        let stride_ok = cfg.get(1).is_none_or(|&s| s == GICR_STRIDE);
        if cfg.len() > 3 {
            push(
                errors,
                ErrorKind::InvalidValue,
                field,
                format!("expected [vcpus, stride, first host CPU], found {} values", cfg.len()),
            );
        } else if !(vcpus_ok && stride_ok) {
            push(
                errors,
                ErrorKind::InvalidValue,
                field,
                format!(
                    "{cfg:?} does not match the emulated redistributors: one per vCPU \
                     (base.cpu_num = {cpu_num}) every {GICR_STRIDE:#x} bytes"
                ),
            );
        }
    } else if !cfg.is_empty() && unsupported(t).is_none() {
        push(
            errors,
            ErrorKind::InvalidValue,
            field,
            format!(
                "type 0x{:X} takes no parameters, found {} value(s)",
                t.number(),
                cfg.len()
            ),
        );
    }
}

/// A host node path: absolute, no empty component (`//`), no trailing `/`
/// except for the root itself.
fn well_formed(path: &str) -> bool {
    path == "/" || (path.starts_with('/') && !path.ends_with('/') && !path.contains("//"))
}

fn check_node_paths(config: &AxVMCrateConfig, errors: &mut Vec<ConfigError>) {
    let devices = &config.devices;
    let mut root_seen = false;
    for node in &devices.passthrough_nodes {
        let field = format!("devices.passthrough_devices[{}]", node.index);
        if !well_formed(&node.path) {
            push(
                errors,
                ErrorKind::InvalidValue,
                field,
                format!(
                    "\"{}\" is not a host device-tree node path (absolute, like \"/pl011@9000000\", or \"/\")",
                    node.path
                ),
            );
        } else if node.is_root() {
            if root_seen {
                push(errors, ErrorKind::InvalidValue, field, "[\"/\"] is listed twice".into());
            }
            root_seen = true;
        }
    }
    for (i, path) in devices.excluded_devices.iter().enumerate() {
        let field = format!("devices.excluded_devices[{i}]");
        if !well_formed(path) || path == "/" {
            push(
                errors,
                ErrorKind::InvalidValue,
                field,
                format!("\"{path}\" is not a host device-tree node path below the root (like \"/pcie@10000000\")"),
            );
        } else if !root_seen {
            push(
                errors,
                ErrorKind::InvalidValue,
                field,
                "leaves a device out of [\"/\"], but devices.passthrough_devices has no [\"/\"]".into(),
            );
        }
    }
}

fn check_addresses(config: &AxVMCrateConfig, regions: &[Region], errors: &mut Vec<ConfigError>) {
    let windows = &config.devices.passthrough_addresses;
    let mut placed = Vec::new();
    for (i, w) in windows.iter().enumerate() {
        let field = format!("devices.passthrough_addresses[{i}]");
        if w.length == 0 {
            push(
                errors,
                ErrorKind::InvalidValue,
                format!("{field}.size"),
                "must not be zero".into(),
            );
            continue;
        }
        if !w.base_gpa.is_multiple_of(PAGE_SIZE) || !w.length.is_multiple_of(PAGE_SIZE) {
            push(
                errors,
                ErrorKind::Misaligned,
                field.clone(),
                format!(
                    "[{:#x}, +{:#x}) is not whole 4 KiB pages (it is mapped as it is)",
                    w.base_gpa, w.length
                ),
            );
        }
        let Some(range) = gpa_range(errors, &field, w.base_gpa, w.length) else {
            continue;
        };
        for region in regions.iter().filter(|r| overlaps(&r.range, &range)) {
            push(
                errors,
                ErrorKind::Overlap,
                field.clone(),
                format!("{} overlaps {} {}", show(&range), region.field(), show(&region.range)),
            );
        }
        for (j, other) in placed.iter().filter(|(_, o)| overlaps(o, &range)) {
            push(
                errors,
                ErrorKind::Overlap,
                field.clone(),
                format!(
                    "{} overlaps devices.passthrough_addresses[{j}] {}",
                    show(&range),
                    show(other)
                ),
            );
        }
        placed.push((i, range));
    }
}
