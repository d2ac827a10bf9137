//! Device checks of `[devices]`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

use super::{Region, gpa_range, overlaps, push, range_of, show};
use crate::crate_config::VMDevicesConfig;
use crate::defaults::DefaultDevice;
use crate::device::DeviceSpace;
use crate::error::{ConfigError, ErrorKind};

/// One past the last x86 I/O port.
const PORT_IO_END: usize = 0x1_0000;

/// A device range that passed the basic checks.
struct Placed {
    field: String,
    range: Range<usize>,
}

pub(super) fn check(
    devices: &VMDevicesConfig,
    default_console: Option<DefaultDevice>,
    regions: &[Region],
    errors: &mut Vec<ConfigError>,
) {
    let mut mmio: Vec<Placed> = Vec::new();
    let mut ports: Vec<Placed> = Vec::new();

    for (i, dev) in devices.emu_devices.iter().enumerate() {
        let field = format!("devices.emu_devices[{i}]");
        if dev.name.is_empty() {
            push(
                errors,
                ErrorKind::InvalidValue,
                format!("{field}.name"),
                "must not be empty".into(),
            );
        }
        let Some(range) = device_range(errors, &field, dev.base_gpa, dev.length) else {
            continue;
        };
        match dev.emu_type.space() {
            DeviceSpace::PortIo => {
                if range.end > PORT_IO_END {
                    push(
                        errors,
                        ErrorKind::InvalidValue,
                        format!("{field}.size"),
                        format!("ports {} go past the last I/O port 0xffff", show(&range)),
                    );
                }
                place(errors, &mut ports, field, range);
            }
            DeviceSpace::Mmio => {
                // An emulated device's accesses must trap, so no memory region may map it.
                for region in regions.iter().filter(|r| overlaps(&r.range, &range)) {
                    push(
                        errors,
                        ErrorKind::Overlap,
                        field.clone(),
                        format!(
                            "{} overlaps {} {}; an emulated device must not be mapped as memory",
                            show(&range),
                            region.field(),
                            show(&region.range)
                        ),
                    );
                }
                place(errors, &mut mmio, field, range);
            }
        }
    }

    for (i, dev) in devices.passthrough_devices.iter().enumerate() {
        let field = format!("devices.passthrough_devices[{i}]");
        if dev.name.is_empty() {
            push(
                errors,
                ErrorKind::InvalidValue,
                format!("{field}.name"),
                "must not be empty".into(),
            );
        }
        let Some(range) = device_range(errors, &field, dev.base_gpa, dev.length) else {
            continue;
        };
        if range_of(dev.base_hpa, dev.length).is_none() {
            push(
                errors,
                ErrorKind::Overflow,
                format!("{field}.hpa"),
                format!(
                    "hpa {:#x} + size {:#x} overflows the address space",
                    dev.base_hpa, dev.length
                ),
            );
        }
        let ram = regions
            .iter()
            .filter(|r| r.config.flags.is_ram() && overlaps(&r.range, &range));
        for region in ram {
            push(
                errors,
                ErrorKind::Overlap,
                field.clone(),
                format!(
                    "{} overlaps the RAM region {} {}",
                    show(&range),
                    region.field(),
                    show(&region.range)
                ),
            );
        }
        place(errors, &mut mmio, field, range);
    }

    if let Some(console) = default_console {
        check_default_console(&console, regions, &mmio, errors);
    }
}

/// The default console is an emulated device too: no memory region and no
/// other device may cover its range.
fn check_default_console(console: &DefaultDevice, regions: &[Region], mmio: &[Placed], errors: &mut Vec<ConfigError>) {
    let range = console.range();
    let taken = regions
        .iter()
        .filter(|r| overlaps(&r.range, &range))
        .map(|r| (r.field(), r.range.clone()))
        .chain(
            mmio.iter()
                .filter(|p| overlaps(&p.range, &range))
                .map(|p| (p.field.clone(), p.range.clone())),
        );
    for (field, other) in taken {
        push(
            errors,
            ErrorKind::Overlap,
            "devices.console",
            format!(
                "\"default\" (no console device in devices.emu_devices), but the default {} {} overlaps {field} {}; \
                 list the console in devices.emu_devices or set devices.console = \"none\"",
                console.model,
                show(&range),
                show(&other)
            ),
        );
    }
}

/// The device's range, reporting a zero size or an overflow.
fn device_range(errors: &mut Vec<ConfigError>, field: &str, base: usize, length: usize) -> Option<Range<usize>> {
    if length == 0 {
        push(
            errors,
            ErrorKind::InvalidValue,
            format!("{field}.size"),
            "must not be zero".into(),
        );
        return None;
    }
    gpa_range(errors, field, base, length)
}

/// Adds a device range to `placed`, reporting overlaps with those already there.
fn place(errors: &mut Vec<ConfigError>, placed: &mut Vec<Placed>, field: String, range: Range<usize>) {
    for other in placed.iter().filter(|p| overlaps(&p.range, &range)) {
        push(
            errors,
            ErrorKind::Overlap,
            field.clone(),
            format!("{} overlaps {} {}", show(&range), other.field, show(&other.range)),
        );
    }
    placed.push(Placed { field, range });
}
