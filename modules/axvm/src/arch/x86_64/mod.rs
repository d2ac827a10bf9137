//! x86_64: the vCPU (SVM or VMX, picked at run time), the stage-2 table
//! that matches it (NPT or EPT), and how a VM config becomes the vCPUs'
//! create parameters.
//!
//! An x86 VM has no virtual GIC: its interrupt controller is a local APIC
//! per vCPU (`axdevice::VLapic`, driven by the VM layer), and its power
//! ports are `axdevice`'s.

mod npt;
mod vcpu;

use crate::AxVMConfig;
use alloc::vec::Vec;
use axaddrspace::{AddrSpace, GuestPhysAddr, MappingFlags};
use axerrno::AxResult;
use axvmconfig::EntryMode;
use memory_addr::PhysAddr;
use page_table_multiarch::PagingHandler;
use x86_vcpu::{Backend, StartMode, X86VCpuCreateConfig};

pub use vcpu::{X86PerCpu, X86VCpu};

/// The vCPU of this architecture.
pub type ArchVCpu<U> = X86VCpu<U>;
/// The per-physical-CPU state of this architecture.
pub type ArchPerCpu<U> = X86PerCpu<U>;

/// x86 VMs have no virtual GIC.
pub(crate) const HAS_GIC: bool = false;
/// x86 VMs have a local APIC per vCPU and the PC power ports.
pub(crate) const PC_DEVICES: bool = true;

/// `"svm"`, `"vmx"`, or `"none"`: the backend this CPU's vCPUs use.
pub fn backend_name() -> &'static str {
    Backend::detect().map_or("none", Backend::name)
}

/// Create parameters of vCPU `vcpu_id`: the boot vCPU starts in the
/// config's `entry_mode` (32-bit protected mode by default) at the image
/// entry, the others in real mode (they wait for INIT and STARTUP, whose
/// vector gives the entry).
pub(crate) fn create_config(
    config: &AxVMConfig,
    vcpu_id: usize,
    phys_id: usize,
    counter: u64,
    vm_key: u64,
) -> X86VCpuCreateConfig {
    let _ = (phys_id, counter, vm_key);
    let start_mode = match (vcpu_id, config.entry_mode()) {
        (0, EntryMode::Protected32) => StartMode::Protected32,
        _ => StartMode::Real,
    };
    X86VCpuCreateConfig { start_mode }
}

/// No virtual counter offset on x86.
pub(crate) fn counter_offset() -> u64 {
    0
}

/// No host interrupt belongs to an x86 guest.
pub(crate) fn is_guest_owned_irq(_irq: usize) -> bool {
    false
}

pub(crate) fn setup_config(_config: &AxVMConfig) {}

/// The value an MMIO load leaves in its destination register (`movsx`
/// sign-extends, `movzx` and `mov` zero-extend; the vCPU writes it to the
/// register part the instruction names).
pub(crate) fn mmio_read_value(value: u64, width: axvcpu::AccessWidth, signed: bool, reg: axvcpu::AccessWidth) -> u64 {
    use x86_vcpu::decode::Extension;
    let ext = if signed { Extension::Sign } else { Extension::Zero };
    x86_vcpu::exit::mmio::load_value(value, width, ext, reg)
}

/// The VM's stage-2 table: NPT under SVM, EPT under VMX.
pub(crate) enum Stage2<H: PagingHandler> {
    /// AMD nested page table.
    Npt(npt::NptSpace<H>),
    /// Intel EPT (`axaddrspace`).
    Ept(AddrSpace<H>),
}

/// An empty stage-2 table for guest physical addresses below `limit`.
pub(crate) fn new_stage2<H: PagingHandler>(limit: usize) -> AxResult<Stage2<H>> {
    Ok(match vcpu::backend()? {
        Backend::Svm => Stage2::Npt(npt::NptSpace::new(limit)?),
        Backend::Vmx => Stage2::Ept(AddrSpace::new_empty(4, GuestPhysAddr::from(0), limit)?),
    })
}

impl<H: PagingHandler> Stage2<H> {
    pub(crate) fn page_table_root(&self) -> PhysAddr {
        match self {
            Self::Npt(t) => t.page_table_root(),
            Self::Ept(t) => t.page_table_root(),
        }
    }
    pub(crate) fn map_linear(
        &mut self,
        gpa: GuestPhysAddr,
        hpa: PhysAddr,
        size: usize,
        flags: MappingFlags,
    ) -> AxResult {
        match self {
            Self::Npt(t) => t.map_linear(gpa, hpa, size, flags),
            Self::Ept(t) => t.map_linear(gpa, hpa, size, flags),
        }
    }
    pub(crate) fn unmap(&mut self, gpa: GuestPhysAddr, size: usize) -> AxResult {
        match self {
            Self::Npt(t) => t.unmap(gpa, size),
            Self::Ept(t) => t.unmap(gpa, size),
        }
    }
    pub(crate) fn clear(&mut self) {
        match self {
            Self::Npt(t) => t.clear(),
            Self::Ept(t) => t.clear(),
        }
    }
    pub(crate) fn handle_page_fault(&mut self, gpa: GuestPhysAddr, flags: MappingFlags) -> bool {
        match self {
            Self::Npt(t) => t.handle_page_fault(gpa, flags),
            Self::Ept(t) => t.handle_page_fault(gpa, flags),
        }
    }
    pub(crate) fn translate(&self, gpa: GuestPhysAddr) -> Option<PhysAddr> {
        match self {
            Self::Npt(t) => t.translate(gpa),
            Self::Ept(t) => t.translate(gpa),
        }
    }
    pub(crate) fn translated_byte_buffer(&self, gpa: GuestPhysAddr, len: usize) -> Option<Vec<&'static mut [u8]>> {
        match self {
            Self::Npt(t) => t.translated_byte_buffer(gpa, len),
            Self::Ept(t) => t.translated_byte_buffer(gpa, len),
        }
    }
}

/// Device accesses the x86 vCPU could not decode are not emulated here:
/// the VM stops.
pub(crate) fn emulate_without_syndrome<H: crate::AxVMHal, U: axvcpu::AxVCpuHal>(
    _vcpu: &mut ArchVCpu<U>,
    _devices: &axdevice::AxVmDevices,
    _memory: &kspin::SpinNoIrq<crate::memory::GuestMemory<H>>,
) -> super::NoSyndrome {
    super::NoSyndrome::Unsupported
}
