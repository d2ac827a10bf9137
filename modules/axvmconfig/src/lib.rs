//! The VM configuration schema of the hypervisor.
//!
//! This crate owns the format of the VM configuration files under
//! `configs/vms/` (TOML; see `configs/vms/README.md`): parsing them into an
//! [`AxVMCrateConfig`], checking them ([`AxVMCrateConfig::validate`]) and
//! turning them into the runtime [`AxVMConfig`] that `axvm` creates a VM from,
//! with what the file leaves out filled in: the place of a Linux VM's
//! generated device tree ([`AxVMCrateConfig::dtb_placement`]) and the default
//! console ([`AxVMCrateConfig::default_console`]).
//! It does not load images, build address spaces or create devices: that is
//! `axvm`'s and `apps/hv`'s work.
//!
//! The crate runs in two places:
//! - on the build machine (features `std` and `bake`), where the build script
//!   of `apps/hv` parses and validates every configuration named by `VM=`,
//!   with image sizes from the filesystem ([`FsImageSizes`]), fails the build
//!   with `file:line:column: field: problem` lines ([`ConfigFileError`]), and
//!   writes each parsed [`AxVMCrateConfig`] out as a Rust expression
//!   (`AxVMCrateConfig::to_rust`, with the `Bake` trait of ICU4X's
//!   [databake](https://docs.rs/databake));
//! - in the `no_std` kernel, which gets each configuration as that code and
//!   only checks the kernel's place against the image it carries
//!   ([`AxVMCrateConfig::apply_kernel_placement`]) and converts it
//!   ([`AxVMConfig`]). It does not parse TOML at boot, so the image carries no
//!   parser (the `toml` crate and this crate's reader: about 120 KB of an
//!   aarch64 image). databake because it writes a value as the Rust that
//!   builds it (the configuration owns `String`s and `Vec`s, so no `const`
//!   form) and comes with the impls for strings, vectors, options and
//!   integers. The enums and the structs of plain values derive `Bake`; the
//!   structs that own strings or vectors implement it with a macro that
//!   destructures them completely, because databake's derive also derives
//!   `BakeSize`, which databake has no impl of for `String` and `Vec` (see
//!   `src/bake.rs`). Either way a new field is written out or is a compile
//!   error, never dropped. Feature `bake` is for build dependencies only:
//!   the kernel build neither compiles nor links databake.
//!
//! Problems are reported all at once, each naming the field by its dotted path
//! (`kernel.memory_regions[1].size`). Memory regions and devices may be
//! written with named keys or in AxVisor's positional array form; both parse
//! to the same values.
//!
//! ```
//! use axvmconfig::{AxVMConfig, AxVMCrateConfig, ValidateContext};
//!
//! let text = r#"
//! [base]
//! id = 1
//! name = "demo"
//! cpu_num = 1
//!
//! [kernel]
//! entry_point = 0x4008_0000
//! kernel_path = "guest.bin"
//! kernel_load_addr = 0x4008_0000
//! memory_regions = [{ gpa = 0x4000_0000, size = 0x100_0000, flags = "rwx" }]
//! "#;
//! let config = AxVMCrateConfig::from_toml(text).unwrap();
//! let sizes = |_: &str| Some(0x1000u64);
//! config.validate(&ValidateContext::new(4, &sizes)).unwrap();
//! let vm = AxVMConfig::from(config);
//! assert_eq!(vm.bsp_entry(), 0x4008_0000);
//! ```

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

#[cfg(feature = "bake")]
mod bake;
mod crate_config;
mod defaults;
mod device;
mod error;
#[cfg(feature = "std")]
mod fs;
mod image_header;
mod kernel_placement;
mod parse;
mod reader;
mod types;
mod validate;
mod vm_config;

pub use crate_config::{AxVMCrateConfig, VMBaseConfig, VMDevicesConfig, VMKernelConfig, VmMemConfig};
pub use defaults::{
    AppliedDefault, DEFAULT_CONSOLE, DTB_ALIGN, DefaultDevice, DefaultDtbPlace, DtbPlacement, GENERATED_DTB_MAX_SIZE,
};
pub use device::{
    DeviceSpace, EmulatedDeviceConfig, EmulatedDeviceType, PassThroughAddressConfig, PassThroughDeviceConfig,
    PassThroughNode,
};
pub use error::{ConfigError, ConfigFileError, ErrorKind, Location};
#[cfg(feature = "std")]
pub use fs::FsImageSizes;
pub use image_header::{ARM64_IMAGE_BASE_ALIGN, ARM64_IMAGE_MAGIC, Arm64ImageHeader};
pub use kernel_placement::KernelPlacement;
pub use types::{ConsoleMode, EntryMode, ImageLocation, VMInterruptMode, VMType, VmMemFlags, VmMemMappingType};
pub use validate::{ImageSizes, PAGE_SIZE, TargetArch, ValidateContext, check_across};
pub use vm_config::{AxVCpuConfig, AxVMConfig, VMImageConfig};
