//! Physical interrupts of devices given to a VM (`passthrough_devices` with
//! an `irq`). Each such SPI is routed to the physical CPU of the vCPU the
//! guest's GIC routes it to at start (vCPU 0), and forwarded:
//!
//! - `interrupt_mode = "emu"`: the host takes the SPI, masks it, and raises
//!   the same INTID's line in the VM's virtual GIC; when the guest
//!   deactivates it, the VM layer asks for it to be unmasked again
//!   (`AxVCpuHal::unmask_guest_irq`), and a device that still asserts it
//!   interrupts again. Works for any interrupt, at the price of an exit
//!   when the guest ends it.
//! - `interrupt_mode = "passthrough"`: the host takes the SPI, only drops
//!   its priority (it stays active), and raises the virtual line; the
//!   virtual GIC delivers it through a list register linked to the physical
//!   interrupt (HW bit), so the guest's deactivation deactivates it in the
//!   physical GIC without an exit.

use crate::vm::{Vm, VmRef};
use alloc::{sync::Weak, vec::Vec};
use axvm::config::VMInterruptMode;
use kspin::SpinNoIrq;

/// A forwarded SPI: its INTID, its VM, and whether it is linked (HW bit).
struct Forwarded {
    intid: u32,
    vm: Weak<Vm>,
    linked: bool,
}

/// The forwarded SPIs.
static FORWARDED: SpinNoIrq<Vec<Forwarded>> = SpinNoIrq::new(Vec::new());

fn on_spi(intid: u32) {
    let found = FORWARDED
        .lock()
        .iter()
        .find(|f| f.intid == intid)
        .map(|f| (f.vm.upgrade(), f.linked));
    match found {
        Some((Some(vm), linked)) if !vm.shutting_down() => {
            if linked {
                axhal::irq::leave_active();
            } else {
                axhal::irq::set_enabled_on_this_cpu(intid, false);
            }
            vm.set_irq_level(intid, true);
        }
        // Its VM is gone: the interrupt stays masked.
        _ => {
            axhal::irq::set_enabled_on_this_cpu(intid, false);
        }
    }
}

/// Whether `intid` is a linked forwarded SPI.
pub fn is_linked(intid: u32) -> bool {
    FORWARDED.lock().iter().any(|f| f.intid == intid && f.linked)
}

/// Forwards the SPIs of `vm`'s passthrough devices to it. A device whose
/// interrupt is already forwarded to another VM keeps going there; this is
/// logged.
pub fn forward(vm: &VmRef, target_cpu: usize) {
    let linked = vm.config().interrupt_mode() == VMInterruptMode::Passthrough;
    for dev in vm.config().pass_through_devices() {
        let Ok(intid) = u32::try_from(dev.irq_id) else { continue };
        if !(32..1020).contains(&intid) {
            continue;
        }
        let mut all = FORWARDED.lock();
        all.retain(|f| f.vm.strong_count() != 0);
        if all.iter().any(|f| f.intid == intid) {
            log::error!(
                "{}: IRQ {intid} of {} is already forwarded to another VM",
                vm.describe(),
                dev.name
            );
            continue;
        }
        all.push(Forwarded {
            intid,
            vm: alloc::sync::Arc::downgrade(vm),
            linked,
        });
        drop(all);
        if let Some(vgic) = vm.vgic() {
            vgic.set_forwarded(intid, true);
            vgic.set_hw_linked(intid, linked);
        }
        axhal::irq::HANDLERS.unregister(intid);
        let ok = axhal::irq::HANDLERS.register(intid, on_spi)
            && axhal::irq::route_spi(intid, target_cpu)
            && axhal::irq::enable_on_this_cpu(intid);
        if !ok {
            log::error!("{}: cannot forward IRQ {intid} of {}", vm.describe(), dev.name);
        }
    }
}

/// Stops forwarding the SPIs of VM `vm_id` (and of VMs already freed):
/// masks them and deactivates any the guest left active.
pub fn release(vm_id: usize) {
    let mut all = FORWARDED.lock();
    all.retain(|f| {
        let mine = f.vm.upgrade().is_none_or(|v| v.id() == vm_id);
        if mine {
            axhal::irq::set_enabled_on_this_cpu(f.intid, false);
            axhal::irq::deactivate(f.intid);
            axhal::irq::HANDLERS.unregister(f.intid);
        }
        !mine
    });
}
