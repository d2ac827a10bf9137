//! Where the kernel goes and where the vCPUs start: `kernel.kernel_load_addr`
//! and `kernel.entry_point` as written, or, for an arm64 Linux `Image` that
//! leaves them out, as a boot loader picks them from the image header.

use alloc::format;
use alloc::vec::Vec;
use core::fmt;

use crate::crate_config::AxVMCrateConfig;
use crate::error::{ConfigError, ErrorKind};
use crate::image_header::{ARM64_IMAGE_BASE_ALIGN, Arm64ImageHeader};
use crate::validate::TargetArch;

/// The kernel's load address and the vCPUs' entry address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelPlacement {
    /// Where the kernel image is loaded.
    pub load_addr: usize,
    /// Where every vCPU starts.
    pub entry_point: usize,
    /// The header the addresses were taken from, when the config left
    /// either out.
    pub from_header: Option<Arm64ImageHeader>,
}

impl fmt::Display for KernelPlacement {
    /// The log line for a placement taken from a header.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "kernel loaded at {:#x}, entered at {:#x}",
            self.load_addr, self.entry_point
        )?;
        if let Some(h) = self.from_header {
            write!(
                f,
                " (not in the config: the first RAM region's first {ARM64_IMAGE_BASE_ALIGN:#x}-aligned address + the {h})"
            )?;
        }
        Ok(())
    }
}

impl AxVMCrateConfig {
    /// The kernel's placement, given the first bytes of the kernel image
    /// (`None`: unknown, e.g. a file on the target).
    ///
    /// Both keys given: as written. Otherwise, on aarch64 with an arm64
    /// `Image` header, the load address is the first 2 MiB boundary of the
    /// first RAM region plus the header's `text_offset`, and the entry is
    /// the load address (each only where the config leaves it out).
    /// Otherwise each missing key is reported: a raw binary has no header
    /// to take them from.
    pub fn kernel_placement(&self, head: Option<&[u8]>, arch: TargetArch) -> Result<KernelPlacement, Vec<ConfigError>> {
        let kernel = &self.kernel;
        if let (Some(load_addr), Some(entry_point)) = (kernel.kernel_load_addr, kernel.entry_point) {
            return Ok(KernelPlacement {
                load_addr,
                entry_point,
                from_header: None,
            });
        }
        let header = head
            .filter(|_| arch == TargetArch::Aarch64)
            .and_then(Arm64ImageHeader::parse);
        let Some(header) = header else {
            let why = match arch {
                TargetArch::Aarch64 => {
                    "is required for a raw binary kernel (only an arm64 Linux Image, with the magic \"ARM\\x64\" \
                     at byte 0x38 of its header, gives it)"
                }
                TargetArch::X86_64 => "is required but missing",
            };
            let mut errors = Vec::new();
            for (field, missing) in [
                ("kernel.entry_point", kernel.entry_point.is_none()),
                ("kernel.kernel_load_addr", kernel.kernel_load_addr.is_none()),
            ] {
                if missing {
                    errors.push(ConfigError::new(ErrorKind::MissingKey, field, why));
                }
            }
            return Err(errors);
        };
        let load_addr = match kernel.kernel_load_addr {
            Some(addr) => addr,
            None => {
                let ram = kernel.memory_regions.iter().find(|r| r.flags.is_ram());
                let Some(load) = ram.and_then(|r| header.load_address(r.gpa)) else {
                    return Err(alloc::vec![ConfigError::new(
                        ErrorKind::MissingKey,
                        "kernel.kernel_load_addr",
                        format!("not set, and there is no RAM region to place the kernel in ({header})"),
                    )]);
                };
                load
            }
        };
        Ok(KernelPlacement {
            load_addr,
            entry_point: kernel.entry_point.unwrap_or(load_addr),
            from_header: Some(header),
        })
    }

    /// Fills in `kernel.kernel_load_addr` and `kernel.entry_point` from the
    /// kernel image (see [`Self::kernel_placement`]); returns the placement
    /// when it came from the header (for the log).
    pub fn apply_kernel_placement(
        &mut self,
        image: &[u8],
        arch: TargetArch,
    ) -> Result<Option<KernelPlacement>, Vec<ConfigError>> {
        self.kernel.linux_image = arch == TargetArch::Aarch64 && Arm64ImageHeader::parse(image).is_some();
        let placement = self.kernel_placement(Some(image), arch)?;
        self.kernel.kernel_load_addr = Some(placement.load_addr);
        self.kernel.entry_point = Some(placement.entry_point);
        Ok(placement.from_header.map(|_| placement))
    }
}
