//! What the hypervisor does with the exits the VM layer returns.

use crate::vmm::{Power, Slot, stop_vm};
use alloc::sync::Arc;
use arm_vcpu::{Hypercall, decode_hypercall, hypercall as hc, psci};
use axvcpu::AxVCpuExitReason;
use core::sync::atomic::{AtomicBool, Ordering};

/// Sets the value the vCPU's hypercall returns.
fn reply(s: &Slot, value: u64) {
    if let Some(v) = s.vm.vcpu(s.vcpu_id) {
        let _ = v.lock().set_return_value(value as usize);
    }
}

/// What the CPU does after an exit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Run the same vCPU again at once (a hypercall answered, ...).
    Resume,
    /// Its time slice ended (a host interrupt) or it stopped: look at the
    /// other vCPUs of this CPU.
    Yield,
    /// It waits for an interrupt (WFI): the CPU may sleep if no other
    /// vCPU of it runs.
    Halt,
}

/// Handles one exit of `s`'s vCPU.
pub fn handle(s: &Arc<Slot>, exit: AxVCpuExitReason) -> Next {
    match exit {
        AxVCpuExitReason::Nothing => {}
        AxVCpuExitReason::ExternalInterrupt { .. } => return Next::Yield,
        AxVCpuExitReason::Halt => {
            crate::console::show_partial(s.vm.id(), s.vm.name());
            return Next::Halt;
        }
        AxVCpuExitReason::Hypercall { nr, args } => hypercall(s, nr, args),
        AxVCpuExitReason::CpuUp {
            target_cpu,
            entry_point,
            arg,
        } => cpu_up(s, target_cpu, entry_point.as_usize(), arg),
        AxVCpuExitReason::CpuDown { .. } => {
            s.transition(Power::On, Power::Off);
            return Next::Yield;
        }
        AxVCpuExitReason::SystemDown => stop_vm(&s.vm, format_args!("powered off by the guest (vCPU {})", s.vcpu_id)),
        AxVCpuExitReason::SendIPI { .. } => {
            static ONCE: AtomicBool = AtomicBool::new(false);
            if !ONCE.swap(true, Ordering::Relaxed) {
                log::warn!(
                    "{}: an SGI from a VM without interrupts (interrupt_mode no_irq); ignored",
                    s.vm.describe()
                );
            }
        }
        AxVCpuExitReason::Unsupported { raw, detail } => stop_vm(
            &s.vm,
            format_args!(
                "vCPU {}: unhandled exception (syndrome {raw:#x}, address {detail:#x})",
                s.vcpu_id
            ),
        ),
        other => stop_vm(&s.vm, format_args!("vCPU {}: unhandled exit {other:?}", s.vcpu_id)),
    }
    if s.vm.shutting_down() {
        Next::Yield
    } else {
        Next::Resume
    }
}

/// MPIDR affinity bits (Aff3, Aff2, Aff1, Aff0).
const MPIDR_AFF_MASK: u64 = 0xff_00ff_ffff;

fn find_by_mpidr(s: &Slot, mpidr: u64) -> Option<Arc<Slot>> {
    let id = mpidr & MPIDR_AFF_MASK;
    (0..s.vm.vcpu_num())
        .find(|&i| axvm::fdt::vcpu_mpidr(i) == id)
        .and_then(|i| crate::vmm::find_slot(s.vm.id(), i))
}

/// PSCI CPU_ON: exactly one caller wins a race for the same target.
fn cpu_up(s: &Slot, target: u64, entry: usize, arg: u64) {
    let Some(t) = find_by_mpidr(s, target) else {
        return reply(s, psci::ret(psci::INVALID_PARAMETERS));
    };
    if t.try_start(entry, arg) {
        axhal::irq::wake_cpu(t.pcpu);
        reply(s, psci::ret(psci::SUCCESS));
    } else if t.power() == Power::OnPending {
        reply(s, psci::ret(psci::ON_PENDING));
    } else {
        reply(s, psci::ret(psci::ALREADY_ON));
    }
}

fn hypercall(s: &Slot, nr: u64, args: [u64; 6]) {
    let id = nr as u32;
    if id == psci::PSCI_AFFINITY_INFO_32 || id == psci::PSCI_AFFINITY_INFO_64 {
        let answer = match (find_by_mpidr(s, args[0]), args[1]) {
            (Some(t), 0) => match t.power() {
                Power::On => psci::AFFINITY_ON,
                Power::Off => psci::AFFINITY_OFF,
                Power::OnPending => psci::AFFINITY_ON_PENDING,
            },
            _ => psci::ret(psci::INVALID_PARAMETERS),
        };
        return reply(s, answer);
    }
    let value = match decode_hypercall(nr, &args) {
        Some(Hypercall::Version) => hc::HC_ABI_VERSION,
        Some(Hypercall::VmId) => s.vm.id() as u64,
        Some(Hypercall::CpuId) => s.vcpu_id as u64,
        Some(Hypercall::PutChar(b)) => {
            crate::console::putchar(s.vm.id(), s.vm.name(), b);
            hc::HC_SUCCESS
        }
        Some(Hypercall::InvalidParameters { .. }) => hc::HC_INVALID_PARAMETERS,
        Some(Hypercall::NotSupported { .. }) | None => hc::HC_NOT_SUPPORTED,
    };
    reply(s, value);
}
