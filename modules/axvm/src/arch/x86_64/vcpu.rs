//! The x86 vCPU and per-CPU state: AMD SVM or Intel VMX, whichever the CPU
//! has ([`x86_vcpu::Backend::detect`], VMX first), picked at run time.

use axerrno::{AxError, AxResult};
use axvcpu::{
    AxArchPerCpu, AxArchVCpu, AxVCpuExitReason, AxVCpuHal, GuestPhysAddr, HostPhysAddr, LastExitFault, VCpuId, VMId,
};
use x86_vcpu::{Backend, SvmPerCpuState, SvmVcpu, VmxPerCpuState, VmxVcpu, X86VCpuCreateConfig};

/// The backend of this CPU, or `Unsupported`.
pub fn backend() -> AxResult<Backend> {
    Backend::detect().ok_or(AxError::Unsupported)
}

/// An x86 vCPU on either backend.
pub enum X86VCpu<U: AxVCpuHal> {
    /// AMD SVM with nested paging.
    Svm(SvmVcpu<U>),
    /// Intel VMX with EPT.
    Vmx(VmxVcpu<U>),
}

/// Calls `$body` on the backend's vCPU.
macro_rules! each {
    ($self:expr, $v:ident => $body:expr) => {
        match $self {
            X86VCpu::Svm($v) => $body,
            X86VCpu::Vmx($v) => $body,
        }
    };
}

impl<U: AxVCpuHal> AxArchVCpu for X86VCpu<U> {
    type CreateConfig = X86VCpuCreateConfig;
    type SetupConfig = ();

    fn new(vm_id: VMId, vcpu_id: VCpuId, config: X86VCpuCreateConfig) -> AxResult<Self> {
        Ok(match backend()? {
            Backend::Svm => Self::Svm(<SvmVcpu<U> as AxArchVCpu>::new(vm_id, vcpu_id, config)?),
            Backend::Vmx => Self::Vmx(<VmxVcpu<U> as AxArchVCpu>::new(vm_id, vcpu_id, config)?),
        })
    }
    fn set_entry(&mut self, entry: GuestPhysAddr) -> AxResult {
        each!(self, v => v.set_entry(entry))
    }
    fn set_ept_root(&mut self, root: HostPhysAddr) -> AxResult {
        each!(self, v => v.set_ept_root(root))
    }
    fn setup(&mut self, config: ()) -> AxResult {
        each!(self, v => AxArchVCpu::setup(v, config))
    }
    fn run(&mut self) -> AxResult<AxVCpuExitReason> {
        each!(self, v => v.run())
    }
    fn bind(&mut self) -> AxResult {
        each!(self, v => v.bind())
    }
    fn unbind(&mut self) -> AxResult {
        each!(self, v => v.unbind())
    }
    fn set_gpr(&mut self, reg: usize, val: usize) {
        each!(self, v => v.set_gpr(reg, val))
    }
    fn inject_interrupt(&mut self, vector: usize) -> AxResult {
        each!(self, v => v.inject_interrupt(vector))
    }
    fn set_return_value(&mut self, val: usize) {
        each!(self, v => v.set_return_value(val))
    }
    fn inject_fault_for_last_exit(&mut self, fault: LastExitFault) -> AxResult {
        each!(self, v => v.inject_fault_for_last_exit(fault))
    }
}

/// An x86 CPU's virtualization state on either backend.
pub enum X86PerCpu<U: AxVCpuHal> {
    /// SVM (EFER.SVME, the host save area).
    Svm(SvmPerCpuState<U>),
    /// VMX (VMXON).
    Vmx(VmxPerCpuState<U>),
}

impl<U: AxVCpuHal> AxArchPerCpu for X86PerCpu<U> {
    fn new(cpu_id: usize) -> AxResult<Self> {
        Ok(match backend()? {
            Backend::Svm => Self::Svm(SvmPerCpuState::new(cpu_id)?),
            Backend::Vmx => Self::Vmx(VmxPerCpuState::new(cpu_id)?),
        })
    }
    fn is_enabled(&self) -> bool {
        match self {
            Self::Svm(p) => p.is_enabled(),
            Self::Vmx(p) => p.is_enabled(),
        }
    }
    fn hardware_enable(&mut self) -> AxResult {
        match self {
            Self::Svm(p) => p.hardware_enable(),
            Self::Vmx(p) => p.hardware_enable(),
        }
    }
    fn hardware_disable(&mut self) -> AxResult {
        match self {
            Self::Svm(p) => p.hardware_disable(),
            Self::Vmx(p) => p.hardware_disable(),
        }
    }
}
