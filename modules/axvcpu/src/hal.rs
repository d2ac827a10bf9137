//! What an architecture's vCPU needs from the host ([`AxVCpuHal`]).

use crate::{HostPhysAddr, HostVirtAddr};

/// Services the host (`apps/hv`, on top of `axhal` and `axalloc`) provides to
/// the architecture vCPU crates.
///
/// The arch vCPU types take it as a generic parameter
/// (`Aarch64VCpu<H: AxVCpuHal>`), so they never import a host module and can
/// be tested against a mock. Every method is an associated function: the host
/// services are global.
pub trait AxVCpuHal {
    /// Allocates one 4 KiB physical frame ([`memory_addr::PAGE_SIZE_4K`]),
    /// aligned to 4 KiB, and returns its host physical address, or `None`
    /// when memory is exhausted. Its contents are unspecified: the caller
    /// initialises it.
    fn alloc_frame() -> Option<HostPhysAddr>;

    /// Frees a frame returned by [`AxVCpuHal::alloc_frame`]. `paddr` must not
    /// be used afterwards.
    fn dealloc_frame(paddr: HostPhysAddr);

    /// Returns the host virtual address at which the hypervisor can access
    /// host physical address `paddr` (its linear map).
    fn phys_to_virt(paddr: HostPhysAddr) -> HostVirtAddr;

    /// Returns the host physical address behind host virtual address `vaddr`
    /// (the inverse of [`AxVCpuHal::phys_to_virt`]).
    fn virt_to_phys(vaddr: HostVirtAddr) -> HostPhysAddr;

    /// Returns the number of the host interrupt that is pending on the
    /// current physical CPU (acknowledged from the interrupt controller),
    /// used when a guest exits because of a physical interrupt.
    fn irq_fetch() -> usize;

    /// Lets the host handle physical interrupt `irq`, which arrived while a
    /// guest was running on the current physical CPU (timer, IPI, a device
    /// the host owns). The host acknowledges and completes it.
    fn handle_host_irq(irq: usize);

    /// Returns the host's monotonic time in nanoseconds since boot.
    fn current_time_nanos() -> u64;

    /// The guest owns physical interrupt `irq` and is ready for it again:
    /// a per-CPU interrupt of a device that is part of the vCPU (its timer)
    /// whose line is idle, or a forwarded SPI the guest has finished with.
    /// The host re-arms it (a PPI on the current CPU): unmasks it if its
    /// handler masked it when it fired, or deactivates it if the handler
    /// left it active. (A timer's physical interrupt is best left active:
    /// the VM delivers timer lines through list registers linked to it, so
    /// that the guest's own deactivation re-arms it without an exit.) The
    /// VM layer calls it for every idle timer line before each guest entry
    /// and after each WFI exit (the vCPU may sleep then, and only its
    /// timer's interrupt can wake it), so it must be cheap when nothing is
    /// left masked or active.
    /// The default does nothing.
    fn unmask_guest_irq(irq: usize) {
        let _ = irq;
    }
}
