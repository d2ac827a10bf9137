//! What a VM needs from the host.

use axerrno::AxResult;
use axvcpu::{HostPhysAddr, HostVirtAddr};

/// Services the host provides to [`crate::AxVM`] (implemented by `apps/hv`).
/// Every method is an associated function: the host services are global.
pub trait AxVMHal: Sized {
    /// Frame allocation and the linear map for the stage-2 page tables and
    /// `alloc` regions.
    type PagingHandler: page_table_multiarch::PagingHandler;

    /// Reserves the host physical range `[base, base + size)` for an
    /// `identical` RAM region (GPA = HPA) of VM `vm_id`, zeroed. Fails,
    /// reserving nothing, when any of it is not free RAM, with the reason
    /// (in use by the hypervisor, reserved by another VM, not RAM).
    fn alloc_memory_region_at(base: HostPhysAddr, size: usize, vm_id: usize) -> Result<(), alloc::string::String>;
    /// Checks that `[base, base + size)` may be mapped into a VM as a
    /// `reserved` region (GPA = HPA, not allocated): memory the host's
    /// allocator does not manage. The default refuses every range.
    fn check_reserved_region(base: HostPhysAddr, size: usize) -> Result<(), alloc::string::String> {
        let _ = (base, size);
        Err("this host does not offer reserved regions".into())
    }
    /// Returns a range reserved with [`AxVMHal::alloc_memory_region_at`].
    fn dealloc_memory_region_at(base: HostPhysAddr, size: usize);
    /// Host physical address of a host virtual address.
    fn virt_to_phys(vaddr: HostVirtAddr) -> HostPhysAddr;
    /// Host monotonic time in nanoseconds.
    fn current_time_nanos() -> u64;
    /// Host time in ticks of the counter timer deadlines are given in
    /// (`vcpu_timer_deadlines`).
    fn current_ticks() -> u64;
    /// Ticks of that counter per second.
    fn ticks_per_sec() -> u64;
    /// Makes sure this physical CPU is interrupted (or woken) no later than
    /// tick `deadline`: an emulated timer of the vCPU running here is due
    /// then.
    fn wake_no_later_than_ticks(deadline: u64);
    /// Id of the VM whose vCPU runs on this physical CPU.
    fn current_vm_id() -> usize;
    /// Id of the vCPU that runs on this physical CPU.
    fn current_vcpu_id() -> usize;
    /// Id of this physical CPU.
    fn current_pcpu_id() -> usize;
    /// The physical CPU vCPU `vcpu_id` of VM `vm_id` runs on.
    fn vcpu_resides_on(vm_id: usize, vcpu_id: usize) -> AxResult<usize>;
    /// Makes interrupt `irq` pending for that vCPU (on its physical CPU).
    fn inject_irq_to_vcpu(vm_id: usize, vcpu_id: usize, irq: usize) -> AxResult;
}
