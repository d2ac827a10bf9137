//! What the manager does with the exits a VM returns: the vCPU power
//! requests (CPU_ON, CPU_OFF), the VM's own power (off, reset), waiting for
//! an interrupt, hypercalls (answered by the architecture's ABI through
//! [`VmmHal::hypercall`]), host interrupts (the end of a time slice when
//! another vCPU waits for the CPU), and
//! exits nobody handles (the VM is stopped with the reason).

use crate::hal::{CpuOnResult, GuestServices, Power, VmmHal};
use crate::run::Run;
use crate::vmm::Vmm;
use alloc::sync::Arc;
use axvcpu::AxVCpuExitReason;
use core::sync::atomic::{AtomicBool, Ordering};

/// What the CPU does after an exit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Run the same vCPU again at once.
    Resume,
    /// Run the same vCPU again at once, its hypercall returning this value
    /// (set as it enters, or at once if it does not run again now).
    Answer(u64),
    /// It stopped running for now (powered off, its VM stopping): look at
    /// the other vCPUs of this CPU.
    Yield,
    /// A host interrupt ended the guest run: its slice may go on when no
    /// other vCPU waits for this CPU, else look at the others.
    Interrupted,
    /// It waits for an interrupt.
    Halt,
}

/// The calling vCPU, as a hypercall handler sees the manager.
struct Caller<'a> {
    run: &'a Run,
    vcpu: usize,
}

impl GuestServices for Caller<'_> {
    fn vm_id(&self) -> usize {
        self.run.vm.id()
    }

    fn vcpu_id(&self) -> usize {
        self.vcpu
    }

    fn vcpu_power(&self, arch_id: u64) -> Option<Power> {
        self.run.vcpu_by_arch_id(arch_id).map(|s| s.power())
    }

    fn console_write(&self, bytes: &[u8]) {
        self.run.sink.write_bytes(self.run.vm.name(), bytes);
    }
}

/// Handles one exit of vCPU `vcpu` of `run`.
pub fn handle<P: VmmHal>(vmm: &Vmm<P>, run: &Arc<Run>, vcpu: usize, exit: AxVCpuExitReason) -> Next {
    let vm = &run.vm;
    match exit {
        AxVCpuExitReason::Nothing => {}
        AxVCpuExitReason::ExternalInterrupt { .. } => {
            interrupted::<P>(run, vcpu);
            return Next::Interrupted;
        }
        AxVCpuExitReason::Halt => {
            run.sink.show_partial(vm.name());
            return Next::Halt;
        }
        AxVCpuExitReason::Hypercall { nr, args } => {
            let value = P::hypercall(&Caller { run, vcpu }, nr, args);
            return answer(run, vcpu, value);
        }
        AxVCpuExitReason::CpuUp {
            target_cpu,
            entry_point,
            arg,
        } => {
            let result = cpu_on::<P>(run, target_cpu, entry_point.as_usize(), arg);
            if let Some(status) = P::cpu_on_status(result) {
                return answer(run, vcpu, status);
            }
        }
        AxVCpuExitReason::CpuDown { .. } => {
            if let Some(s) = run.vcpus.get(vcpu) {
                s.transition(Power::On, Power::Off);
            }
            return Next::Yield;
        }
        AxVCpuExitReason::SystemDown => vmm.stop_run(run, format_args!("powered off by the guest (vCPU {vcpu})")),
        AxVCpuExitReason::SystemReset => vmm.reset_run(run, vcpu),
        AxVCpuExitReason::SendIPI { .. } => {
            static ONCE: AtomicBool = AtomicBool::new(false);
            if !ONCE.swap(true, Ordering::Relaxed) {
                log::warn!(
                    "VM {} ({}): an IPI from a VM without an interrupt controller; ignored",
                    vm.id(),
                    vm.name()
                );
            }
        }
        AxVCpuExitReason::Unsupported { raw, detail } => vmm.stop_run(
            run,
            format_args!("vCPU {vcpu}: unhandled exception (syndrome {raw:#x}, address {detail:#x})"),
        ),
        other => vmm.stop_run(run, format_args!("vCPU {vcpu}: unhandled exit {other}")),
    }
    if vm.shutting_down() { Next::Yield } else { Next::Resume }
}

/// What a host interrupt that ended a guest run of vCPU `vcpu` asks of
/// the manager whether or not the vCPU goes on: a vCPU that waits in the
/// guest does not say so, so at most once a host tick a partial line that
/// stood still since the last look is shown (a prompt).
pub fn interrupted<P: VmmHal>(run: &Run, vcpu: usize) {
    if let Some(s) = run.vcpus.get(vcpu)
        && s.waits_in_guest()
        && s.partial_look_due(P::now_ticks(), crate::slice::tick_in_ticks(P::ticks_per_second()))
    {
        run.sink.show_partial_if_still(run.vm.name());
    }
}

/// Resumes vCPU `vcpu` with `value` as its hypercall's result, or sets
/// the result now if its VM stops.
fn answer(run: &Run, vcpu: usize, value: u64) -> Next {
    if run.vm.shutting_down() {
        run.vm.set_return_value(vcpu, value);
        Next::Yield
    } else {
        Next::Answer(value)
    }
}

/// A guest's CPU_ON of the vCPU it names `target`: exactly one caller wins
/// a race for the same target.
fn cpu_on<P: VmmHal>(run: &Run, target: u64, entry: usize, arg: u64) -> CpuOnResult {
    let Some(t) = run.vcpu_by_arch_id(target) else {
        return CpuOnResult::NoSuchCpu;
    };
    if t.try_start(entry, arg) {
        P::wake_cpu(t.pcpu);
        CpuOnResult::Started
    } else if t.power() == Power::OnPending {
        CpuOnResult::OnPending
    } else {
        CpuOnResult::AlreadyOn
    }
}
