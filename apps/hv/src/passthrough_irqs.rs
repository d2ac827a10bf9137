//! Physical interrupts of devices given to a VM (`passthrough_devices` with
//! an `irq`): the host takes each such SPI, masks it, and raises the same
//! INTID's line in the VM's virtual GIC; when the guest deactivates it, the
//! VM layer asks for it to be unmasked again (`AxVCpuHal::unmask_guest_irq`),
//! and a device that still asserts it interrupts again. This is how a
//! level-sensitive line is forwarded without the host knowing the device.

use crate::vmm::{Vm, VmRef};
use alloc::{sync::Weak, vec::Vec};
use kspin::SpinNoIrq;

/// Which VM owns each forwarded SPI.
static OWNERS: SpinNoIrq<Vec<(u32, Weak<Vm>)>> = SpinNoIrq::new(Vec::new());

fn on_spi(intid: u32) {
    axhal::irq::set_enabled_on_this_cpu(intid, false);
    let owner = OWNERS
        .lock()
        .iter()
        .find(|(i, _)| *i == intid)
        .and_then(|(_, vm)| vm.upgrade());
    match owner {
        Some(vm) if !vm.shutting_down() => vm.set_irq_level(intid, true),
        // Its VM is gone: the interrupt stays masked.
        _ => {}
    }
}

/// Forwards the SPIs of `vm`'s passthrough devices to it. A device whose
/// interrupt is already forwarded to another VM keeps going there; this is
/// logged.
pub fn forward(vm: &VmRef) {
    for dev in vm.config().pass_through_devices() {
        let Ok(intid) = u32::try_from(dev.irq_id) else { continue };
        if !(32..1020).contains(&intid) {
            continue;
        }
        let mut owners = OWNERS.lock();
        owners.retain(|(_, w)| w.strong_count() != 0);
        if owners.iter().any(|(i, _)| *i == intid) {
            log::error!(
                "{}: IRQ {intid} of {} is already forwarded to another VM",
                vm.describe(),
                dev.name
            );
            continue;
        }
        owners.push((intid, alloc::sync::Arc::downgrade(vm)));
        drop(owners);
        if let Some(vgic) = vm.vgic() {
            vgic.set_forwarded(intid, true);
        }
        axhal::irq::HANDLERS.unregister(intid);
        if axhal::irq::HANDLERS.register(intid, on_spi) && axhal::irq::enable_on_this_cpu(intid) {
            log::info!("{}: IRQ {intid} of {} forwarded", vm.describe(), dev.name);
        } else {
            log::error!("{}: cannot forward IRQ {intid} of {}", vm.describe(), dev.name);
        }
    }
}
