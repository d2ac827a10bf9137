//! Keys that only one architecture has: an x86 VM has no GIC, PL011,
//! device tree or passthrough interrupts; an aarch64 VM has no I/O ports.

use alloc::format;
use alloc::vec::Vec;

use super::push;
use crate::crate_config::AxVMCrateConfig;
use crate::device::{DeviceSpace, EmulatedDeviceType};
use crate::error::{ConfigError, ErrorKind};
use crate::types::{EntryMode, VMInterruptMode};

/// The architecture a configuration is checked for (the hypervisor's
/// build target).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TargetArch {
    /// aarch64 (QEMU `virt`): GICv3, PL011, device trees.
    #[default]
    Aarch64,
    /// x86_64 (QEMU q35): local APICs, a 16550 on ports, power ports.
    X86_64,
}

impl TargetArch {
    /// The architecture named as Rust's `target_arch` names it
    /// (`"aarch64"`, `"x86_64"`).
    pub fn from_target_arch(name: &str) -> Option<Self> {
        match name {
            "aarch64" => Some(Self::Aarch64),
            "x86_64" => Some(Self::X86_64),
            _ => None,
        }
    }

    /// Its name, for messages.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Aarch64 => "aarch64",
            Self::X86_64 => "x86_64",
        }
    }
}

/// Device types only aarch64 VMs have (the GIC and the MMIO console).
fn aarch64_only(t: EmulatedDeviceType) -> bool {
    matches!(
        t,
        EmulatedDeviceType::GicdV3
            | EmulatedDeviceType::GicrV3
            | EmulatedDeviceType::GPPTDistributor
            | EmulatedDeviceType::GPPTRedistributor
            | EmulatedDeviceType::GPPTITS
            | EmulatedDeviceType::Pl011
            | EmulatedDeviceType::Console
    )
}

/// Device types only x86 VMs have (ports, the I/O APIC).
fn x86_only(t: EmulatedDeviceType) -> bool {
    t.space() == DeviceSpace::PortIo || t == EmulatedDeviceType::Ioapic
}

pub(super) fn check(config: &AxVMCrateConfig, arch: TargetArch, errors: &mut Vec<ConfigError>) {
    let name = arch.name();
    for (i, dev) in config.devices.emu_devices.iter().enumerate() {
        let other_arch = match arch {
            TargetArch::X86_64 => aarch64_only(dev.emu_type),
            TargetArch::Aarch64 => x86_only(dev.emu_type),
        };
        if other_arch {
            push(
                errors,
                ErrorKind::InvalidValue,
                format!("devices.emu_devices[{i}].type"),
                format!("`{}` does not exist on {name}", dev.emu_type),
            );
        }
    }
    let kernel = &config.kernel;
    if arch != TargetArch::X86_64 {
        if kernel.entry_mode.is_some() {
            push(
                errors,
                ErrorKind::InvalidValue,
                "kernel.entry_mode",
                format!("does not exist on {name} (its VMs start at EL1 with the MMU off)"),
            );
        }
        return;
    }
    /// Real mode reaches the first MiB only.
    const REAL_MODE_END: usize = 0x10_0000;
    if kernel.entry_mode == Some(EntryMode::Real)
        && let Some(entry) = kernel.entry_point.filter(|&e| e >= REAL_MODE_END)
    {
        push(
            errors,
            ErrorKind::InvalidValue,
            "kernel.entry_point",
            format!("{entry:#x} is out of reach of real mode (entry_mode = \"real\" starts below 0x100000)"),
        );
    }
    let devices = &config.devices;
    for (field, set) in [
        ("kernel.dtb_path", kernel.dtb_path.is_some()),
        ("kernel.dtb_load_addr", kernel.dtb_load_addr.is_some()),
        ("devices.passthrough_devices", !devices.passthrough_nodes.is_empty()),
        ("devices.excluded_devices", !devices.excluded_devices.is_empty()),
    ] {
        if set {
            push(
                errors,
                ErrorKind::InvalidValue,
                field,
                format!("an {name} VM has no device tree"),
            );
        }
    }
    if config.devices.interrupt_mode == VMInterruptMode::Passthrough {
        push(
            errors,
            ErrorKind::InvalidValue,
            "devices.interrupt_mode",
            format!("\"passthrough\" does not exist on {name} (its VMs get emulated local APICs)"),
        );
    }
    if config.default_console().is_some() {
        push(
            errors,
            ErrorKind::InvalidValue,
            "devices.emu_devices",
            format!(
                "no console device, and {name} has no default console: list \
                 {{ name = \"com1\", type = \"uart16550\", gpa = 0x3f8, size = 8 }} or set devices.console = \"none\""
            ),
        );
    }
}
