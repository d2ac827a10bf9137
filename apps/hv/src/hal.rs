//! The host services the VM crates need, implemented on the host modules.

use axerrno::{AxError, AxResult};
use axvcpu::{AxVCpuHal, HostPhysAddr, HostVirtAddr};
use axvm::AxVMHal;
use memory_addr::{PhysAddr, VirtAddr};

/// Frames for stage-2 tables and guest RAM, from `axalloc`. The host maps
/// RAM 1:1, so physical and virtual addresses are equal.
pub struct PagingHandlerImpl;

impl page_table_multiarch::PagingHandler for PagingHandlerImpl {
    fn alloc_frames(num: usize, align: usize) -> Option<PhysAddr> {
        axalloc::alloc_frames(num, align / axalloc::PAGE_SIZE).map(PhysAddr::from)
    }

    fn dealloc_frames(paddr: PhysAddr, num: usize) {
        axalloc::dealloc_frames(paddr.as_usize(), num, 1)
    }

    fn phys_to_virt(paddr: PhysAddr) -> VirtAddr {
        VirtAddr::from(paddr.as_usize())
    }
}

/// [`AxVMHal`] on the host modules.
pub struct AxVMHalImpl;

impl AxVMHal for AxVMHalImpl {
    type PagingHandler = PagingHandlerImpl;

    /// Identical (GPA = HPA) RAM: the range taken out of the host frame
    /// allocator (which zeroes it). Identical device regions (passthrough
    /// MMIO) do not come here.
    fn alloc_memory_region_at(base: HostPhysAddr, size: usize, vm_id: usize) -> Result<(), alloc::string::String> {
        axalloc::reserve_range(base.as_usize(), size, vm_id).map_err(|e| alloc::format!("{e}"))
    }

    /// A reserved region must lie outside the RAM the frame allocator
    /// manages (memory the host kept back at boot, or device memory).
    fn check_reserved_region(base: HostPhysAddr, size: usize) -> Result<(), alloc::string::String> {
        match axalloc::GLOBAL.first_managed_in(base.as_usize(), size) {
            None => Ok(()),
            Some(at) => Err(alloc::format!(
                "{at:#x} is RAM the hypervisor allocates from; use map type 1 (identical) for it"
            )),
        }
    }

    fn dealloc_memory_region_at(base: HostPhysAddr, size: usize) {
        axalloc::release_range(base.as_usize(), size);
    }

    fn virt_to_phys(vaddr: HostVirtAddr) -> HostPhysAddr {
        HostPhysAddr::from(vaddr.as_usize())
    }

    fn current_time_nanos() -> u64 {
        axhal::time::current_time_nanos()
    }

    fn current_ticks() -> u64 {
        axhal::time::current_ticks()
    }

    fn ticks_per_sec() -> u64 {
        axhal::time::ticks_per_sec()
    }

    fn wake_no_later_than_ticks(deadline: u64) {
        axhal::time::wake_no_later_than_ticks(deadline);
    }

    fn current_vm_id() -> usize {
        axvcpu::current_vcpu().map_or(usize::MAX, |c| c.vm_id)
    }

    fn current_vcpu_id() -> usize {
        axvcpu::current_vcpu().map_or(usize::MAX, |c| c.vcpu_id)
    }

    fn current_pcpu_id() -> usize {
        axhal::percpu::cpu_id()
    }

    fn vcpu_resides_on(vm_id: usize, vcpu_id: usize) -> AxResult<usize> {
        crate::VMM.vcpu_pcpu(vm_id, vcpu_id).ok_or(AxError::NotFound)
    }

    /// The VM's virtual GIC holds an interrupt for that vCPU: make it
    /// notice (wake it if halted, interrupt its CPU if it runs elsewhere).
    fn inject_irq_to_vcpu(vm_id: usize, vcpu_id: usize, _irq: usize) -> AxResult {
        if crate::VMM.kick(vm_id, vcpu_id) {
            Ok(())
        } else {
            Err(AxError::NotFound)
        }
    }
}

/// [`AxVCpuHal`] on the host modules.
pub struct AxVCpuHalImpl;

impl AxVCpuHal for AxVCpuHalImpl {
    fn alloc_frame() -> Option<HostPhysAddr> {
        axalloc::alloc_frames(1, 1).map(HostPhysAddr::from)
    }

    fn dealloc_frame(paddr: HostPhysAddr) {
        axalloc::dealloc_frames(paddr.as_usize(), 1, 1)
    }

    fn phys_to_virt(paddr: HostPhysAddr) -> HostVirtAddr {
        HostVirtAddr::from(paddr.as_usize())
    }

    fn virt_to_phys(vaddr: HostVirtAddr) -> HostPhysAddr {
        HostPhysAddr::from(vaddr.as_usize())
    }

    fn irq_fetch() -> usize {
        crate::arch::irq_fetch()
    }

    fn handle_host_irq(irq: usize) {
        crate::arch::handle_host_irq(irq);
    }

    fn current_time_nanos() -> u64 {
        axhal::time::current_time_nanos()
    }

    fn unmask_guest_irq(irq: usize) {
        crate::arch::unmask_guest_irq(irq);
    }
}
