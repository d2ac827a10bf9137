//! The VMs, their vCPUs' placement on physical CPUs, and each physical
//! CPU's run loop.
//!
//! Each vCPU has one physical CPU (its config's `phys_cpu_ids`, default: the
//! vCPU id); several vCPUs, of one VM or of several, may share a physical
//! CPU. A physical CPU runs the vCPUs placed on it that are on, round robin
//! (each run lasts until the next exit the VM does not handle itself, at
//! the latest the host timer tick), switching the EL1 and FP/SIMD state
//! with unbind/bind, and waits for an interrupt (WFI) when every one of
//! them is off or halted.

use crate::EmbeddedVm;
use crate::exits::Next;
use crate::hal::{AxVCpuHalImpl, AxVMHalImpl};
use alloc::{
    sync::{Arc, Weak},
    vec::Vec,
};
use axvcpu::{AxArchPerCpu, GuestPhysAddr, VCpuState};
use axvm::{ArchPerCpu, AxVMConfig, AxVMCrateConfig};
use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use kspin::SpinNoIrq;

/// A VM of this hypervisor.
pub type Vm = axvm::AxVM<AxVMHalImpl, AxVCpuHalImpl>;
/// A shared VM.
pub type VmRef = Arc<Vm>;

/// The PSCI power state of a vCPU.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Power {
    /// Not started, or stopped with CPU_OFF.
    Off = 0,
    /// CPU_ON accepted; its CPU has not picked it up yet.
    OnPending = 1,
    /// Running (or halted in WFI).
    On = 2,
}

/// One vCPU and where it runs.
pub struct Slot {
    /// Its VM.
    pub vm: VmRef,
    /// Its id in the VM.
    pub vcpu_id: usize,
    /// The physical CPU that runs it.
    pub pcpu: usize,
    power: AtomicU8,
    /// Waiting in WFI for an interrupt.
    halted: AtomicBool,
    /// Something for it arrived (an interrupt from another vCPU or device).
    wake: AtomicBool,
    /// Entry and x0 of a pending CPU_ON.
    start: SpinNoIrq<(usize, u64)>,
}

impl Slot {
    /// Its power state.
    pub fn power(&self) -> Power {
        match self.power.load(Ordering::Acquire) {
            1 => Power::OnPending,
            2 => Power::On,
            _ => Power::Off,
        }
    }

    /// Moves it from `from` to `to`; false if it was not in `from`.
    pub fn transition(&self, from: Power, to: Power) -> bool {
        self.power
            .compare_exchange(from as u8, to as u8, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// PSCI CPU_ON: moves the vCPU from off to on-pending and records its
    /// entry and context id, atomically: only the caller that wins the
    /// transition writes them (under the lock its CPU reads them with), so
    /// a losing racer cannot replace the winner's entry. False if the vCPU
    /// was not off.
    pub fn try_start(&self, entry: usize, arg: u64) -> bool {
        let mut start = self.start.lock();
        let won = self.transition(Power::Off, Power::OnPending);
        if won {
            *start = (entry, arg);
        }
        won
    }
}

static VMS: SpinNoIrq<Vec<VmRef>> = SpinNoIrq::new(Vec::new());
static SLOTS: SpinNoIrq<Vec<Arc<Slot>>> = SpinNoIrq::new(Vec::new());
/// VMs created and not yet stopped.
static LIVE: AtomicUsize = AtomicUsize::new(0);
static STARTED: AtomicBool = AtomicBool::new(false);
/// Each CPU's virtualization state (`hardware_enable`).
static PER_CPU: [SpinNoIrq<Option<ArchPerCpu<AxVCpuHalImpl>>>; axconfig::cpu::MAX_NUM] =
    [const { SpinNoIrq::new(None) }; axconfig::cpu::MAX_NUM];

/// Turns on the virtualization support of this CPU (`hardware_enable`).
pub fn enable_virtualization_on_this_cpu() {
    let cpu = axhal::percpu::cpu_id();
    let Some(cell) = PER_CPU.get(cpu) else { return };
    let result = ArchPerCpu::<AxVCpuHalImpl>::new(cpu).and_then(|mut p| {
        p.hardware_enable()?;
        Ok(p)
    });
    match result {
        Ok(p) => {
            *cell.lock() = Some(p);
            crate::guest_irqs::enable_on_this_cpu();
        }
        Err(e) => log::error!("CPU {cpu}: cannot enable virtualization: {e:?}"),
    }
}

/// Number of VMs still running.
pub fn vm_count() -> usize {
    VMS.lock().len()
}

/// The `i`-th running VM.
pub fn vm_at(i: usize) -> Option<VmRef> {
    VMS.lock().get(i).cloned()
}

/// The slot of vCPU `vcpu_id` of VM `vm_id`.
pub fn find_slot(vm_id: usize, vcpu_id: usize) -> Option<Arc<Slot>> {
    SLOTS
        .lock()
        .iter()
        .find(|s| s.vm.id() == vm_id && s.vcpu_id == vcpu_id)
        .cloned()
}

/// Builds one VM from its embedded config and images. A VM that cannot be
/// built is reported and left out; the others still run.
pub fn create_vm(e: &EmbeddedVm) {
    let crate_config = match AxVMCrateConfig::from_toml(e.toml) {
        Ok(c) => c,
        Err(err) => return log::error!("{}: {err}", e.file),
    };
    let config = AxVMConfig::from(crate_config);
    let (id, name) = (config.id(), config.name());
    let cpus = axruntime::cpu_count();
    let mut placement = Vec::new();
    for (vcpu_id, _mask, pcpu) in config.get_vcpu_affinities_pcpu_ids() {
        if pcpu >= cpus {
            log::error!("VM {id} ({name}): vCPU {vcpu_id} wants CPU {pcpu}, which is not online; VM not started");
            return;
        }
        placement.push((vcpu_id, pcpu));
    }
    let vm = match Vm::new(config, crate::console::new_sink(id)) {
        Ok(vm) => vm,
        Err(err) => return log::error!("VM {id} ({name}): cannot create it: {err:?}"),
    };
    if crate::images::load(&vm, e).is_err() || vm.boot().is_err() {
        return log::error!("{}: images could not be loaded; VM not started", vm.describe());
    }
    let mut slots = SLOTS.lock();
    for (vcpu_id, pcpu) in placement {
        let power = if vcpu_id == 0 { Power::On } else { Power::Off };
        slots.push(Arc::new(Slot {
            vm: vm.clone(),
            vcpu_id,
            pcpu,
            power: AtomicU8::new(power as u8),
            halted: AtomicBool::new(false),
            wake: AtomicBool::new(false),
            start: SpinNoIrq::new((0, 0)),
        }));
    }
    drop(slots);
    crate::passthrough_irqs::forward(&vm);
    axlog::ax_println!("hv: {} ready: {} vCPUs", vm.describe(), vm.vcpu_num());
    ALL_VMS.lock().push(Arc::downgrade(&vm));
    VMS.lock().push(vm);
    LIVE.fetch_add(1, Ordering::AcqRel);
}

/// Frames in use before the first VM was built.
static FRAMES_BEFORE_VMS: AtomicUsize = AtomicUsize::new(0);

/// Records the frames in use before any VM exists (for the power-off line).
pub fn note_memory_before_vms() {
    FRAMES_BEFORE_VMS.store(axalloc::GLOBAL.stats().used_frames, Ordering::Release);
}

/// Lets every CPU start running its vCPUs.
pub fn start() {
    STARTED.store(true, Ordering::Release);
    for cpu in 1..axruntime::cpu_count() {
        axhal::irq::wake_cpu(cpu);
    }
}

/// Secondary CPUs wait here until the VMs are built.
pub fn wait_for_start() {
    while !STARTED.load(Ordering::Acquire) {
        axhal::cpu::wait_for_irq();
    }
}

/// Stops `vm` (once) with a logged reason; its vCPUs stop at their next
/// exit. Powers the machine off through CPU 0 when it was the last VM.
pub fn stop_vm(vm: &VmRef, reason: fmt::Arguments) {
    if vm.shutdown().is_err() {
        return;
    }
    axlog::ax_println!("hv: {} stopped: {reason}", vm.describe());
    VMS.lock().retain(|v| !Arc::ptr_eq(v, vm));
    for s in SLOTS.lock().iter().filter(|s| Arc::ptr_eq(&s.vm, vm)) {
        axhal::irq::wake_cpu(s.pcpu);
    }
    if LIVE.fetch_sub(1, Ordering::AcqRel) == 1 {
        axhal::irq::wake_cpu(0);
    }
}

/// Makes `slot`'s vCPU notice an interrupt its VM's virtual GIC now holds
/// for it: wakes it if it is halted, and interrupts its physical CPU (which
/// ends a guest run there, or a WFI) unless that is the calling CPU.
pub fn kick(slot: &Slot) {
    slot.wake.store(true, Ordering::Release);
    if slot.pcpu != axhal::percpu::cpu_id() {
        axhal::irq::wake_cpu(slot.pcpu);
    }
}

/// Whether halted `s` should run again: something woke it, its VM's
/// virtual GIC has an interrupt for it, or (when it is the vCPU whose
/// timers are loaded on this CPU) a timer fired.
fn wants_to_run(s: &Slot, bound_here: bool, cpu: usize) -> bool {
    s.wake.load(Ordering::Acquire)
        || s.vm.vcpu_has_pending_irq(s.vcpu_id)
        || (bound_here && crate::guest_irqs::timer_fired(cpu))
}

/// Before this CPU sleeps: the vCPUs halted here whose timers are not
/// loaded (another vCPU is bound) cannot raise their timer interrupt, so
/// the host timer is set to wake the CPU when the first of them is due.
/// A deadline already past is left out: each of these vCPUs ran in the loop
/// pass that ends now and found nothing to take (a guest that leaves its
/// timer expired but masked must not keep the CPU awake).
fn wake_for_saved_timers(slots: &[Arc<Slot>], bound: Option<&Arc<Slot>>) {
    let now = axhal::time::current_ticks();
    let first = slots
        .iter()
        .filter(|s| s.power() == Power::On && !bound.is_some_and(|b| Arc::ptr_eq(b, s)))
        .filter_map(|s| s.vm.vcpu_timer_deadline(s.vcpu_id))
        .filter(|&deadline| deadline > now)
        .min();
    if let Some(deadline) = first {
        axhal::time::wake_no_later_than_ticks(deadline);
    }
}

/// The slots of this CPU.
fn my_slots(cpu: usize) -> Vec<Arc<Slot>> {
    SLOTS.lock().iter().filter(|s| s.pcpu == cpu).cloned().collect()
}

/// Unbinds `slot`'s vCPU from this CPU (saving its EL1 and FP/SIMD state)
/// if it is bound here.
fn unbind(slot: &Slot) {
    if let Some(v) = slot.vm.vcpu(slot.vcpu_id) {
        let mut v = v.lock();
        if v.state() == VCpuState::Ready {
            let _ = v.unbind();
        }
    }
}

/// Drops a stopped VM's vCPU from this CPU: unbinds it here (where it is
/// bound) and forgets the slot. Whoever drops the VM's last reference frees
/// its memory (stage-2 tables and RAM frames); when that is this call, it
/// says how much came back.
fn retire(slot: Arc<Slot>) {
    // Counted until its message is out, so CPU 0 does not power off under it.
    RETIRING.fetch_add(1, Ordering::AcqRel);
    unbind(&slot);
    let last = {
        let mut slots = SLOTS.lock();
        slots.retain(|s| !Arc::ptr_eq(s, &slot));
        !slots.iter().any(|s| Arc::ptr_eq(&s.vm, &slot.vm))
    };
    let name = slot.vm.describe();
    let vm = Arc::clone(&slot.vm);
    drop(slot);
    if last {
        crate::passthrough_irqs::release(&vm);
        let frames = axalloc::GLOBAL.stats().used_frames;
        match Arc::try_unwrap(vm) {
            Ok(vm) => {
                drop(vm);
                let freed = frames.saturating_sub(axalloc::GLOBAL.stats().used_frames);
                axlog::ax_println!("hv: {name} retired, {} KiB of its memory freed", freed * 4);
            }
            Err(_) => axlog::ax_println!("hv: {name} retired"),
        }
    }
    RETIRING.fetch_sub(1, Ordering::AcqRel);
}

/// Retires in progress on any CPU.
static RETIRING: AtomicUsize = AtomicUsize::new(0);
/// How long CPU 0 waits for the other CPUs to retire their vCPUs.
const RETIRE_TIMEOUT_NS: u64 = 1_000_000_000;

/// Every VM ever built, to know when the last one is gone.
static ALL_VMS: SpinNoIrq<Vec<Weak<Vm>>> = SpinNoIrq::new(Vec::new());

/// CPU 0, once no VM is left: waits (bounded) until every CPU has retired
/// its vCPUs and said so, and every VM is dropped (its memory freed), so
/// power-off cuts no message short and the memory figure is final.
fn wait_for_retirement() {
    let deadline = axhal::time::current_time_nanos() + RETIRE_TIMEOUT_NS;
    let busy = || {
        !SLOTS.lock().is_empty()
            || RETIRING.load(Ordering::Acquire) != 0
            || ALL_VMS.lock().iter().any(|w| w.strong_count() != 0)
    };
    while busy() && axhal::time::current_time_nanos() < deadline {
        axhal::cpu::wait_for_irq();
    }
}

/// Runs this CPU's vCPUs until no VM is left. CPU 0 returns then (and the
/// runtime powers off); the others wait for interrupts.
pub fn cpu_loop(cpu: usize) {
    // The vCPU whose state is loaded on this CPU.
    let mut bound: Option<Arc<Slot>> = None;
    loop {
        if cpu == 0 {
            crate::console::poll_input();
        }
        if LIVE.load(Ordering::Acquire) == 0 {
            drop(bound.take()); // this CPU no longer holds a VM
            for s in my_slots(cpu) {
                retire(s);
            }
            if cpu == 0 {
                wait_for_retirement();
                let now = axalloc::GLOBAL.stats().used_frames;
                let before = FRAMES_BEFORE_VMS.load(Ordering::Acquire);
                match now.checked_sub(before).filter(|&extra| extra > 0) {
                    None => axlog::ax_println!("hv: no VM left, all guest memory returned; powering off"),
                    Some(extra) => axlog::ax_println!("hv: no VM left, {} KiB not returned; powering off", extra * 4),
                }
                return;
            }
            loop {
                axhal::cpu::wait_for_irq();
            }
        }
        let mut progressed = false;
        for s in my_slots(cpu) {
            if s.vm.shutting_down() {
                if bound.as_ref().is_some_and(|b| Arc::ptr_eq(b, &s)) {
                    bound = None;
                }
                retire(s);
                continue;
            }
            if s.transition(Power::OnPending, Power::On) {
                let (entry, arg) = *s.start.lock();
                if let Some(v) = s.vm.vcpu(s.vcpu_id) {
                    let mut v = v.lock();
                    let started = v
                        .set_entry(GuestPhysAddr::from(entry))
                        .and_then(|_| v.set_gpr(0, arg as usize));
                    if let Err(e) = started {
                        drop(v);
                        stop_vm(&s.vm, format_args!("vCPU {} cannot start: {e}", s.vcpu_id));
                        continue;
                    }
                }
            }
            if s.power() != Power::On {
                continue;
            }
            let bound_here = bound.as_ref().is_some_and(|b| Arc::ptr_eq(b, &s));
            // A halted vCPU whose timers are loaded here sleeps until
            // something wakes it; one that is not loaded is looked at each
            // time this CPU wakes up (its timers are sampled when it runs;
            // `wake_for_saved_timers` wakes the CPU when one is due).
            if s.halted.load(Ordering::Acquire) && bound_here && !wants_to_run(&s, true, cpu) {
                continue;
            }
            s.halted.store(false, Ordering::Release);
            s.wake.store(false, Ordering::Release);
            crate::guest_irqs::take_timer_fired(cpu);
            if let Some(b) = bound.take().filter(|b| !Arc::ptr_eq(b, &s)) {
                unbind(&b);
            }
            bound = Some(s.clone());
            loop {
                match s.vm.run_vcpu(s.vcpu_id) {
                    Ok(exit) => match crate::exits::handle(&s, exit) {
                        Next::Resume => continue,
                        Next::Yield => progressed = true,
                        Next::Halt => {
                            if s.vm.vcpu_has_pending_irq(s.vcpu_id) {
                                progressed = true;
                            } else {
                                s.halted.store(true, Ordering::Release);
                            }
                        }
                    },
                    Err(e) => stop_vm(&s.vm, format_args!("vCPU {} failed: {e}", s.vcpu_id)),
                }
                break;
            }
        }
        if !progressed {
            axhal::cpu::wait_for_irq_unless(|| {
                let slots = my_slots(cpu);
                let ready = LIVE.load(Ordering::Acquire) == 0
                    || slots.iter().any(|s| {
                        let here = bound.as_ref().is_some_and(|b| Arc::ptr_eq(b, s));
                        let runnable = s.power() != Power::Off
                            && (!s.halted.load(Ordering::Acquire) || wants_to_run(s, here, cpu));
                        s.vm.shutting_down() || runnable
                    });
                if !ready {
                    wake_for_saved_timers(&slots, bound.as_ref());
                }
                ready
            });
        }
    }
}
