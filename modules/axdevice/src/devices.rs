//! [`AxVmDevices`]: the emulated devices of one VM and the routing of
//! guest accesses to them.

use alloc::sync::Arc;
use alloc::vec::Vec;

use axerrno::{AxError, AxResult};
use axvcpu::{AccessWidth, AxVCpuExitReason, GuestPhysAddr, Port, SysRegAddr};

use crate::power::{PM1_CONTROL_PORT, PowerLatch, PowerPort, PowerPortKind, PowerRequest, RESET_CONTROL_PORT};
use crate::range_list::RangeList;
use crate::{BaseDeviceOps, Pl011, RangeKind, Uart16550};

/// A UART the host console can feed: the VM's console input goes to the
/// first one ([`AxVmDevices::console_uart`]).
pub trait ConsoleUart: Send + Sync {
    /// Offers a byte of input; false, keeping nothing, when it has no room.
    fn push_rx(&self, byte: u8) -> bool;
}

impl ConsoleUart for Pl011 {
    fn push_rx(&self, byte: u8) -> bool {
        Pl011::push_rx(self, byte)
    }
}

impl ConsoleUart for Uart16550 {
    fn push_rx(&self, byte: u8) -> bool {
        Uart16550::push_rx(self, byte)
    }
}

/// The emulated devices of one VM, in three address spaces: MMIO, system
/// registers and I/O ports.
///
/// Each space is a list sorted by address with no overlaps, so a lookup is a
/// binary search. Devices are registered while the VM is built (`&mut self`)
/// and then only accessed (`&self`), so the lists need no lock; each device
/// guards its own state.
///
/// The `handle_*` methods route a guest access:
/// - [`AxError::NotFound`] when no device claims the address (the caller
///   injects an abort or a fault into the guest);
/// - [`AxError::InvalidInput`] when the access is not fully inside one
///   device: it crosses a device's end, starts in a hole and reaches into a
///   device, or wraps around the address space;
/// - otherwise the device's answer. Written values and read results are
///   masked to the access width, so a device never sees or returns bits
///   outside it.
#[derive(Default)]
pub struct AxVmDevices {
    mmio: RangeList,
    sys_reg: RangeList,
    port: RangeList,
    pl011s: Vec<Arc<Pl011>>,
    consoles: Vec<Arc<dyn ConsoleUart>>,
    power: Option<Arc<PowerLatch>>,
}

impl AxVmDevices {
    /// A VM with no emulated devices.
    pub const fn new() -> Self {
        Self {
            mmio: RangeList::new(),
            sys_reg: RangeList::new(),
            port: RangeList::new(),
            pl011s: Vec::new(),
            consoles: Vec::new(),
            power: None,
        }
    }

    /// Registers `dev` in `list` after checking its range is of `kind`.
    fn add(list: &mut RangeList, kind: RangeKind, dev: Arc<dyn BaseDeviceOps>) -> AxResult {
        let range = dev.address_range();
        if range.kind() != kind {
            return Err(AxError::InvalidInput);
        }
        let (first, last) = range.bounds()?;
        list.insert(first, last, dev)
    }

    /// Registers an MMIO device: [`AxError::InvalidInput`] when its range is
    /// not an MMIO range, is empty or overflows the address space;
    /// [`AxError::AlreadyExists`] when it overlaps a registered device.
    pub fn add_mmio_dev(&mut self, dev: Arc<dyn BaseDeviceOps>) -> AxResult {
        Self::add(&mut self.mmio, RangeKind::Mmio, dev)
    }

    /// Registers a system-register device; errors as for
    /// [`add_mmio_dev`](Self::add_mmio_dev).
    pub fn add_sys_reg_dev(&mut self, dev: Arc<dyn BaseDeviceOps>) -> AxResult {
        Self::add(&mut self.sys_reg, RangeKind::SysReg, dev)
    }

    /// Registers a port I/O device; errors as for
    /// [`add_mmio_dev`](Self::add_mmio_dev).
    pub fn add_port_dev(&mut self, dev: Arc<dyn BaseDeviceOps>) -> AxResult {
        Self::add(&mut self.port, RangeKind::Port, dev)
    }

    /// Registers a PL011 as an MMIO device and keeps it in
    /// [`pl011s`](Self::pl011s), where the VM layer finds it to feed input
    /// and poll its interrupt.
    pub fn add_pl011(&mut self, uart: Arc<Pl011>) -> AxResult {
        self.add_mmio_dev(uart.clone())?;
        self.pl011s.push(uart.clone());
        self.consoles.push(uart);
        Ok(())
    }

    /// Registers a 16550 UART as a port I/O device and keeps it among the
    /// console UARTs.
    pub fn add_uart16550(&mut self, uart: Arc<Uart16550>) -> AxResult {
        self.add_port_dev(uart.clone())?;
        self.consoles.push(uart);
        Ok(())
    }

    /// The VM's console UART (the first PL011 or 16550 registered), where
    /// the host's console input goes.
    pub fn console_uart(&self) -> Option<&Arc<dyn ConsoleUart>> {
        self.consoles.first()
    }

    /// Registers the x86 power ports: PM1 control at `0x604` (SLP_EN powers
    /// off) and reset control at `0xCF9` (RST_CPU resets); their requests
    /// come out of [`take_power_request`](Self::take_power_request).
    pub fn add_power_ports(&mut self) -> AxResult {
        let latch = Arc::new(PowerLatch::new());
        for (kind, port) in [
            (PowerPortKind::Pm1Control, PM1_CONTROL_PORT),
            (PowerPortKind::ResetControl, RESET_CONTROL_PORT),
        ] {
            self.add_port_dev(Arc::new(PowerPort::new(kind, Port::new(port), latch.clone())))?;
        }
        self.power = Some(latch);
        Ok(())
    }

    /// Takes the power request a guest wrote to the power ports since the
    /// last call, if any.
    pub fn take_power_request(&self) -> Option<PowerRequest> {
        self.power.as_ref().and_then(|l| l.take())
    }

    /// The PL011 UARTs of the VM, in registration order.
    pub fn pl011s(&self) -> &[Arc<Pl011>] {
        &self.pl011s
    }

    /// The MMIO device that claims `addr`.
    pub fn find_mmio_dev(&self, addr: GuestPhysAddr) -> Option<&Arc<dyn BaseDeviceOps>> {
        self.mmio.find(addr.as_usize())
    }

    /// The system-register device that claims `addr`.
    pub fn find_sys_reg_dev(&self, addr: SysRegAddr) -> Option<&Arc<dyn BaseDeviceOps>> {
        self.sys_reg.find(addr.addr())
    }

    /// The port I/O device that claims `port`.
    pub fn find_port_dev(&self, port: Port) -> Option<&Arc<dyn BaseDeviceOps>> {
        self.port.find(usize::from(port.number()))
    }

    /// The MMIO devices in address order.
    pub fn mmio_devices(&self) -> impl Iterator<Item = &Arc<dyn BaseDeviceOps>> {
        self.mmio.iter()
    }

    /// The system-register devices in address order.
    pub fn sys_reg_devices(&self) -> impl Iterator<Item = &Arc<dyn BaseDeviceOps>> {
        self.sys_reg.iter()
    }

    /// The port I/O devices in address order.
    pub fn port_devices(&self) -> impl Iterator<Item = &Arc<dyn BaseDeviceOps>> {
        self.port.iter()
    }

    /// The number of devices in all three spaces.
    pub fn len(&self) -> usize {
        self.mmio
            .len()
            .saturating_add(self.sys_reg.len())
            .saturating_add(self.port.len())
    }

    /// Whether no device is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads `width` bytes at guest physical address `addr`.
    pub fn handle_mmio_read(&self, addr: GuestPhysAddr, width: AccessWidth) -> AxResult<u64> {
        let (dev, offset) = self.mmio.route(addr.as_usize(), width.size())?;
        Ok(dev.handle_read(offset, width)? & width.mask())
    }

    /// Writes the low `width` bytes of `value` at guest physical address
    /// `addr`.
    pub fn handle_mmio_write(&self, addr: GuestPhysAddr, width: AccessWidth, value: u64) -> AxResult {
        let (dev, offset) = self.mmio.route(addr.as_usize(), width.size())?;
        dev.handle_write(offset, width, value & width.mask())
    }

    /// Performs the device access of `exit`, an MMIO or system-register
    /// read or write, for the vCPU's fast path: `Some(value)` when a
    /// device did it (the value read; 0 for a write). `None`, with nothing
    /// done, when `exit` is another kind of exit, no device takes the
    /// access or its device refused it (the `handle_*` methods, asked
    /// again, answer the same and say why), or its device is an
    /// interrupt controller ([`BaseDeviceOps::is_interrupt_controller`]).
    pub fn fast_access(&self, exit: &AxVCpuExitReason) -> Option<u64> {
        match *exit {
            AxVCpuExitReason::MmioRead { addr, width, .. } => {
                self.fast_mmio(addr, width, None).map(|v| v & width.mask())
            }
            AxVCpuExitReason::MmioWrite { addr, width, data } => self.fast_mmio(addr, width, Some(data)),
            AxVCpuExitReason::SysRegRead { addr, .. } => {
                Self::plain_access(&self.sys_reg, addr.addr(), 1, AccessWidth::Qword, None)
            }
            AxVCpuExitReason::SysRegWrite { addr, value } => {
                Self::plain_access(&self.sys_reg, addr.addr(), 1, AccessWidth::Qword, Some(value))
            }
            _ => None,
        }
    }

    /// [`Self::fast_access`] of an MMIO access of `width` bytes at `addr`
    /// (`data`: a write's value; `None` for a read), without an exit to
    /// take apart. A read's value is the device's answer as it is: only
    /// its low `width` bytes count, and the caller, which extends and
    /// truncates it for its destination register anyway, masks it.
    #[inline]
    pub fn fast_mmio(&self, addr: GuestPhysAddr, width: AccessWidth, data: Option<u64>) -> Option<u64> {
        Self::plain_access(&self.mmio, addr.as_usize(), width.size(), width, data)
    }

    /// The access of [`Self::fast_access`] on `list`, `size` units at
    /// `addr`; a read's value is not masked.
    #[inline(always)]
    fn plain_access(list: &RangeList, addr: usize, size: usize, width: AccessWidth, data: Option<u64>) -> Option<u64> {
        let (dev, offset) = list.route_plain(addr, size)?;
        match data {
            Some(value) => dev.handle_write(offset, width, value & width.mask()).ok().map(|()| 0),
            None => dev.handle_read(offset, width).ok(),
        }
    }

    /// Reads the system register `addr` (64 bits; the device sees the
    /// register's index in its range as the offset).
    pub fn handle_sys_reg_read(&self, addr: SysRegAddr) -> AxResult<u64> {
        let (dev, offset) = self.sys_reg.route(addr.addr(), 1)?;
        dev.handle_read(offset, AccessWidth::Qword)
    }

    /// Writes `value` to the system register `addr`.
    pub fn handle_sys_reg_write(&self, addr: SysRegAddr, value: u64) -> AxResult {
        let (dev, offset) = self.sys_reg.route(addr.addr(), 1)?;
        dev.handle_write(offset, AccessWidth::Qword, value)
    }

    /// Reads `width` bytes from `port` (the ports `port..port + width` must
    /// all belong to one device).
    pub fn handle_port_read(&self, port: Port, width: AccessWidth) -> AxResult<u64> {
        let (dev, offset) = self.port.route(usize::from(port.number()), width.size())?;
        Ok(dev.handle_read(offset, width)? & width.mask())
    }

    /// Writes the low `width` bytes of `value` to `port`.
    pub fn handle_port_write(&self, port: Port, width: AccessWidth, value: u64) -> AxResult {
        let (dev, offset) = self.port.route(usize::from(port.number()), width.size())?;
        dev.handle_write(offset, width, value & width.mask())
    }
}
