//! The host services of the VM manager ([`VmmHal`]) on the host modules,
//! with the architecture's answers to guest calls (the hypercall ABI and
//! CPU-start return values) from [`crate::arch`].

use crate::vm::HvVm;
use alloc::{string::String, sync::Arc};
use axdevice::ConsoleSink;
use axvmm::{CpuOnResult, GuestServices, ManagedVm, VmImage, VmmHal};

/// [`VmmHal`] on `axhal`, `axalloc` and `axlog`.
pub struct HvPlatform;

impl VmmHal for HvPlatform {
    fn cpu_id() -> usize {
        axhal::percpu::cpu_id()
    }

    fn wake_cpu(cpu: usize) {
        axhal::irq::wake_cpu(cpu);
    }

    fn wait_for_irq_unless(ready: &mut dyn FnMut() -> bool) {
        axhal::cpu::wait_for_irq_unless(ready);
    }

    fn now_ns() -> u64 {
        axhal::time::current_time_nanos()
    }

    fn now_ticks() -> u64 {
        axhal::time::current_ticks()
    }

    fn ticks_per_second() -> u64 {
        axhal::time::ticks_per_sec()
    }

    fn wake_no_later_than_ticks(deadline: u64) {
        axhal::time::wake_no_later_than_ticks(deadline);
    }

    fn used_memory_bytes() -> usize {
        axalloc::GLOBAL.stats().used_frames * axalloc::PAGE_SIZE
    }

    fn free_memory_bytes() -> usize {
        axalloc::GLOBAL.stats().free_frames * axalloc::PAGE_SIZE
    }

    fn print(text: &str) {
        axlog::ax_print!("{text}");
    }

    fn getchar() -> Option<u8> {
        axhal::console::getchar()
    }

    fn guest_timer_fired(cpu: usize) -> bool {
        crate::arch::timer_fired(cpu)
    }

    fn take_guest_timer_fired(cpu: usize) -> bool {
        crate::arch::take_timer_fired(cpu)
    }

    fn build_vm(
        image: &VmImage,
        id: usize,
        pcpus: &[usize],
        console: Arc<dyn ConsoleSink>,
    ) -> Result<Arc<dyn ManagedVm>, String> {
        let e = crate::VMS
            .iter()
            .find(|e| e.file == image.file)
            .ok_or_else(|| alloc::format!("{}: not built into this image", image.file))?;
        let vm = crate::vm::build(e, id, pcpus, console)?;
        Ok(Arc::new(HvVm(vm)))
    }

    fn release_vm(vm: &dyn ManagedVm) {
        crate::arch::release_device_irqs(vm.id());
    }

    fn hypercall(guest: &dyn GuestServices, nr: u64, args: [u64; 6]) -> u64 {
        crate::arch::hypercall(guest, nr, args)
    }

    fn cpu_on_status(result: CpuOnResult) -> Option<u64> {
        crate::arch::cpu_on_status(result)
    }
}
