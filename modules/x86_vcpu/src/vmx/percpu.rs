//! [`VmxPerCpuState`]: VMXON on one physical CPU.

use axerrno::{AxError, AxResult};
use axvcpu::{AxArchPerCpu, AxVCpuHal};

use super::controls::{FeatureControlPlan, VmxBasic, feature_control_plan, fixed_bits_ok};
use crate::frame::PhysFrame;
use crate::hw::{self, bits};
use crate::msr::Msr;

/// One physical CPU's VMX state (the seed's `VmxPerCpuState`).
pub struct VmxPerCpuState<H: AxVCpuHal> {
    cpu_id: usize,
    /// The VMCS revision identifier (from IA32_VMX_BASIC).
    pub(crate) vmcs_revision_id: u32,
    /// The VMXON region, while VMX is on.
    vmxon_region: Option<PhysFrame<H>>,
}

impl<H: AxVCpuHal> AxArchPerCpu for VmxPerCpuState<H> {
    fn new(cpu_id: usize) -> AxResult<Self> {
        Ok(Self {
            cpu_id,
            vmcs_revision_id: 0,
            vmxon_region: None,
        })
    }

    fn is_enabled(&self) -> bool {
        hw::cr4() & bits::CR4_VMXE != 0 && self.vmxon_region.is_some()
    }

    /// Checks CPUID for VMX, IA32_FEATURE_CONTROL (locking it with VMX
    /// enabled when the firmware left it unlocked), IA32_VMX_BASIC and the
    /// CR0/CR4 fixed bits, then executes VMXON. `Unsupported`: no VMX or
    /// the firmware disabled it; `ResourceBusy`: CR4.VMXE was already set
    /// (someone else is in VMX operation); `BadState`: CR0/CR4 do not meet
    /// the fixed bits, or VMXON failed.
    fn hardware_enable(&mut self) -> AxResult {
        if !super::has_hardware_support() {
            return Err(AxError::Unsupported);
        }
        if hw::cr4() & bits::CR4_VMXE != 0 {
            return Err(AxError::ResourceBusy);
        }
        match feature_control_plan(Msr::IA32_FEATURE_CONTROL.read()) {
            FeatureControlPlan::Ready => {}
            // SAFETY: the MSR is unlocked, so the write is allowed; it only
            // allows VMXON outside SMX and locks the MSR.
            FeatureControlPlan::Write(v) => unsafe { Msr::IA32_FEATURE_CONTROL.write(v) },
            FeatureControlPlan::Disabled => {
                log::error!(
                    "CPU {}: VMX disabled by the firmware (IA32_FEATURE_CONTROL)",
                    self.cpu_id
                );
                return Err(AxError::Unsupported);
            }
        }
        let basic = VmxBasic::from_msr(Msr::IA32_VMX_BASIC.read());
        basic.check()?;
        hw::enable_host_fp();
        let c0 = hw::cr0();
        let cr4_vmx = hw::cr4() | bits::CR4_VMXE;
        let cr0_ok = fixed_bits_ok(c0, Msr::IA32_VMX_CR0_FIXED0.read(), Msr::IA32_VMX_CR0_FIXED1.read());
        let cr4_ok = fixed_bits_ok(
            cr4_vmx,
            Msr::IA32_VMX_CR4_FIXED0.read(),
            Msr::IA32_VMX_CR4_FIXED1.read(),
        );
        if !cr0_ok || !cr4_ok {
            log::error!(
                "CPU {}: CR0 {c0:#x} / CR4 {cr4_vmx:#x} break the VMX fixed bits",
                self.cpu_id
            );
            return Err(AxError::BadState);
        }
        let mut region = PhysFrame::<H>::alloc_zero()?;
        region.as_mut()[..4].copy_from_slice(&basic.revision_id.to_le_bytes());
        // SAFETY: CR4.VMXE only enables VMXON; the fixed bits were checked.
        unsafe { hw::write_cr4(cr4_vmx) };
        // SAFETY: the region is a zeroed, 4 KiB-aligned frame with the
        // revision identifier; CR0/CR4 meet the fixed bits.
        if let Err(e) = unsafe { x86::bits64::vmx::vmxon(region.paddr().as_usize() as u64) } {
            // SAFETY: undoes the bit set above.
            unsafe { hw::write_cr4(hw::cr4() & !bits::CR4_VMXE) };
            log::error!("CPU {}: VMXON failed: {e:?}", self.cpu_id);
            return Err(AxError::BadState);
        }
        self.vmcs_revision_id = basic.revision_id;
        self.vmxon_region = Some(region);
        log::info!("CPU {}: VMX on (VMCS revision {:#x})", self.cpu_id, basic.revision_id);
        Ok(())
    }

    fn hardware_disable(&mut self) -> AxResult {
        if !self.is_enabled() {
            return Err(AxError::BadState);
        }
        // SAFETY: VMX is on (checked); no VMCS of this CPU is used after
        // this (vCPUs are unbound before their CPU leaves VMX).
        unsafe { x86::bits64::vmx::vmxoff() }.map_err(|_| AxError::BadState)?;
        // SAFETY: VMX is off, so CR4.VMXE may be cleared.
        unsafe { hw::write_cr4(hw::cr4() & !bits::CR4_VMXE) };
        self.vmxon_region = None;
        Ok(())
    }
}
