//! Device entries of `[devices]`: emulated device types and the emulated and
//! passthrough device configurations.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// The type of an emulated device, written as a name or as a number.
///
/// Numbering (AxVisor's allocation, with this project's additions):
/// - `0x00..=0x1F`: special and abstract types whose concrete model depends on
///   the architecture (the interrupt controller is a vGIC on aarch64, a vLAPIC on x86);
/// - `0x20..=0x2F`: interrupt controllers;
/// - `0x30..=0x3F`: serial ports and test devices;
/// - `0xE0..=0xEF`: virtio devices.
///
/// | number | name | variant |
/// |--------|------|---------|
/// | `0x00` | `"dummy"` | [`Dummy`](Self::Dummy) |
/// | `0x01` | `"interrupt_controller"` | [`InterruptController`](Self::InterruptController) |
/// | `0x02` | `"console"` | [`Console`](Self::Console) |
/// | `0x06` | `"iommu"` | [`Iommu`](Self::Iommu) |
/// | `0x0A` | `"ivc_channel"` | [`IVCChannel`](Self::IVCChannel) |
/// | `0x20` | `"gppt_redistributor"` | [`GPPTRedistributor`](Self::GPPTRedistributor) |
/// | `0x21` | `"gppt_distributor"` | [`GPPTDistributor`](Self::GPPTDistributor) |
/// | `0x22` | `"gppt_its"` | [`GPPTITS`](Self::GPPTITS) |
/// | `0x23` | `"gicd_v3"` | [`GicdV3`](Self::GicdV3) |
/// | `0x24` | `"gicr_v3"` | [`GicrV3`](Self::GicrV3) |
/// | `0x25` | `"ioapic"` | [`Ioapic`](Self::Ioapic) |
/// | `0x30` | `"pl011"` | [`Pl011`](Self::Pl011) |
/// | `0x31` | `"uart16550"` | [`Uart16550`](Self::Uart16550) (port I/O) |
/// | `0x3F` | `"test_device"` | [`TestDevice`](Self::TestDevice) |
/// | `0xE1` | `"virtio_blk"` | [`VirtioBlk`](Self::VirtioBlk) |
/// | `0xE2` | `"virtio_net"` | [`VirtioNet`](Self::VirtioNet) |
/// | `0xE3` | `"virtio_console"` | [`VirtioConsole`](Self::VirtioConsole) |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "bake", derive(databake::Bake), databake(path = axvmconfig))]
#[non_exhaustive]
pub enum EmulatedDeviceType {
    /// A device that reads as zero and ignores writes.
    #[default]
    Dummy = 0x00,
    /// The architecture's interrupt controller (vGIC on aarch64, vLAPIC on x86).
    InterruptController = 0x01,
    /// The architecture's console device (MMIO).
    Console = 0x02,
    /// An IOMMU.
    Iommu = 0x06,
    /// An inter-VM communication channel (shared memory plus doorbell).
    IVCChannel = 0x0A,
    /// GIC partial passthrough: redistributor.
    GPPTRedistributor = 0x20,
    /// GIC partial passthrough: distributor.
    GPPTDistributor = 0x21,
    /// GIC partial passthrough: interrupt translation service.
    GPPTITS = 0x22,
    /// Emulated GICv3 distributor.
    GicdV3 = 0x23,
    /// Emulated GICv3 redistributors (one frame pair per vCPU).
    GicrV3 = 0x24,
    /// Emulated x86 I/O APIC.
    Ioapic = 0x25,
    /// Emulated ARM PL011 UART.
    Pl011 = 0x30,
    /// Emulated 16550 UART on x86 port I/O; its `gpa` is the first port.
    Uart16550 = 0x31,
    /// The project's test device, used by the guest test programs to report results.
    TestDevice = 0x3F,
    /// Virtio block device (MMIO transport).
    VirtioBlk = 0xE1,
    /// Virtio network device (MMIO transport).
    VirtioNet = 0xE2,
    /// Virtio console device (MMIO transport).
    VirtioConsole = 0xE3,
}

/// Every device type with its number and name.
const DEVICE_TYPES: &[(EmulatedDeviceType, &str)] = &[
    (EmulatedDeviceType::Dummy, "dummy"),
    (EmulatedDeviceType::InterruptController, "interrupt_controller"),
    (EmulatedDeviceType::Console, "console"),
    (EmulatedDeviceType::Iommu, "iommu"),
    (EmulatedDeviceType::IVCChannel, "ivc_channel"),
    (EmulatedDeviceType::GPPTRedistributor, "gppt_redistributor"),
    (EmulatedDeviceType::GPPTDistributor, "gppt_distributor"),
    (EmulatedDeviceType::GPPTITS, "gppt_its"),
    (EmulatedDeviceType::GicdV3, "gicd_v3"),
    (EmulatedDeviceType::GicrV3, "gicr_v3"),
    (EmulatedDeviceType::Ioapic, "ioapic"),
    (EmulatedDeviceType::Pl011, "pl011"),
    (EmulatedDeviceType::Uart16550, "uart16550"),
    (EmulatedDeviceType::TestDevice, "test_device"),
    (EmulatedDeviceType::VirtioBlk, "virtio_blk"),
    (EmulatedDeviceType::VirtioNet, "virtio_net"),
    (EmulatedDeviceType::VirtioConsole, "virtio_console"),
];

/// The address space a device's `gpa`/`size` range lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceSpace {
    /// Guest physical memory (MMIO): the range traps on stage-2 / EPT faults.
    Mmio,
    /// x86 I/O ports: the range is `port..port + size` and must end at or below `0x1_0000`.
    PortIo,
}

impl EmulatedDeviceType {
    /// The names accepted in TOML, for error messages.
    pub const NAMES: &'static str = "dummy, interrupt_controller, console, iommu, ivc_channel, \
        gppt_redistributor, gppt_distributor, gppt_its, gicd_v3, gicr_v3, ioapic, pl011, \
        uart16550, test_device, virtio_blk, virtio_net, virtio_console (or their numbers)";

    /// The type written as `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        DEVICE_TYPES.iter().find(|(_, n)| *n == name).map(|(t, _)| *t)
    }

    /// The type numbered `number`.
    pub fn from_number(number: usize) -> Option<Self> {
        DEVICE_TYPES.iter().find(|(t, _)| t.number() == number).map(|(t, _)| *t)
    }

    /// The name of the type in TOML.
    pub fn name(self) -> &'static str {
        DEVICE_TYPES
            .iter()
            .find(|(t, _)| *t == self)
            .map_or("unknown", |(_, n)| n)
    }

    /// The number of the type.
    pub fn number(self) -> usize {
        self as usize
    }

    /// Whether the device is a console (a UART or a virtio console): a VM
    /// that has one does not get the default console.
    pub fn is_console(self) -> bool {
        matches!(
            self,
            Self::Console | Self::Pl011 | Self::Uart16550 | Self::VirtioConsole
        )
    }

    /// The address space of the device's range.
    pub fn space(self) -> DeviceSpace {
        match self {
            Self::Uart16550 => DeviceSpace::PortIo,
            _ => DeviceSpace::Mmio,
        }
    }
}

impl fmt::Display for EmulatedDeviceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An emulated device: accesses to its range trap to the hypervisor's model.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EmulatedDeviceConfig {
    /// The device's name, for logs and the guest device tree.
    pub name: String,
    /// The first guest physical address (or first I/O port) of the device.
    pub base_gpa: usize,
    /// The size of the device's range in bytes (or ports).
    pub length: usize,
    /// The interrupt the device raises (GIC INTID on aarch64, vector/GSI on x86); 0 for none.
    pub irq_id: usize,
    /// Which model emulates the device.
    pub emu_type: EmulatedDeviceType,
    /// Model-specific parameters.
    pub cfg_list: Vec<usize>,
}

/// A passthrough device: a host MMIO range mapped into the guest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PassThroughDeviceConfig {
    /// The device's name, for logs.
    pub name: String,
    /// The guest physical address the device appears at.
    pub base_gpa: usize,
    /// The host physical address of the device.
    pub base_hpa: usize,
    /// The size of the range in bytes.
    pub length: usize,
    /// The host interrupt routed to the guest (GIC INTID on aarch64); 0 for none.
    pub irq_id: usize,
}

/// A passthrough device named by its host device-tree node.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PassThroughNode {
    /// Its index in `devices.passthrough_devices`, for messages.
    pub index: usize,
    /// The node's full path in the host tree (`/pl011@9000000`), or `/`.
    pub path: String,
}

impl PassThroughNode {
    /// Whether this is `["/"]`: every host device but the hypervisor's own.
    pub fn is_root(&self) -> bool {
        self.path == "/"
    }
}

/// A host physical window mapped into the guest at the same address
/// (`devices.passthrough_addresses`), as device memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "bake", derive(databake::Bake), databake(path = axvmconfig))]
pub struct PassThroughAddressConfig {
    /// The first address (guest and host).
    pub base_gpa: usize,
    /// The size in bytes.
    pub length: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_are_unique_and_round_trip() {
        for (i, (t, name)) in DEVICE_TYPES.iter().enumerate() {
            assert_eq!(EmulatedDeviceType::from_name(name), Some(*t));
            assert_eq!(EmulatedDeviceType::from_number(t.number()), Some(*t));
            assert_eq!(t.name(), *name);
            assert!(EmulatedDeviceType::NAMES.contains(name), "{name} missing from NAMES");
            for (u, other) in &DEVICE_TYPES[i + 1..] {
                assert_ne!(t, u);
                assert_ne!(name, other);
            }
        }
    }

    #[test]
    fn consoles_are_the_uarts_and_the_virtio_console() {
        let consoles: Vec<_> = DEVICE_TYPES
            .iter()
            .filter(|(t, _)| t.is_console())
            .map(|(_, n)| *n)
            .collect();
        assert_eq!(consoles, ["console", "pl011", "uart16550", "virtio_console"]);
    }

    #[test]
    fn only_the_16550_uses_ports() {
        assert_eq!(EmulatedDeviceType::Uart16550.space(), DeviceSpace::PortIo);
        assert_eq!(EmulatedDeviceType::Pl011.space(), DeviceSpace::Mmio);
    }
}
