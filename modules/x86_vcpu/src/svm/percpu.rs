//! [`SvmPerCpuState`]: EFER.SVME and the host save area on one physical CPU.

use axerrno::{AxError, AxResult};
use axvcpu::{AxArchPerCpu, AxVCpuHal};

use super::definitions::efer;
use crate::frame::PhysFrame;
use crate::hw;
use crate::msr::Msr;

/// VM_CR.SVMDIS (APM 15.30.1): the firmware disabled SVM.
const VM_CR_SVMDIS: u64 = 1 << 4;

/// One physical CPU's SVM state.
pub struct SvmPerCpuState<H: AxVCpuHal> {
    cpu_id: usize,
    /// The host save area VMRUN uses (VM_HSAVE_PA), while SVM is on.
    host_save_area: Option<PhysFrame<H>>,
}

impl<H: AxVCpuHal> AxArchPerCpu for SvmPerCpuState<H> {
    fn new(cpu_id: usize) -> AxResult<Self> {
        Ok(Self {
            cpu_id,
            host_save_area: None,
        })
    }

    fn is_enabled(&self) -> bool {
        Msr::IA32_EFER.read() & efer::SVME != 0 && self.host_save_area.is_some()
    }

    /// Checks CPUID for SVM with nested paging and VM_CR for the
    /// firmware's veto, then sets EFER.SVME and VM_HSAVE_PA.
    /// `Unsupported`: no SVM/NPT or disabled; `ResourceBusy`: EFER.SVME
    /// was already set by someone else.
    fn hardware_enable(&mut self) -> AxResult {
        if !super::has_hardware_support() {
            return Err(AxError::Unsupported);
        }
        let e = Msr::IA32_EFER.read();
        if e & efer::SVME != 0 {
            return Err(AxError::ResourceBusy);
        }
        if Msr::VM_CR.read() & VM_CR_SVMDIS != 0 {
            log::error!("CPU {}: SVM disabled by the firmware (VM_CR.SVMDIS)", self.cpu_id);
            return Err(AxError::Unsupported);
        }
        hw::enable_host_fp();
        let area = PhysFrame::<H>::alloc_zero()?;
        // SAFETY: SVME only enables the SVM instructions (SVMDIS is clear);
        // VM_HSAVE_PA takes a 4 KiB-aligned page this state owns.
        unsafe {
            Msr::IA32_EFER.write(e | efer::SVME);
            Msr::VM_HSAVE_PA.write(area.paddr().as_usize() as u64);
        }
        self.host_save_area = Some(area);
        log::info!("CPU {}: SVM on", self.cpu_id);
        Ok(())
    }

    fn hardware_disable(&mut self) -> AxResult {
        if !self.is_enabled() {
            return Err(AxError::BadState);
        }
        // SAFETY: no guest runs on this CPU any more (vCPUs are unbound
        // first); clearing SVME and VM_HSAVE_PA only disables VMRUN.
        unsafe {
            Msr::VM_HSAVE_PA.write(0);
            Msr::IA32_EFER.write(Msr::IA32_EFER.read() & !efer::SVME);
        }
        self.host_save_area = None;
        Ok(())
    }
}
