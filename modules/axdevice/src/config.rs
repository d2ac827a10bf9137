//! Building a VM's devices from its configuration:
//! [`AxVmDevices::from_config`], [`DeviceContext`], [`DeviceConfigError`].

use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;

use axerrno::AxError;
use axvcpu::GuestPhysAddr;
use axvmconfig::{EmulatedDeviceConfig, EmulatedDeviceType};

use crate::uart16550::UART16550_PORTS;
use crate::{
    AxVmDevices, ConsoleSink, DeviceRange, DummyDevice, PL011_SIZE, Pl011, TEST_DEVICE_SIZE, TestDevice, Uart16550,
};

/// What the device models need from the VM that owns them.
#[derive(Clone)]
pub struct DeviceContext {
    /// The VM's name; UART output is tagged with it.
    pub name: String,
    /// Where the VM's UART output goes.
    pub console: Arc<dyn ConsoleSink>,
}

impl DeviceContext {
    /// The context of the VM `name`, printing to `console`.
    pub fn new(name: impl Into<String>, console: Arc<dyn ConsoleSink>) -> Self {
        Self {
            name: name.into(),
            console,
        }
    }
}

/// What is wrong with a device entry of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceConfigProblem {
    /// `axdevice` has no model for the type (the VM layer builds it itself,
    /// or nobody does).
    UnsupportedType,
    /// The model has a fixed size and the entry gives another.
    WrongSize {
        /// The model's size in bytes.
        expected: usize,
        /// The entry's `size`.
        found: usize,
    },
    /// The range is empty or overflows the address space.
    InvalidRange,
    /// The range overlaps an earlier device of the list.
    Overlap,
}

/// A device entry that [`AxVmDevices::from_config`] could not build, naming
/// the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceConfigError {
    /// The `name` of the entry.
    pub device: String,
    /// The `type` of the entry.
    pub emu_type: EmulatedDeviceType,
    /// The `gpa` of the entry.
    pub base: usize,
    /// The `size` of the entry.
    pub length: usize,
    /// What is wrong.
    pub problem: DeviceConfigProblem,
}

impl DeviceConfigError {
    fn new(config: &EmulatedDeviceConfig, problem: DeviceConfigProblem) -> Self {
        Self {
            device: config.name.clone(),
            emu_type: config.emu_type,
            base: config.base_gpa,
            length: config.length,
            problem,
        }
    }

    /// The [`AxError`] closest to the problem.
    pub fn ax_error(&self) -> AxError {
        match self.problem {
            DeviceConfigProblem::UnsupportedType => AxError::Unsupported,
            DeviceConfigProblem::WrongSize { .. } | DeviceConfigProblem::InvalidRange => AxError::InvalidInput,
            DeviceConfigProblem::Overlap => AxError::AlreadyExists,
        }
    }
}

impl From<DeviceConfigError> for AxError {
    fn from(err: DeviceConfigError) -> Self {
        err.ax_error()
    }
}

impl fmt::Display for DeviceConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "emulated device `{}` ({} at {:#x}, size {:#x}): ",
            self.device, self.emu_type, self.base, self.length
        )?;
        match self.problem {
            DeviceConfigProblem::UnsupportedType => {
                write!(f, "axdevice has no model for type {}", self.emu_type)
            }
            DeviceConfigProblem::WrongSize { expected, found } => {
                write!(f, "a {} device has size {expected:#x}, not {found:#x}", self.emu_type)
            }
            DeviceConfigProblem::InvalidRange => f.write_str("the range is empty or overflows the address space"),
            DeviceConfigProblem::Overlap => f.write_str("the range overlaps another device"),
        }
    }
}

impl AxVmDevices {
    /// Builds the devices of `configs` for the VM described by `ctx`:
    ///
    /// | type | model |
    /// |------|-------|
    /// | `console`, `pl011` | [`Pl011`] (size `0x1000`; `irq` 0 means none) |
    /// | `dummy` | [`DummyDevice`] over the entry's range |
    /// | `uart16550` | [`Uart16550`] (its `gpa` is the first port, size 8) |
    /// | `test_device` | [`TestDevice`] (size `0x1000`) |
    ///
    /// Any other type is an error naming the device: the caller passes only
    /// the entries it wants built here and registers its own models (an
    /// interrupt controller, say) with [`add_mmio_dev`](Self::add_mmio_dev).
    /// The first bad entry stops the build.
    pub fn from_config(configs: &[EmulatedDeviceConfig], ctx: &DeviceContext) -> Result<Self, DeviceConfigError> {
        let mut devices = Self::new();
        for config in configs {
            devices
                .add_from_config(config, ctx)
                .map_err(|problem| DeviceConfigError::new(config, problem))?;
        }
        Ok(devices)
    }

    /// Builds and registers the device of one entry.
    fn add_from_config(
        &mut self,
        config: &EmulatedDeviceConfig,
        ctx: &DeviceContext,
    ) -> Result<(), DeviceConfigProblem> {
        let base = GuestPhysAddr::from(config.base_gpa);
        let fixed_size = |expected: usize| {
            if config.length == expected {
                Ok(())
            } else {
                Err(DeviceConfigProblem::WrongSize {
                    expected,
                    found: config.length,
                })
            }
        };
        let added = match config.emu_type {
            EmulatedDeviceType::Console | EmulatedDeviceType::Pl011 => {
                fixed_size(PL011_SIZE)?;
                let irq = (config.irq_id != 0).then_some(config.irq_id);
                self.add_pl011(Arc::new(Pl011::new(&config.name, base, irq, ctx)))
            }
            EmulatedDeviceType::Dummy => {
                let range = DeviceRange::Mmio {
                    base,
                    size: config.length,
                };
                self.add_mmio_dev(Arc::new(DummyDevice::new(&config.name, range)))
            }
            EmulatedDeviceType::Uart16550 => {
                fixed_size(UART16550_PORTS)?;
                let port = u16::try_from(config.base_gpa).map_err(|_| DeviceConfigProblem::InvalidRange)?;
                self.add_uart16550(Arc::new(Uart16550::new(&config.name, axvcpu::Port::new(port), ctx)))
            }
            EmulatedDeviceType::TestDevice => {
                fixed_size(TEST_DEVICE_SIZE)?;
                self.add_mmio_dev(Arc::new(TestDevice::new(&config.name, base)))
            }
            _ => return Err(DeviceConfigProblem::UnsupportedType),
        };
        added.map_err(|err| {
            if err == AxError::AlreadyExists {
                DeviceConfigProblem::Overlap
            } else {
                DeviceConfigProblem::InvalidRange
            }
        })
    }
}
