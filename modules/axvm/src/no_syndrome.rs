//! The VM's side of emulating a device access that came without an
//! instruction syndrome (aarch64: a pair, a write-back form, a SIMD&FP
//! register, an exclusive, `DC ZVA`, ...): the vCPU decodes and performs
//! the instruction (`arm_vcpu::a64`) through [`DeviceBus`], which reads the
//! instruction from the VM's RAM and sends the data accesses to its
//! emulated devices.

use crate::AxVMHal;
use crate::memory::GuestMemory;
use arm_vcpu::a64::{AccessFailed, VmBus};
use axdevice::AxVmDevices;
use axvcpu::{AccessWidth, GuestPhysAddr};
use kspin::SpinNoIrq;

/// Emulates the device access of the last exit, which had no syndrome
/// (`arm_vcpu::a64`), with the VM's RAM and devices.
pub(crate) fn emulate<H: AxVMHal, U: axvcpu::AxVCpuHal>(
    vcpu: &mut crate::arch::ArchVCpu<U>,
    devices: &AxVmDevices,
    memory: &SpinNoIrq<GuestMemory<H>>,
) -> crate::arch::NoSyndrome {
    let mut bus = DeviceBus { devices, memory };
    match vcpu.emulate_no_syndrome(&mut bus) {
        Ok(()) => crate::arch::NoSyndrome::Emulated,
        Err(why) => {
            log::debug!("device access without syndrome not emulated: {why:?}");
            crate::arch::NoSyndrome::Refused
        }
    }
}

/// The VM's RAM (instruction fetch only) and emulated devices (data).
pub(crate) struct DeviceBus<'a, H: AxVMHal> {
    pub(crate) devices: &'a AxVmDevices,
    pub(crate) memory: &'a SpinNoIrq<GuestMemory<H>>,
}

impl<H: AxVMHal> VmBus for DeviceBus<'_, H> {
    fn read_insn(&mut self, ipa: u64) -> Option<u32> {
        let mut bytes = [0u8; 4];
        let gpa = usize::try_from(ipa).ok()?;
        self.memory.lock().read_ram(gpa, &mut bytes).ok()?;
        Some(u32::from_le_bytes(bytes))
    }

    /// An access to RAM or to nothing fails: only devices are emulated
    /// (an instruction whose accesses reach RAM as well as a device, say a
    /// pair across the page boundary between them, gets an external
    /// abort).
    fn device_access(&mut self, ipa: u64, width: AccessWidth, write: bool, data: u64) -> Result<u64, AccessFailed> {
        let addr = GuestPhysAddr::from(usize::try_from(ipa).map_err(|_| AccessFailed)?);
        let result = if write {
            self.devices.handle_mmio_write(addr, width, data).map(|()| 0)
        } else {
            self.devices.handle_mmio_read(addr, width)
        };
        result.map_err(|_| AccessFailed)
    }
}
