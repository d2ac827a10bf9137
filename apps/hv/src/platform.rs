//! The host services of the VM manager ([`VmmHal`]) on the host modules,
//! and the architecture's answers to guest calls (the hypercall ABI and
//! PSCI return values).

use crate::vm::HvVm;
use alloc::{string::String, sync::Arc};
use arm_vcpu::{Hypercall, decode_hypercall, hypercall as hc, psci};
use axdevice::ConsoleSink;
use axvmm::{CpuOnResult, GuestServices, ManagedVm, Power, VmImage, VmmHal};

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
        axhal::cpu::wait_for_irq_unless(|| ready());
    }

    fn now_ns() -> u64 {
        axhal::time::current_time_nanos()
    }

    fn now_ticks() -> u64 {
        axhal::time::current_ticks()
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
        crate::guest_irqs::timer_fired(cpu)
    }

    fn take_guest_timer_fired(cpu: usize) -> bool {
        crate::guest_irqs::take_timer_fired(cpu)
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
        crate::passthrough_irqs::release(vm.id());
    }

    fn hypercall(guest: &dyn GuestServices, nr: u64, args: [u64; 6]) -> u64 {
        let id = nr as u32;
        if id == psci::PSCI_AFFINITY_INFO_32 || id == psci::PSCI_AFFINITY_INFO_64 {
            return match (guest.vcpu_power(args[0]), args[1]) {
                (Some(Power::On), 0) => psci::AFFINITY_ON,
                (Some(Power::Off), 0) => psci::AFFINITY_OFF,
                (Some(Power::OnPending), 0) => psci::AFFINITY_ON_PENDING,
                _ => psci::ret(psci::INVALID_PARAMETERS),
            };
        }
        match decode_hypercall(nr, &args) {
            Some(Hypercall::Version) => hc::HC_ABI_VERSION,
            Some(Hypercall::VmId) => guest.vm_id() as u64,
            Some(Hypercall::CpuId) => guest.vcpu_id() as u64,
            Some(Hypercall::PutChar(b)) => {
                guest.console_write(&[b]);
                hc::HC_SUCCESS
            }
            Some(Hypercall::InvalidParameters { .. }) => hc::HC_INVALID_PARAMETERS,
            Some(Hypercall::NotSupported { .. }) | None => hc::HC_NOT_SUPPORTED,
        }
    }

    fn cpu_on_status(result: CpuOnResult) -> u64 {
        psci::ret(match result {
            CpuOnResult::Started => psci::SUCCESS,
            CpuOnResult::AlreadyOn => psci::ALREADY_ON,
            CpuOnResult::OnPending => psci::ON_PENDING,
            CpuOnResult::NoSuchCpu => psci::INVALID_PARAMETERS,
        })
    }
}
