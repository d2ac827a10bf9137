//! Memory region and image checks of `[kernel]`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

use super::{PAGE_SIZE, Region, ValidateContext, gpa_range, overlaps, push, range_of, region_field, show};
use crate::crate_config::{VMKernelConfig, VmMemConfig};
use crate::defaults::{DTB_ALIGN, DefaultDtbPlace, DtbPlacement, GENERATED_DTB_MAX_SIZE};
use crate::error::{ConfigError, ErrorKind};
use crate::kernel_placement::KernelPlacement;
use crate::types::{ImageLocation, VmMemFlags, VmMemMappingType};

/// Checks each region and their layout; returns the regions that are usable
/// for the later checks (non-empty and not overflowing).
pub(super) fn check_regions(regions: &[VmMemConfig], errors: &mut Vec<ConfigError>) -> Vec<Region> {
    if regions.is_empty() {
        push(
            errors,
            ErrorKind::InvalidValue,
            "kernel.memory_regions",
            "is empty; the guest needs at least one RAM region".into(),
        );
    }
    let mut good: Vec<Region> = Vec::with_capacity(regions.len());
    for (index, region) in regions.iter().enumerate() {
        let field = region_field(index);
        if region.gpa % PAGE_SIZE != 0 {
            push(
                errors,
                ErrorKind::Misaligned,
                format!("{field}.gpa"),
                format!("{:#x} is not aligned to 4 KiB ({PAGE_SIZE:#x})", region.gpa),
            );
        }
        if region.small_pages && region.map_type != VmMemMappingType::MapAlloc {
            push(
                errors,
                ErrorKind::InvalidValue,
                format!("{field}.small_pages"),
                format!(
                    "is only for map = \"alloc\" regions (this one is map = \"{}\", whose host range is fixed)",
                    region.map_type
                ),
            );
        }
        if region.size == 0 {
            push(
                errors,
                ErrorKind::InvalidValue,
                format!("{field}.size"),
                "must not be zero".into(),
            );
            continue;
        }
        if region.size % PAGE_SIZE != 0 {
            push(
                errors,
                ErrorKind::Misaligned,
                format!("{field}.size"),
                format!("{:#x} is not a multiple of 4 KiB ({PAGE_SIZE:#x})", region.size),
            );
        }
        let Some(range) = gpa_range(errors, &field, region.gpa, region.size) else {
            continue;
        };
        for other in good.iter().filter(|o| overlaps(&o.range, &range)) {
            push(
                errors,
                ErrorKind::Overlap,
                field.clone(),
                format!("{} overlaps {} {}", show(&range), other.field(), show(&other.range)),
            );
        }
        good.push(Region {
            index,
            range,
            config: *region,
        });
    }
    good
}

/// One image the configuration places in guest memory.
struct Image<'a> {
    /// `kernel image`, `generated device tree`.
    what: &'static str,
    path_field: &'static str,
    addr_field: &'static str,
    path: Option<&'a str>,
    addr: Option<usize>,
    /// The room kept for an image that has no file (the generated device tree).
    reserved: Option<usize>,
    /// The default place the address comes from, when the config gives none.
    default: Option<DefaultDtbPlace>,
}

impl Image<'_> {
    /// `kernel image of 0x1000 bytes`, `generated device tree of up to 0x10000 bytes`.
    fn sized(&self, size: u64) -> String {
        match self.reserved {
            Some(_) => format!("{} of up to {size:#x} bytes", self.what),
            None => format!("{} of {size:#x} bytes", self.what),
        }
    }
}

/// Checks the entry point and every image's placement (the device tree at
/// `dtb`, its resolved place).
pub(super) fn check_images(
    kernel: &VMKernelConfig,
    placement: Option<KernelPlacement>,
    dtb: DtbPlacement,
    regions: &[Region],
    ctx: &ValidateContext<'_>,
    errors: &mut Vec<ConfigError>,
) {
    if let Some(entry) = placement.map(|p| p.entry_point)
        && !regions.is_empty()
        && !regions
            .iter()
            .any(|r| r.config.flags.contains(VmMemFlags::EXECUTE) && r.range.contains(&entry))
    {
        push(
            errors,
            ErrorKind::OutsideMemory,
            "kernel.entry_point",
            format!("{entry:#x} is not inside any executable memory region (flag x)"),
        );
    }
    check_dtb_placement(kernel, dtb, errors);

    // The device tree last, so that a default place that overlaps an image
    // is reported on `kernel.dtb_load_addr`, with the rule that chose it.
    let generated = kernel.dtb_path.is_none();
    let images = [
        Image {
            what: "kernel image",
            path_field: "kernel.kernel_path",
            addr_field: "kernel.kernel_load_addr",
            path: Some(&kernel.kernel_path),
            addr: placement.map(|p| p.load_addr),
            reserved: None,
            default: None,
        },
        Image {
            what: "bios image",
            path_field: "kernel.bios_path",
            addr_field: "kernel.bios_load_addr",
            path: kernel.bios_path.as_deref(),
            addr: kernel.bios_load_addr,
            reserved: None,
            default: None,
        },
        Image {
            what: "ramdisk image",
            path_field: "kernel.ramdisk_path",
            addr_field: "kernel.ramdisk_load_addr",
            path: kernel.ramdisk_path.as_deref(),
            addr: kernel.ramdisk_load_addr,
            reserved: None,
            default: None,
        },
        Image {
            what: if generated {
                "generated device tree"
            } else {
                "dtb image"
            },
            path_field: "kernel.dtb_path",
            addr_field: "kernel.dtb_load_addr",
            path: kernel.dtb_path.as_deref(),
            addr: dtb.gpa(),
            reserved: generated.then_some(GENERATED_DTB_MAX_SIZE),
            default: match dtb {
                DtbPlacement::Default(place) => Some(place),
                _ => None,
            },
        },
    ];

    let mut placed: Vec<(&Image<'_>, Range<usize>)> = Vec::new();
    for image in &images {
        let size = match image.reserved {
            Some(reserved) => u64::try_from(reserved).ok(),
            None => image_size(image, kernel.image_location, ctx, errors),
        };
        let Some(addr) = image.addr else {
            // The kernel's missing address is reported with its placement.
            if image.path.is_some() && image.addr_field != "kernel.kernel_load_addr" {
                push(
                    errors,
                    ErrorKind::MissingKey,
                    image.addr_field,
                    format!("is required when {} is set", image.path_field),
                );
            }
            continue;
        };
        let ram = regions
            .iter()
            .find(|r| r.config.flags.is_ram() && r.range.contains(&addr));
        let Some(region) = ram else {
            push(
                errors,
                ErrorKind::OutsideMemory,
                image.addr_field,
                format!("{addr:#x} is not inside any RAM memory region (one without flag d)"),
            );
            continue;
        };
        let Some(size) = size else { continue };
        let Some(range) = usize::try_from(size).ok().and_then(|s| range_of(addr, s)) else {
            push(
                errors,
                ErrorKind::Overflow,
                image.addr_field,
                format!("{} at {addr:#x} overflows the address space", image.sized(size)),
            );
            continue;
        };
        if range.end > region.range.end {
            push(
                errors,
                ErrorKind::OutsideMemory,
                image.addr_field,
                format!(
                    "{} at {addr:#x} ends at {:#x}, past the end of {} at {:#x}",
                    image.sized(size),
                    range.end,
                    region.field(),
                    region.range.end
                ),
            );
        }
        for (other, other_range) in placed.iter().filter(|(_, r)| overlaps(r, &range)) {
            let problem = match image.default {
                Some(place) => format!(
                    "not set, and the default place of the {}, {} ({place}), overlaps the {} {}; \
                     set kernel.dtb_load_addr to free RAM",
                    image.what,
                    show(&range),
                    other.what,
                    show(other_range)
                ),
                None => format!(
                    "{} {} overlaps the {} {}",
                    image.what,
                    show(&range),
                    other.what,
                    show(other_range)
                ),
            };
            push(errors, ErrorKind::Overlap, image.addr_field, problem);
        }
        placed.push((image, range));
    }
}

/// Checks the device tree's address: aligned when given, and a default
/// place that exists when it is not.
fn check_dtb_placement(kernel: &VMKernelConfig, dtb: DtbPlacement, errors: &mut Vec<ConfigError>) {
    match dtb {
        DtbPlacement::Given(addr) if addr % DTB_ALIGN != 0 => push(
            errors,
            ErrorKind::Misaligned,
            "kernel.dtb_load_addr",
            format!(
                "{addr:#x} is not {DTB_ALIGN}-byte aligned (the arm64 boot protocol wants the device tree on an {DTB_ALIGN}-byte boundary)"
            ),
        ),
        DtbPlacement::NoRoom => {
            let first_ram = kernel.memory_regions.iter().enumerate().find(|(_, r)| r.flags.is_ram());
            let problem = match first_ram {
                // Reported on `kernel.memory_regions` already.
                None if kernel.memory_regions.is_empty() => return,
                None => String::from(
                    "not set, and the VM has no RAM region (one without flag d) for the generated device tree; \
                     a Linux VM needs one",
                ),
                // An overflowing region is reported on its size already.
                Some((_, ram)) if ram.end().is_none() => return,
                Some((index, ram)) => format!(
                    "not set, and the generated device tree (up to {GENERATED_DTB_MAX_SIZE:#x} bytes) does not \
                     fit in {}, the first RAM region, of {:#x} bytes; set kernel.dtb_load_addr",
                    region_field(index),
                    ram.size
                ),
            };
            push(errors, ErrorKind::OutsideMemory, "kernel.dtb_load_addr", problem);
        }
        _ => {}
    }
}

/// The size of `image`'s file, reporting an empty path or a missing file.
///
/// With `image_location = "fs"` the file lives on the target, so an unknown
/// size is not an error there.
fn image_size(
    image: &Image<'_>,
    location: ImageLocation,
    ctx: &ValidateContext<'_>,
    errors: &mut Vec<ConfigError>,
) -> Option<u64> {
    let path = image.path?;
    if path.is_empty() {
        push(
            errors,
            ErrorKind::InvalidValue,
            image.path_field,
            "must not be empty".into(),
        );
        return None;
    }
    let size = ctx.image_size(path);
    if size.is_none() && location == ImageLocation::Memory {
        let problem: String = format!("{} file \"{path}\" not found", image.what);
        push(errors, ErrorKind::MissingImage, image.path_field, problem);
    }
    size
}
