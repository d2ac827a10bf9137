//! The device interface ([`BaseDeviceOps`]) and the address ranges a device
//! claims ([`DeviceRange`]).

use axerrno::{AxError, AxResult};
use axvcpu::{AccessWidth, GuestPhysAddr, Port, SysRegAddr};

/// The address space a [`DeviceRange`] lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RangeKind {
    /// Guest physical memory.
    Mmio,
    /// Trapped system registers (aarch64 `MRS`/`MSR` encodings, x86 MSRs).
    SysReg,
    /// x86 I/O ports.
    Port,
}

/// The addresses an emulated device claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceRange {
    /// `size` bytes of guest physical memory from `base`. `size` must not be
    /// zero and `base + size` must not overflow the address space.
    Mmio {
        /// The first guest physical address of the device.
        base: GuestPhysAddr,
        /// The size of the range in bytes.
        size: usize,
    },
    /// The system registers `first..=last` (by their raw address).
    SysReg {
        /// The first register of the range.
        first: SysRegAddr,
        /// The last register of the range, included.
        last: SysRegAddr,
    },
    /// The I/O ports `first..=last`.
    Port {
        /// The first port of the range.
        first: Port,
        /// The last port of the range, included.
        last: Port,
    },
}

impl DeviceRange {
    /// The address space of the range.
    pub const fn kind(&self) -> RangeKind {
        match self {
            Self::Mmio { .. } => RangeKind::Mmio,
            Self::SysReg { .. } => RangeKind::SysReg,
            Self::Port { .. } => RangeKind::Port,
        }
    }

    /// The first and last (included) raw address of the range, or
    /// [`AxError::InvalidInput`] for an empty, reversed or overflowing range.
    pub fn bounds(&self) -> AxResult<(usize, usize)> {
        match *self {
            Self::Mmio { base, size } => {
                let base = base.as_usize();
                // `base + size` must be representable: the exclusive end is
                // what the VM config and the stage-2 mapper compute.
                base.checked_add(size).ok_or(AxError::InvalidInput)?;
                let last = size
                    .checked_sub(1)
                    .and_then(|rest| base.checked_add(rest))
                    .ok_or(AxError::InvalidInput)?;
                Ok((base, last))
            }
            Self::SysReg { first, last } => ordered(first.addr(), last.addr()),
            Self::Port { first, last } => ordered(usize::from(first.number()), usize::from(last.number())),
        }
    }
}

/// `(first, last)` when `first <= last`.
fn ordered(first: usize, last: usize) -> AxResult<(usize, usize)> {
    if first <= last {
        Ok((first, last))
    } else {
        Err(AxError::InvalidInput)
    }
}

/// An emulated device: a state machine that serves reads and writes at
/// offsets into its [`DeviceRange`].
///
/// Every method takes `&self`: vCPUs on several physical CPUs may access the
/// same device at once, so a device keeps its state behind a lock or in
/// atomics. A device never panics on an access; an offset it does not know
/// reads as zero and ignores writes (and is logged once, not per access).
pub trait BaseDeviceOps: Send + Sync {
    /// The device's name, for logs (the `name` of its VM config entry).
    fn name(&self) -> &str;

    /// The addresses the device claims. It must not change once the device
    /// is registered.
    fn address_range(&self) -> DeviceRange;

    /// Reads `width` bytes at `offset` from the start of the range. The value
    /// is zero-extended; [`AxVmDevices`](crate::AxVmDevices) masks it to
    /// `width`. For a system register `offset` is the register's index in the
    /// range and `width` is [`AccessWidth::Qword`].
    ///
    /// An `Err` refuses the access with nothing changed: the caller may
    /// ask again (the vCPU's fast path leaves a refused access to the VM,
    /// which does).
    fn handle_read(&self, offset: usize, width: AccessWidth) -> AxResult<u64>;

    /// Writes the low `width` bytes of `value` at `offset` from the start of
    /// the range. An `Err`, as for reads, changes nothing.
    fn handle_write(&self, offset: usize, width: AccessWidth, value: u64) -> AxResult;

    /// Whether the device models the guest's interrupt controller (the
    /// vGIC's distributor and redistributors, a local APIC). While the
    /// guest runs, part of that state lives in the vCPU's hardware (the
    /// list registers), so an access must wait until the VM has read it
    /// back: the vCPU's fast path leaves such accesses to the VM. The
    /// default is `false`.
    fn is_interrupt_controller(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mmio(base: usize, size: usize) -> DeviceRange {
        DeviceRange::Mmio {
            base: GuestPhysAddr::from(base),
            size,
        }
    }

    #[test]
    fn mmio_bounds_are_inclusive() {
        assert_eq!(mmio(0x1000, 0x100).bounds(), Ok((0x1000, 0x10ff)));
        assert_eq!(mmio(0, 1).bounds(), Ok((0, 0)));
    }

    #[test]
    fn empty_and_overflowing_mmio_ranges_are_invalid() {
        assert_eq!(mmio(0x1000, 0).bounds(), Err(AxError::InvalidInput));
        assert_eq!(mmio(usize::MAX - 0xfff, 0x1000).bounds(), Err(AxError::InvalidInput));
        assert_eq!(mmio(usize::MAX, 1).bounds(), Err(AxError::InvalidInput));
        assert_eq!(
            mmio(usize::MAX - 0x1fff, 0x1000).bounds(),
            Ok((usize::MAX - 0x1fff, usize::MAX - 0x1000))
        );
    }

    #[test]
    fn reversed_register_and_port_ranges_are_invalid() {
        let regs = DeviceRange::SysReg {
            first: SysRegAddr::new(5),
            last: SysRegAddr::new(4),
        };
        assert_eq!(regs.bounds(), Err(AxError::InvalidInput));
        let ports = DeviceRange::Port {
            first: Port::new(0x3f8),
            last: Port::new(0x3f8),
        };
        assert_eq!(ports.bounds(), Ok((0x3f8, 0x3f8)));
        assert_eq!(ports.kind(), RangeKind::Port);
        let ports = DeviceRange::Port {
            first: Port::new(0x3ff),
            last: Port::new(0x3f8),
        };
        assert_eq!(ports.bounds(), Err(AxError::InvalidInput));
    }
}
