//! Each physical CPU's loop: retire the vCPUs of stopped VMs, pick the next
//! vCPU ([`crate::sched`]), run it until an exit the VM does not handle,
//! handle that exit ([`crate::exits`]), and wait for an interrupt when no
//! vCPU here can run.
//!
//! The way of an exit: `ManagedVm::run_vcpu` enters the guest and handles
//! MMIO, system-register and stage-2 exits inside the VM; every other exit
//! comes back here, to [`crate::exits::handle`], which says what the CPU
//! does next: run the same vCPU again at once, look at the other vCPUs
//! here, or note that this vCPU waits for an interrupt.

use crate::exits::{self, Next};
use crate::hal::{Power, VmmHal};
use crate::lifecycle::VmState;
use crate::run::Run;
use crate::sched;
use crate::slice::Slice;
use crate::vmm::{Queue, Vmm};
use alloc::{sync::Arc, vec::Vec};

/// How many turns of the VMs' queued console output (a line of each VM
/// per turn) CPU 0 prints at a pass of its loop (one after something was
/// queued): the output a VM's own
/// CPU left behind (few lines; a VM that keeps writing prints its own).
const CONSOLE_TURNS_PER_PASS: usize = 4;

/// What one CPU keeps between loop passes.
#[derive(Default)]
pub struct CpuLocal {
    /// The vCPU whose state is loaded on this CPU.
    bound: Option<(Arc<Run>, usize)>,
    /// Scratch copies of the queue for a pass (kept so that a pass does
    /// not allocate once they have grown to the queue's length).
    entries: Vec<(Arc<Run>, usize)>,
    ready: Vec<bool>,
    /// How many vCPUs this CPU's queue held at the last pick.
    queued: usize,
}

impl CpuLocal {
    fn is_bound(&self, run: &Arc<Run>, vcpu: usize) -> bool {
        self.bound
            .as_ref()
            .is_some_and(|(r, v)| Arc::ptr_eq(r, run) && *v == vcpu)
    }
}

/// What a loop pass did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Ran a vCPU (or retired some): look again at once.
    Ran,
    /// Nothing here can run: wait for an interrupt.
    Idle,
    /// The machine powers off (CPU 0 only).
    PowerOff,
}

impl<P: VmmHal> Vmm<P> {
    /// Runs this CPU's vCPUs. CPU 0 returns when the machine should power
    /// off; the other CPUs never return.
    pub fn cpu_loop(&self, cpu: usize) {
        while !self.started() {
            P::wait_for_irq_unless(&mut || self.started());
        }
        let mut local = CpuLocal::default();
        loop {
            match self.step(cpu, &mut local) {
                Step::Ran => {}
                Step::Idle => self.idle_wait(cpu, &mut local),
                Step::PowerOff => return,
            }
        }
    }

    /// One pass of CPU `cpu`'s loop.
    pub fn step(&self, cpu: usize, local: &mut CpuLocal) -> Step {
        if cpu == 0 {
            self.poll_console();
            self.drain_console(CONSOLE_TURNS_PER_PASS, false);
            if self.service() {
                self.retire_all(cpu, local);
                return Step::PowerOff;
            }
        }
        let Some(queue) = self.queue(cpu) else {
            return Step::Idle;
        };
        if self.retire_stopped(&queue, cpu, local) {
            return Step::Ran;
        }
        // The pick below sees every vCPU woken so far.
        if let Some(note) = self.wake_note(cpu) {
            note.clear();
        }
        let Some((run, vcpu)) = self.pick(&queue, cpu, local) else {
            return Step::Idle;
        };
        self.run_slice(&queue, &run, vcpu, cpu, local);
        Step::Ran
    }

    /// Takes the vCPUs of stopped VMs off this CPU; true if it took any.
    fn retire_stopped(&self, queue: &Queue, cpu: usize, local: &mut CpuLocal) -> bool {
        let gone: Vec<(Arc<Run>, usize)> = {
            let mut q = queue.lock();
            if !q.iter().any(|(r, _)| r.vm.shutting_down()) {
                return false;
            }
            let (gone, kept) = core::mem::take(&mut *q)
                .into_iter()
                .partition(|(r, _)| r.vm.shutting_down());
            *q = kept;
            gone
        };
        let any = !gone.is_empty();
        for (run, vcpu) in gone {
            if local.is_bound(&run, vcpu) {
                self.set_bound(cpu, local, None);
            }
            run.vm.unbind_vcpu(vcpu);
            let last = run.retire_one();
            drop(run);
            if last {
                // CPU 0 may have work waiting for this.
                self.note_service();
                P::wake_cpu(0);
            }
        }
        any
    }

    /// The vCPU whose state is loaded on this CPU (the caller has unbound
    /// the one before); its VM is the one kicks from here look at first.
    fn set_bound(&self, cpu: usize, local: &mut CpuLocal, bound: Option<(Arc<Run>, usize)>) {
        if let Some(slot) = self.bound_runs.get(cpu) {
            *slot.lock() = bound.as_ref().map(|(run, _)| run.clone());
        }
        local.bound = bound;
    }

    /// CPU 0 powers off: every vCPU here is dropped.
    fn retire_all(&self, cpu: usize, local: &mut CpuLocal) {
        self.set_bound(cpu, local, None);
        if let Some(q) = self.queue(cpu) {
            q.lock().clear();
        }
    }

    /// Whether halted vCPU `vcpu` of `run` should run again: something
    /// woke it, its VM holds an interrupt for it, or its timer fired: the
    /// host timer interrupt of this CPU when its timers are loaded here,
    /// else its saved deadline has passed (once per deadline).
    fn wants_to_run(run: &Run, vcpu: usize, bound_here: bool, cpu: usize) -> bool {
        let Some(slot) = run.vcpus.get(vcpu) else { return false };
        let timer = if bound_here {
            P::guest_timer_fired(cpu)
        } else {
            slot.timer_due(&run.vm.vcpu_timer_deadlines(vcpu), P::now_ticks())
        };
        slot.woken() || timer || run.vm.vcpu_has_pending_irq(vcpu)
    }

    /// Whether vCPU `vcpu` of `run` can run on this CPU now; picks up a
    /// pending CPU_ON.
    fn runnable(&self, run: &Arc<Run>, vcpu: usize, cpu: usize, local: &CpuLocal) -> bool {
        let Some(slot) = run.vcpus.get(vcpu) else { return false };
        if !run.schedulable() {
            return false;
        }
        if let Some((entry, arg)) = slot.take_start()
            && let Err(e) = run.vm.prepare_vcpu(vcpu, entry, arg)
        {
            self.stop_run(run, format_args!("vCPU {vcpu} cannot start: {}", axvcpu::ErrorName(e)));
            return false;
        }
        slot.power() == Power::On && (!slot.halted() || Self::wants_to_run(run, vcpu, local.is_bound(run, vcpu), cpu))
    }

    /// The next vCPU of this CPU to run.
    fn pick(&self, queue: &Queue, cpu: usize, local: &mut CpuLocal) -> Option<(Arc<Run>, usize)> {
        let mut entries = core::mem::take(&mut local.entries);
        let mut ready = core::mem::take(&mut local.ready);
        entries.clear();
        entries.extend(queue.lock().iter().cloned());
        local.queued = entries.len();
        ready.clear();
        ready.extend(entries.iter().map(|(r, v)| self.runnable(r, *v, cpu, local)));
        let chosen = Self::choose(&entries, &ready);
        // Emptied (the allocation kept): the queue's vCPUs are not held
        // past the pass.
        entries.clear();
        local.entries = entries;
        local.ready = ready;
        chosen
    }

    /// Among `entries`, those `ready` to run, the one to run next.
    fn choose(entries: &[(Arc<Run>, usize)], ready: &[bool]) -> Option<(Arc<Run>, usize)> {
        let ready = |i: usize| ready.get(i).copied().unwrap_or(false);
        let pass = |i: usize| entries[i].0.vcpus.get(entries[i].1).map_or(u64::MAX, |s| s.pass());
        // The floor for vCPUs that wake: the smallest pass of those that
        // were not waiting.
        let floor = (0..entries.len())
            .filter(|&i| ready(i) && !entries[i].0.vcpus.get(entries[i].1).is_some_and(|s| s.halted()))
            .map(pass)
            .min();
        let candidates = (0..entries.len()).filter(|&i| ready(i)).map(|i| {
            let (run, vcpu) = &entries[i];
            if let Some(s) = run.vcpus.get(*vcpu)
                && s.halted()
            {
                s.set_pass(sched::on_wake(s.pass(), floor));
            }
            (i, pass(i))
        });
        sched::pick(candidates).and_then(|i| entries.get(i).cloned())
    }

    /// Runs vCPU `vcpu` of `run` until it yields, waits, or its VM stops,
    /// or its slice is over ([`crate::slice`]).
    fn run_slice(&self, queue: &Queue, run: &Arc<Run>, vcpu: usize, cpu: usize, local: &mut CpuLocal) {
        let Some(slot) = run.vcpus.get(vcpu) else { return };
        // A vCPU alone on its CPU waits for interrupts in the guest: the
        // host has nothing else to run there, and every interrupt it takes
        // (a kick, its tick, a placement here) ends the wait with an exit.
        // Beside others it exits to wait, so that they can run. Noted
        // before the wake note is cleared: a kick that finds the note set
        // after that sees this too (`Vmm::kick`), until the slice ends.
        let wfi_exits = local.queued > 1;
        if slot.set_wfi_exits(wfi_exits) {
            run.vm.set_wfi_exits(vcpu, wfi_exits);
        }
        slot.set_waits_in_guest(!wfi_exits);
        slot.clear_wait();
        P::take_guest_timer_fired(cpu);
        if !local.is_bound(run, vcpu) {
            // Loading it samples its timers: a deadline that passed is
            // taken care of by this run.
            slot.saw_timers(&run.vm.vcpu_timer_deadlines(vcpu), P::now_ticks());
            if let Some((r, v)) = local.bound.take() {
                r.vm.unbind_vcpu(v);
            }
            self.set_bound(cpu, local, Some((run.clone(), vcpu)));
        }
        // The halted vCPUs here whose timers are saved wake up when due
        // even while this one runs (a guest that never leaves its CPU by
        // itself, looping on trapping instructions, included): the host
        // timer ends this slice then, not a later tick, and so does the
        // first exit after the deadline (the host may take its timer
        // interrupt in the hypervisor, where it ends no guest run).
        let timer = self.arm_saved_timers(queue, local);
        let t0 = P::now_ticks();
        let slice = Slice::new(t0, P::ticks_per_second(), timer, self.wake_note(cpu));
        let mut answer = None;
        // Decided inside the VM's loop for a host interrupt: the same as
        // the `Interrupted` arm below, after what `exits::handle` does for
        // that exit.
        let mut on_interrupt = || {
            exits::interrupted::<P>(run, vcpu);
            self.goes_on_after_interrupt(queue, run, vcpu, &slice, cpu)
        };
        loop {
            slot.set_in_guest(true);
            let exit = run.vm.run_vcpu(vcpu, answer.take(), &mut on_interrupt);
            slot.set_in_guest(false);
            let next = match exit {
                Ok(exit) => exits::handle(self, run, vcpu, exit),
                Err(e) => {
                    self.stop_run(run, format_args!("vCPU {vcpu} failed: {}", axvcpu::ErrorName(e)));
                    Next::Yield
                }
            };
            // `handle` resumes no vCPU of a VM that shuts down.
            let resume = || Self::slice_goes_on(run, &slice);
            match next {
                Next::Resume if resume() => continue,
                Next::Interrupted if self.goes_on_after_interrupt(queue, run, vcpu, &slice, cpu) => continue,
                Next::Answer(value) if resume() => {
                    answer = Some(value);
                    continue;
                }
                Next::Answer(value) => run.vm.set_return_value(vcpu, value),
                Next::Halt if !run.vm.vcpu_has_pending_irq(vcpu) => slot.set_halted(true),
                _ => {}
            }
            break;
        }
        slot.set_waits_in_guest(false);
        slot.set_pass(sched::charge(slot.pass(), P::now_ticks().saturating_sub(t0)));
    }

    /// Whether vCPU `vcpu` of `run` may run on in its slice: its VM runs
    /// and the slice is not over.
    fn slice_goes_on(run: &Run, slice: &Slice) -> bool {
        run.state() == VmState::Running && !slice.over(P::now_ticks())
    }

    /// Whether vCPU `vcpu` of `run`, whose guest run a host interrupt (a
    /// kick, the tick) ended, goes on at once: when it is alone on this
    /// CPU, as nothing else waits for the CPU, and its slice still ends on
    /// time (CPU 0's console and lifecycle work happen then). A vCPU placed
    /// here meanwhile ends the slice at this exit. Going on takes what
    /// entering needs, as at the start of a slice: a guest timer that
    /// fired meanwhile was the running guest's, and what woke it is taken
    /// in at this entry (an entry after a host interrupt flushes its
    /// interrupts), so a later CPU_SUSPEND waits.
    fn goes_on_after_interrupt(&self, queue: &Queue, run: &Run, vcpu: usize, slice: &Slice, cpu: usize) -> bool {
        if !Self::slice_goes_on(run, slice) || queue.lock().len() != 1 {
            return false;
        }
        if let Some(slot) = run.vcpus.get(vcpu) {
            slot.clear_wait();
        }
        P::take_guest_timer_fired(cpu);
        true
    }

    /// Before this CPU waits or runs a vCPU: the halted vCPUs here whose
    /// timers are not loaded (another vCPU is bound) cannot raise their
    /// timer interrupt, so the CPU is set to be interrupted when the first
    /// of them is due. A deadline
    /// already past is left out: [`Self::has_work`], asked next, runs a
    /// vCPU for it once (a guest that leaves its timer expired but masked
    /// must not keep the CPU awake). The deadline it armed, if any.
    fn arm_saved_timers(&self, queue: &Queue, local: &CpuLocal) -> Option<u64> {
        let now = P::now_ticks();
        let first = queue
            .lock()
            .iter()
            .filter(|(r, v)| r.schedulable() && !local.is_bound(r, *v))
            .filter(|(r, v)| r.vcpus.get(*v).is_some_and(|s| s.power() == Power::On))
            .flat_map(|(r, v)| r.vm.vcpu_timer_deadlines(*v))
            .flatten()
            .filter(|&deadline| deadline > now)
            .min();
        if let Some(deadline) = first {
            P::wake_no_later_than_ticks(deadline);
        }
        first
    }

    /// After a pass that found nothing to run: waits for an interrupt
    /// unless this CPU has work. The host timer is set for the saved timer
    /// deadlines here first, with interrupts masked (a host tick taken
    /// between the pass and the wait re-arms the timer for its own period,
    /// and would push an earlier wake-up back); a deadline that passes
    /// between the arming and the check is then seen by the check.
    pub fn idle_wait(&self, cpu: usize, local: &mut CpuLocal) {
        P::wait_for_irq_unless(&mut || {
            if let Some(queue) = self.queue(cpu) {
                let _ = self.arm_saved_timers(&queue, local);
            }
            self.has_work(cpu, local)
        });
    }

    /// Whether this CPU has something to do (asked with interrupts masked
    /// before it waits).
    fn has_work(&self, cpu: usize, local: &mut CpuLocal) -> bool {
        if cpu == 0 && self.console.has_input::<P>() {
            return true;
        }
        let Some(queue) = self.queue(cpu) else { return false };
        let mut entries = core::mem::take(&mut local.entries);
        entries.clear();
        entries.extend(queue.lock().iter().cloned());
        let work = entries.iter().any(|(run, vcpu)| {
            if run.vm.shutting_down() {
                return true;
            }
            let Some(s) = run.vcpus.get(*vcpu) else { return false };
            run.schedulable()
                && s.power() != Power::Off
                && (!s.halted() || Self::wants_to_run(run, *vcpu, local.is_bound(run, *vcpu), cpu))
        });
        entries.clear();
        local.entries = entries;
        work
    }
}
