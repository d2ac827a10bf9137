//! What the hypervisor fills in when a configuration leaves it out: where a
//! Linux VM's generated device tree goes, and the console of a VM whose
//! config lists none.
//!
//! Both are resolved here, from the parsed configuration, so that the
//! checker ([`AxVMCrateConfig::validate`]), the runtime config
//! ([`AxVMConfig`](crate::AxVMConfig), with its
//! [`applied_defaults`](crate::AxVMConfig::applied_defaults) for the log)
//! and the VM built from it all see one value.
//!
//! The rules (also in `configs/vms/README.md`):
//! - **Device tree.** A VM with `kernel.dtb_load_addr` gets its tree there. A
//!   Linux VM (`vm_type = "linux"`, or any VM whose kernel is an arm64
//!   Linux `Image`) with neither `dtb_path` nor
//!   `dtb_load_addr` gets a generated tree in its first RAM region: at the
//!   region's start when no image (kernel, BIOS, ramdisk) is loaded in its
//!   first [`GENERATED_DTB_MAX_SIZE`] bytes, otherwise in its last
//!   [`GENERATED_DTB_MAX_SIZE`] bytes. The checker refuses the config when
//!   that place overlaps an image or the region is smaller than the tree.
//!   Other VMs without `dtb_load_addr` get no tree (x0 = 0).
//! - **Console.** A VM whose `devices.emu_devices` lists no console device
//!   (`pl011`, `console`, `uart16550`, `virtio_console`) gets
//!   [`DEFAULT_CONSOLE`], unless `devices.console = "none"`.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use crate::crate_config::{AxVMCrateConfig, VMKernelConfig};
use crate::device::{EmulatedDeviceConfig, EmulatedDeviceType};
use crate::types::{ConsoleMode, VMType};

/// The most bytes a generated device tree may take: the room the checker
/// keeps for it at its load address (`axvm` refuses to generate a larger
/// one).
pub const GENERATED_DTB_MAX_SIZE: usize = 0x1_0000;

/// The alignment a device tree's load address must have (the arm64 boot
/// protocol: 8 bytes).
pub const DTB_ALIGN: usize = 8;

/// An emulated device the hypervisor adds by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultDevice {
    /// Its name, for logs and the guest device tree.
    pub name: &'static str,
    /// How logs call the model.
    pub model: &'static str,
    /// Its model.
    pub emu_type: EmulatedDeviceType,
    /// Its first guest physical address.
    pub gpa: usize,
    /// The size of its MMIO range.
    pub size: usize,
    /// Its interrupt (GIC INTID).
    pub irq: usize,
}

impl DefaultDevice {
    /// The device as a config entry.
    pub fn config(&self) -> EmulatedDeviceConfig {
        EmulatedDeviceConfig {
            name: String::from(self.name),
            base_gpa: self.gpa,
            length: self.size,
            irq_id: self.irq,
            emu_type: self.emu_type,
            cfg_list: Vec::new(),
        }
    }

    /// Its MMIO range.
    pub fn range(&self) -> Range<usize> {
        self.gpa..self.gpa.saturating_add(self.size)
    }
}

/// The platform's default console: the PL011 of QEMU's `virt` machine at
/// `0x0900_0000` with SPI 1 (INTID 33), as `configs/vms/linux-aarch64.toml`
/// declares it.
pub const DEFAULT_CONSOLE: DefaultDevice = DefaultDevice {
    name: "uart0",
    model: "PL011",
    emu_type: EmulatedDeviceType::Pl011,
    gpa: 0x0900_0000,
    size: 0x1000,
    irq: 33,
};

/// The default place of a generated device tree in a RAM region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultDtbPlace {
    /// Where the tree goes.
    pub gpa: usize,
    /// The index of the RAM region in `kernel.memory_regions`.
    pub region: usize,
    /// `false`: the region's first [`GENERATED_DTB_MAX_SIZE`] bytes;
    /// `true`: its last ones (an image is loaded at its start).
    pub at_end: bool,
}

impl DefaultDtbPlace {
    /// The room kept for the tree.
    pub fn range(&self) -> Range<usize> {
        self.gpa..self.gpa.saturating_add(GENERATED_DTB_MAX_SIZE)
    }
}

impl fmt::Display for DefaultDtbPlace {
    /// `the last 0x10000 bytes of kernel.memory_regions[0]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let which = if self.at_end { "last" } else { "first" };
        write!(
            f,
            "the {which} {GENERATED_DTB_MAX_SIZE:#x} bytes of kernel.memory_regions[{}]",
            self.region
        )
    }
}

/// Where a VM's device tree goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtbPlacement {
    /// Nowhere: no `dtb_load_addr`, and not a Linux VM with a generated tree.
    None,
    /// At `kernel.dtb_load_addr`.
    Given(usize),
    /// At the default place (a Linux VM with neither `dtb_path` nor `dtb_load_addr`).
    Default(DefaultDtbPlace),
    /// A Linux VM that needs the default place, but its first RAM region is
    /// smaller than the tree, or it has no RAM region (the checker refuses it).
    NoRoom,
}

impl DtbPlacement {
    /// The tree's load address, if it has one.
    pub fn gpa(&self) -> Option<usize> {
        match *self {
            Self::Given(gpa) => Some(gpa),
            Self::Default(place) => Some(place.gpa),
            Self::None | Self::NoRoom => None,
        }
    }
}

/// A value the configuration left out that the hypervisor filled in; its
/// `Display` is the line logged when the VM is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppliedDefault {
    /// No `kernel.dtb_load_addr`: the generated tree goes at the default place.
    DtbLoadAddr(DefaultDtbPlace),
    /// No console device in `devices.emu_devices`: this one was added.
    Console(DefaultDevice),
}

impl fmt::Display for AppliedDefault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DtbLoadAddr(place) => write!(
                f,
                "no dtb_load_addr in the config; the generated device tree goes at {:#x} ({place})",
                place.gpa
            ),
            Self::Console(dev) => write!(
                f,
                "no console device in the config; using the default emulated {} at {:#x}",
                dev.model, dev.gpa
            ),
        }
    }
}

impl AxVMCrateConfig {
    /// Where the VM's device tree goes: `kernel.dtb_load_addr`, or the
    /// default place for a Linux VM with neither `dtb_path` nor
    /// `dtb_load_addr` (the rule is in `configs/vms/README.md`: the start of
    /// its first RAM region, or the end when an image is loaded at the start).
    pub fn dtb_placement(&self) -> DtbPlacement {
        let kernel = &self.kernel;
        match kernel.dtb_load_addr {
            Some(gpa) => DtbPlacement::Given(gpa),
            None if kernel.dtb_path.is_none() && (self.base.vm_type == VMType::Linux || kernel.linux_image) => {
                default_dtb_place(kernel)
            }
            None => DtbPlacement::None,
        }
    }

    /// The console the hypervisor adds: [`DEFAULT_CONSOLE`] when
    /// `devices.emu_devices` lists no console device and `devices.console`
    /// is not `"none"`.
    pub fn default_console(&self) -> Option<DefaultDevice> {
        let devices = &self.devices;
        let has_console = devices.emu_devices.iter().any(|d| d.emu_type.is_console());
        (devices.console == ConsoleMode::Default && !has_console).then_some(DEFAULT_CONSOLE)
    }
}

/// The default place of a generated tree (see the module rules).
fn default_dtb_place(kernel: &VMKernelConfig) -> DtbPlacement {
    let first_ram = kernel.memory_regions.iter().enumerate().find(|(_, r)| r.flags.is_ram());
    let Some((region, ram)) = first_ram else {
        return DtbPlacement::NoRoom;
    };
    let (Some(end), true) = (ram.end(), ram.size >= GENERATED_DTB_MAX_SIZE) else {
        return DtbPlacement::NoRoom;
    };
    // An image starting in the first bytes overlaps them; one starting
    // below the region is in another region (images fit their region).
    let start = ram.gpa..ram.gpa + GENERATED_DTB_MAX_SIZE;
    let loads = [kernel.kernel_load_addr, kernel.bios_load_addr, kernel.ramdisk_load_addr];
    let start_taken = loads.iter().flatten().any(|addr| start.contains(addr));
    let place = if start_taken {
        DefaultDtbPlace {
            gpa: end - GENERATED_DTB_MAX_SIZE,
            region,
            at_end: true,
        }
    } else {
        DefaultDtbPlace {
            gpa: ram.gpa,
            region,
            at_end: false,
        }
    };
    DtbPlacement::Default(place)
}
