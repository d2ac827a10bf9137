//! [`AxVMCrateConfig`]: one VM configuration file as written, after parsing.

use alloc::string::String;
use alloc::vec::Vec;

use crate::device::{EmulatedDeviceConfig, PassThroughAddressConfig, PassThroughDeviceConfig, PassThroughNode};
use crate::error::ConfigError;
use crate::types::{ConsoleMode, EntryMode, ImageLocation, VMInterruptMode, VMType, VmMemFlags, VmMemMappingType};

/// One guest memory region, normalized from either TOML form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "bake", derive(databake::Bake), databake(path = axvmconfig))]
pub struct VmMemConfig {
    /// The first guest physical address of the region.
    pub gpa: usize,
    /// The size of the region in bytes.
    pub size: usize,
    /// Access rights and attributes.
    pub flags: VmMemFlags,
    /// Where the host memory comes from.
    pub map_type: VmMemMappingType,
    /// Map the region's stage-2 translation with 4 KiB pages only, never
    /// 2 MiB blocks (`map = "alloc"` regions; TOML `small_pages = true`).
    /// Blocks are the default: fewer table entries and, on hardware, fewer
    /// TLB misses. Under QEMU's TCG they cost more than they save: QEMU
    /// records the larger of the stage-1 and stage-2 page sizes for each
    /// translation it caches, and the guest's every TLB invalidation by
    /// address inside such a "large page" then empties its whole cache.
    pub small_pages: bool,
}

impl VmMemConfig {
    /// The end of the region (exclusive), or `None` if `gpa + size` overflows.
    pub fn end(&self) -> Option<usize> {
        self.gpa.checked_add(self.size)
    }

    /// Whether `addr` lies inside the region.
    pub fn contains(&self, addr: usize) -> bool {
        addr >= self.gpa && self.end().is_none_or(|end| addr < end)
    }
}

/// `[base]`: who the VM is and how many vCPUs it has.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VMBaseConfig {
    /// VM id, unique in the system.
    pub id: usize,
    /// VM name, for logs.
    pub name: String,
    /// The kind of guest.
    pub vm_type: VMType,
    /// The number of vCPUs.
    pub cpu_num: usize,
    /// The physical CPU id (MPIDR-like hardware id) of each vCPU; `None`: vCPU `i` has id `i`.
    pub phys_cpu_ids: Option<Vec<usize>>,
    /// The mask of physical CPUs each vCPU may run on (bit `n` = CPU `n`);
    /// `None`: any CPU. E.g. `[0b101, 0b010]`: vCPU 0 on CPU 0 or 2, vCPU 1 on CPU 1.
    pub phys_cpu_sets: Option<Vec<usize>>,
    /// Whether the hypervisor builds and starts the VM at boot (default
    /// true); `false`: it waits for `vm create` on the management console.
    pub autostart: bool,
}

/// `[kernel]`: the guest images, where they go, and the guest memory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VMKernelConfig {
    /// The guest physical address where every vCPU starts. Optional for an
    /// arm64 Linux `Image` (then the load address, see
    /// [`AxVMCrateConfig::kernel_placement`]).
    pub entry_point: Option<usize>,
    /// x86 only: the mode the boot vCPU starts in (`None`: the default,
    /// 32-bit protected mode).
    pub entry_mode: Option<EntryMode>,
    /// The kernel image file.
    pub kernel_path: String,
    /// The guest physical address the kernel image is loaded at. Optional
    /// for an arm64 Linux `Image` (then taken from its header and the first
    /// RAM region, see [`AxVMCrateConfig::kernel_placement`]).
    pub kernel_load_addr: Option<usize>,
    /// The BIOS / firmware image file, if any.
    pub bios_path: Option<String>,
    /// The guest physical address the BIOS image is loaded at.
    pub bios_load_addr: Option<usize>,
    /// The device tree blob file, if any.
    pub dtb_path: Option<String>,
    /// The guest physical address the device tree is placed at (also without a
    /// `dtb_path`, when the hypervisor generates the tree). A Linux VM without
    /// either gets a generated tree at a default place: see
    /// [`AxVMCrateConfig::dtb_placement`].
    pub dtb_load_addr: Option<usize>,
    /// The initial ramdisk file, if any.
    pub ramdisk_path: Option<String>,
    /// The guest physical address the ramdisk is loaded at.
    pub ramdisk_load_addr: Option<usize>,
    /// Where the image files are found at run time.
    pub image_location: ImageLocation,
    /// The kernel command line, if any.
    pub cmdline: Option<String>,
    /// A disk image (AxVisor's key; refused by the checker: no block device yet).
    pub disk_path: Option<String>,
    /// Not a key: whether the kernel file is an arm64 Linux `Image` (it has
    /// the header's magic). Set by the checker and by
    /// [`AxVMCrateConfig::apply_kernel_placement`], which see the file; a
    /// Linux image gets a generated device tree like a `linux` VM.
    pub linux_image: bool,
    /// The guest physical memory: RAM and device windows.
    pub memory_regions: Vec<VmMemConfig>,
}

/// `[devices]`: emulated and passthrough devices and the interrupt mode.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VMDevicesConfig {
    /// Devices emulated by the hypervisor.
    pub emu_devices: Vec<EmulatedDeviceConfig>,
    /// Host devices mapped into the guest, given by address.
    pub passthrough_devices: Vec<PassThroughDeviceConfig>,
    /// Host devices mapped into the guest, given by their host device-tree
    /// node path (`["/pl011@9000000"]`, or `["/"]` for every device the
    /// hypervisor does not use itself); resolved when the VM is built.
    pub passthrough_nodes: Vec<PassThroughNode>,
    /// Host device-tree node paths (with their children) that `["/"]`
    /// leaves out.
    pub excluded_devices: Vec<String>,
    /// Host physical windows mapped into the guest at the same addresses
    /// as device memory.
    pub passthrough_addresses: Vec<PassThroughAddressConfig>,
    /// How interrupts are delivered.
    pub interrupt_mode: VMInterruptMode,
    /// What the VM gets as its console when `emu_devices` lists none: see
    /// [`AxVMCrateConfig::default_console`].
    pub console: ConsoleMode,
}

/// One VM configuration file, as written: `[base]`, `[kernel]` and `[devices]`.
///
/// Parse it with [`from_toml`](Self::from_toml), check it with
/// [`validate`](Self::validate), and turn it into the runtime
/// [`AxVMConfig`](crate::AxVMConfig) with `From`. With feature `bake`,
/// `to_rust` writes it out as the Rust that builds it (what the hypervisor
/// image carries instead of the text).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AxVMCrateConfig {
    /// `[base]`.
    pub base: VMBaseConfig,
    /// `[kernel]`.
    pub kernel: VMKernelConfig,
    /// `[devices]` (optional: no devices, emulated interrupts).
    pub devices: VMDevicesConfig,
}

impl AxVMCrateConfig {
    /// Parses a configuration from TOML text, returning the first problem found
    /// (in source order) if there is any. [`parse`](Self::parse) returns all of them.
    ///
    /// This checks the syntax and the schema: required keys, unknown keys,
    /// value types, and names (VM type, interrupt mode, flag letters, mapping
    /// type, device type). Cross-field checks are [`validate`](Self::validate)'s.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        Self::parse(text).map_err(|mut errors| errors.swap_remove(0))
    }

    /// Parses a configuration from TOML text, returning every problem found,
    /// in source order. The error vector is never empty.
    pub fn parse(text: &str) -> Result<Self, Vec<ConfigError>> {
        crate::parse::parse_config(text)
    }
}
