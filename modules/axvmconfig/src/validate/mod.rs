//! Cross-field checks of a parsed configuration.
//!
//! [`AxVMCrateConfig::validate`] checks what the schema alone cannot: vCPU
//! counts against the machine, memory region layout, where the images go and
//! whether they fit, and where the devices sit. It reports every problem it
//! finds, not only the first. The image files are not opened here: the caller
//! says how large each one is through [`ImageSizes`], so the checks run the
//! same on the build machine (sizes from the filesystem) and in the kernel
//! (sizes of the embedded images).

mod across;
mod arch;
mod cpus;
mod devices;
mod memory;
mod support;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

use crate::crate_config::{AxVMCrateConfig, VmMemConfig};
use crate::error::{ConfigError, ErrorKind};

pub use across::check_across;
pub use arch::TargetArch;

/// The granule that memory regions are aligned to: 4 KiB.
pub const PAGE_SIZE: usize = 0x1000;

/// Tells the validator how large each image file is.
///
/// Any `Fn(&str) -> Option<u64>` closure is an `ImageSizes`.
pub trait ImageSizes {
    /// The size in bytes of the image at `path`, or `None` if there is no such image.
    fn image_size(&self, path: &str) -> Option<u64>;

    /// The first bytes of the image at `path` (at least
    /// [`Arm64ImageHeader::LEN`](crate::Arm64ImageHeader::LEN) when the file
    /// is that long), for the kernel's header; `None` when unknown (the
    /// default).
    fn image_head(&self, path: &str) -> Option<Vec<u8>> {
        let _ = path;
        None
    }
}

impl<F: Fn(&str) -> Option<u64>> ImageSizes for F {
    fn image_size(&self, path: &str) -> Option<u64> {
        self(path)
    }
}

/// What the validator needs to know about the machine and the image files.
#[derive(Clone, Copy)]
pub struct ValidateContext<'a> {
    phys_cpu_num: usize,
    images: &'a dyn ImageSizes,
    arch: TargetArch,
}

impl<'a> ValidateContext<'a> {
    /// A context for a machine with `phys_cpu_num` physical CPUs, with image
    /// sizes from `images`.
    pub fn new(phys_cpu_num: usize, images: &'a dyn ImageSizes) -> Self {
        Self {
            phys_cpu_num,
            images,
            arch: TargetArch::default(),
        }
    }

    /// The same context for VMs of `arch` (aarch64 unless set).
    pub fn with_arch(self, arch: TargetArch) -> Self {
        Self { arch, ..self }
    }

    /// The architecture the VMs are checked for.
    pub fn arch(&self) -> TargetArch {
        self.arch
    }

    /// The number of physical CPUs.
    pub fn phys_cpu_num(&self) -> usize {
        self.phys_cpu_num
    }

    /// The size of the image at `path`, if it exists.
    pub fn image_size(&self, path: &str) -> Option<u64> {
        self.images.image_size(path)
    }

    /// The first bytes of the image at `path`, if known.
    pub fn image_head(&self, path: &str) -> Option<Vec<u8>> {
        self.images.image_head(path)
    }
}

impl AxVMCrateConfig {
    /// Checks the configuration against itself and the machine described by
    /// `ctx`, returning every problem found.
    ///
    /// Checks: vCPU count (not zero, not more than the physical CPUs),
    /// `phys_cpu_ids` / `phys_cpu_sets` (one per vCPU, no duplicate ids, masks
    /// naming existing CPUs); memory regions (present, non-empty, 4 KiB aligned,
    /// not overflowing, not overlapping); entry point inside an executable
    /// region; each image's load address inside a RAM region, its file present
    /// (for `image_location = "memory"`), the image fitting its region and not
    /// overlapping another image; the device tree's address 8-byte aligned, a
    /// generated tree given [`GENERATED_DTB_MAX_SIZE`](crate::GENERATED_DTB_MAX_SIZE)
    /// bytes at its address or at its default place
    /// ([`dtb_placement`](Self::dtb_placement)), which must exist; devices not
    /// empty, not overflowing, not overlapping each other or RAM, and the
    /// default console ([`default_console`](Self::default_console)) not
    /// overlapping any of them or any memory region; keys of the other
    /// architecture than the context's (aarch64: no I/O-port devices or
    /// I/O APIC; x86_64: no GIC, PL011 or `console` device, no device tree,
    /// no passthrough interrupts, no default console); the kernel's load
    /// and entry addresses given, or taken from an arm64 `Image` header
    /// ([`kernel_placement`](Self::kernel_placement)); and what this
    /// hypervisor does not offer yet, each refused by name: emulated device
    /// types without a model, images on a filesystem, disks; passthrough
    /// node paths and `passthrough_addresses` windows well formed.
    pub fn validate(&self, ctx: &ValidateContext<'_>) -> Result<(), Vec<ConfigError>> {
        let mut errors = Vec::new();
        let head = ctx.image_head(&self.kernel.kernel_path);
        // Checked as the VM will be built: with the kernel's placement
        // filled in, and a Linux image's generated device tree.
        let mut resolved = self.clone();
        resolved.kernel.linux_image |=
            ctx.arch == TargetArch::Aarch64 && head.as_deref().and_then(crate::Arm64ImageHeader::parse).is_some();
        let placement = match self.kernel_placement(head.as_deref(), ctx.arch) {
            Ok(placement) => {
                resolved.kernel.kernel_load_addr = Some(placement.load_addr);
                resolved.kernel.entry_point = Some(placement.entry_point);
                Some(placement)
            }
            Err(missing) => {
                errors.extend(missing);
                None
            }
        };
        resolved.check(ctx, placement, errors)
    }

    fn check(
        &self,
        ctx: &ValidateContext<'_>,
        placement: Option<crate::KernelPlacement>,
        mut errors: Vec<ConfigError>,
    ) -> Result<(), Vec<ConfigError>> {
        cpus::check(&self.base, ctx, &mut errors);
        let regions = memory::check_regions(&self.kernel.memory_regions, &mut errors);
        memory::check_images(
            &self.kernel,
            placement,
            self.dtb_placement(),
            &regions,
            ctx,
            &mut errors,
        );
        devices::check(&self.devices, self.default_console(), &regions, &mut errors);
        arch::check(self, ctx.arch, &mut errors);
        support::check(self, &regions, &mut errors);
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

/// A memory region that passed the basic checks, with its index.
pub(crate) struct Region {
    index: usize,
    range: Range<usize>,
    config: VmMemConfig,
}

impl Region {
    fn field(&self) -> String {
        region_field(self.index)
    }
}

fn region_field(index: usize) -> String {
    format!("kernel.memory_regions[{index}]")
}

fn push(errors: &mut Vec<ConfigError>, kind: ErrorKind, field: impl Into<String>, problem: String) {
    errors.push(ConfigError::new(kind, field, problem));
}

/// `start..start + size`, or `None` if it overflows.
fn range_of(start: usize, size: usize) -> Option<Range<usize>> {
    Some(start..start.checked_add(size)?)
}

/// `gpa..gpa + size`, or `None` with an overflow error at `{field}.size`.
fn gpa_range(errors: &mut Vec<ConfigError>, field: &str, gpa: usize, size: usize) -> Option<Range<usize>> {
    let range = range_of(gpa, size);
    if range.is_none() {
        push(
            errors,
            ErrorKind::Overflow,
            format!("{field}.size"),
            format!("gpa {gpa:#x} + size {size:#x} overflows the address space"),
        );
    }
    range
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// `[0x1000, 0x2000)`.
fn show(range: &Range<usize>) -> String {
    format!("[{:#x}, {:#x})", range.start, range.end)
}
