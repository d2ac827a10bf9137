//! [`AxVMConfig`]: the runtime form of a configuration that `AxVM::new` takes.

use alloc::string::String;
use alloc::vec::Vec;

use crate::crate_config::{AxVMCrateConfig, VmMemConfig};
use crate::defaults::{AppliedDefault, DtbPlacement};
use crate::device::{EmulatedDeviceConfig, PassThroughAddressConfig, PassThroughDeviceConfig, PassThroughNode};
use crate::types::{EntryMode, VMInterruptMode, VMType};

/// The first GIC INTID that is a shared peripheral interrupt (SPI).
const GIC_SPI_BASE: usize = 32;

/// Where the vCPUs start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AxVCpuConfig {
    /// Guest physical entry address of the boot vCPU.
    pub bsp_entry: usize,
    /// Guest physical entry address of the other vCPUs.
    pub ap_entry: usize,
    /// x86: the mode the boot vCPU starts in.
    pub entry_mode: EntryMode,
}

/// Where the images are loaded in guest physical memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VMImageConfig {
    /// Load address of the kernel image.
    pub kernel_load_gpa: usize,
    /// Load address of the BIOS image, if any.
    pub bios_load_gpa: Option<usize>,
    /// Load address of the device tree blob, if any: `kernel.dtb_load_addr`,
    /// or the default place of a Linux VM's generated tree
    /// ([`AxVMCrateConfig::dtb_placement`]). The boot vCPU gets it in x0.
    pub dtb_load_gpa: Option<usize>,
    /// Load address of the ramdisk, if any.
    pub ramdisk_load_gpa: Option<usize>,
}

/// The configuration a VM is created from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AxVMConfig {
    id: usize,
    name: String,
    vm_type: VMType,
    cpu_num: usize,
    phys_cpu_ids: Option<Vec<usize>>,
    phys_cpu_sets: Option<Vec<usize>>,
    cpu_config: AxVCpuConfig,
    image_config: VMImageConfig,
    memory_regions: Vec<VmMemConfig>,
    emu_devices: Vec<EmulatedDeviceConfig>,
    pass_through_devices: Vec<PassThroughDeviceConfig>,
    pass_through_nodes: Vec<PassThroughNode>,
    excluded_devices: Vec<String>,
    pass_through_addresses: Vec<PassThroughAddressConfig>,
    host_nodes: Vec<String>,
    spi_list: Vec<usize>,
    interrupt_mode: VMInterruptMode,
    cmdline: Option<String>,
    applied_defaults: Vec<AppliedDefault>,
}

impl From<AxVMCrateConfig> for AxVMConfig {
    /// Converts a parsed configuration. Every vCPU starts at
    /// `kernel.entry_point` (0 when the config leaves it out and it was not
    /// filled in with [`AxVMCrateConfig::apply_kernel_placement`]).
    ///
    /// In the passthrough interrupt mode, `spi_list` gets the SPI number
    /// (INTID − 32) of each passthrough device whose `irq` is an SPI (≥ 32).
    ///
    /// What the file leaves out is filled in and listed in
    /// [`applied_defaults`](Self::applied_defaults): the device tree's
    /// default place ([`AxVMCrateConfig::dtb_placement`]) and the default
    /// console, added at the end of the emulated devices
    /// ([`AxVMCrateConfig::default_console`]).
    fn from(cfg: AxVMCrateConfig) -> Self {
        let dtb = cfg.dtb_placement();
        let console = cfg.default_console();
        let mut applied_defaults = Vec::new();
        if let DtbPlacement::Default(place) = dtb {
            applied_defaults.push(AppliedDefault::DtbLoadAddr(place));
        }
        let AxVMCrateConfig {
            base,
            kernel,
            mut devices,
        } = cfg;
        if let Some(console) = console {
            devices.emu_devices.push(console.config());
            applied_defaults.push(AppliedDefault::Console(console));
        }
        let mut spi_list = Vec::new();
        if devices.interrupt_mode == VMInterruptMode::Passthrough {
            for dev in &devices.passthrough_devices {
                if let Some(spi) = dev.irq_id.checked_sub(GIC_SPI_BASE)
                    && !spi_list.contains(&spi)
                {
                    spi_list.push(spi);
                }
            }
        }
        Self {
            id: base.id,
            name: base.name,
            vm_type: base.vm_type,
            cpu_num: base.cpu_num,
            phys_cpu_ids: base.phys_cpu_ids,
            phys_cpu_sets: base.phys_cpu_sets,
            cpu_config: AxVCpuConfig {
                bsp_entry: kernel.entry_point.unwrap_or_default(),
                ap_entry: kernel.entry_point.unwrap_or_default(),
                entry_mode: kernel.entry_mode.unwrap_or_default(),
            },
            image_config: VMImageConfig {
                kernel_load_gpa: kernel.kernel_load_addr.unwrap_or_default(),
                bios_load_gpa: kernel.bios_load_addr,
                dtb_load_gpa: dtb.gpa(),
                ramdisk_load_gpa: kernel.ramdisk_load_addr,
            },
            memory_regions: kernel.memory_regions,
            emu_devices: devices.emu_devices,
            pass_through_devices: devices.passthrough_devices,
            pass_through_nodes: devices.passthrough_nodes,
            excluded_devices: devices.excluded_devices,
            pass_through_addresses: devices.passthrough_addresses,
            host_nodes: Vec::new(),
            spi_list,
            interrupt_mode: devices.interrupt_mode,
            cmdline: kernel.cmdline,
            applied_defaults,
        }
    }
}

impl AxVMConfig {
    /// The kernel command line (`kernel.cmdline`), for the guest's
    /// `/chosen/bootargs`.
    pub fn cmdline(&self) -> Option<&str> {
        self.cmdline.as_deref()
    }

    /// The VM id.
    pub fn id(&self) -> usize {
        self.id
    }

    /// Gives the VM another id (a second instance of one config).
    pub fn set_id(&mut self, id: usize) {
        self.id = id;
    }

    /// A copy of the VM name.
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// The kind of guest.
    pub fn vm_type(&self) -> VMType {
        self.vm_type
    }

    /// The number of vCPUs.
    pub fn cpu_num(&self) -> usize {
        self.cpu_num
    }

    /// The physical CPU id of each vCPU, if configured.
    pub fn phys_cpu_ids(&self) -> Option<&[usize]> {
        self.phys_cpu_ids.as_deref()
    }

    /// The physical CPU mask of each vCPU, if configured.
    pub fn phys_cpu_sets(&self) -> Option<&[usize]> {
        self.phys_cpu_sets.as_deref()
    }

    /// For each vCPU: `(vcpu_id, physical CPU mask it may run on, physical CPU id)`.
    ///
    /// The mask is `None` when `phys_cpu_sets` is not configured (any CPU); the
    /// physical id defaults to the vCPU id when `phys_cpu_ids` is not configured.
    pub fn get_vcpu_affinities_pcpu_ids(&self) -> Vec<(usize, Option<usize>, usize)> {
        (0..self.cpu_num)
            .map(|vcpu| {
                let mask = self.phys_cpu_sets.as_ref().and_then(|s| s.get(vcpu).copied());
                let phys_id = self
                    .phys_cpu_ids
                    .as_ref()
                    .and_then(|ids| ids.get(vcpu).copied())
                    .unwrap_or(vcpu);
                (vcpu, mask, phys_id)
            })
            .collect()
    }

    /// Where the images are loaded.
    pub fn image_config(&self) -> &VMImageConfig {
        &self.image_config
    }

    /// The boot vCPU's entry address.
    pub fn bsp_entry(&self) -> usize {
        self.cpu_config.bsp_entry
    }

    /// The other vCPUs' entry address.
    pub fn ap_entry(&self) -> usize {
        self.cpu_config.ap_entry
    }

    /// x86: the mode the boot vCPU starts in at [`Self::bsp_entry`].
    pub fn entry_mode(&self) -> EntryMode {
        self.cpu_config.entry_mode
    }

    /// The guest memory regions.
    pub fn memory_regions(&self) -> &[VmMemConfig] {
        &self.memory_regions
    }

    /// Adds a guest memory region.
    pub fn add_memory_region(&mut self, region: VmMemConfig) {
        self.memory_regions.push(region);
    }

    /// The emulated devices.
    pub fn emu_devices(&self) -> &[EmulatedDeviceConfig] {
        &self.emu_devices
    }

    /// The passthrough devices.
    pub fn pass_through_devices(&self) -> &[PassThroughDeviceConfig] {
        &self.pass_through_devices
    }

    /// The passthrough devices named by host device-tree node, still to be
    /// resolved against the host tree.
    pub fn pass_through_nodes(&self) -> &[PassThroughNode] {
        &self.pass_through_nodes
    }

    /// The host node paths that `["/"]` leaves out.
    pub fn excluded_devices(&self) -> &[String] {
        &self.excluded_devices
    }

    /// The identity-mapped MMIO windows.
    pub fn pass_through_addresses(&self) -> &[PassThroughAddressConfig] {
        &self.pass_through_addresses
    }

    /// The host device-tree nodes given to the VM whole (resolved from
    /// [`Self::pass_through_nodes`]; their windows and interrupts are among
    /// [`Self::pass_through_devices`], named by the node path).
    pub fn host_nodes(&self) -> &[String] {
        &self.host_nodes
    }

    /// Records a host node given to the VM whole.
    pub fn add_host_node(&mut self, path: String) {
        if !self.host_nodes.contains(&path) {
            self.host_nodes.push(path);
        }
    }

    /// Adds a passthrough device.
    pub fn add_pass_through_device(&mut self, device: PassThroughDeviceConfig) {
        self.pass_through_devices.push(device);
    }

    /// The SPIs (GIC INTID − 32) given to the guest in the passthrough interrupt mode.
    pub fn pass_through_spis(&self) -> &[usize] {
        &self.spi_list
    }

    /// Adds an SPI to give to the guest in the passthrough interrupt mode.
    pub fn add_pass_through_spi(&mut self, spi: usize) {
        if !self.spi_list.contains(&spi) {
            self.spi_list.push(spi);
        }
    }

    /// How interrupts are delivered.
    pub fn interrupt_mode(&self) -> VMInterruptMode {
        self.interrupt_mode
    }

    /// What the conversion filled in because the file left it out, in the
    /// order it was applied; each one's `Display` is a line for the log
    /// (`no console device in the config; using the default emulated PL011
    /// at 0x9000000`).
    pub fn applied_defaults(&self) -> &[AppliedDefault] {
        &self.applied_defaults
    }
}
