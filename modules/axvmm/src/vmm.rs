//! [`Vmm`]: the VM registry and the lifecycle requests on it.
//!
//! Who does what: any CPU may stop a VM (its guest powered off or faulted,
//! or a console command); the CPUs that hold its vCPUs then retire them at
//! their next loop pass ([`crate::cpu_loop`]). The work that must wait for
//! that (building a VM again for a restart, freeing one that is destroyed,
//! powering off when no VM is left) is done by CPU 0 in
//! [`Vmm::service`], so no CPU ever waits for another.

use crate::console::{Console, ScreenPrinter};
use crate::hal::{ManagedVm, VmImage, VmmHal};
use crate::lifecycle::{Plan, Request, VmState, plan};
use crate::outbox::Printer;
use crate::placement::place;
use crate::run::Run;
use crate::slice::WakeNote;
use alloc::{format, string::String, sync::Arc, vec::Vec};
use axdevice::{ConsoleSink, PrefixingSink};
use core::fmt;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use kspin::SpinNoIrq;

/// What CPU 0 still has to do for a VM once its vCPUs are retired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pending {
    /// Nothing.
    None,
    /// Build it again from its image and run it.
    Reboot,
    /// Free it and forget it.
    Destroy,
}

/// A VM the manager knows.
pub(crate) struct Record {
    pub id: usize,
    pub image: usize,
    pub name: String,
    /// The current boot; `None` once freed (a restart that failed).
    pub run: Option<Arc<Run>>,
    pub pending: Pending,
}

/// The most physical CPUs the manager keeps per-CPU state for without a
/// shared lock ([`Vmm::bound_runs`], [`Vmm::wake_notes`]). A CPU beyond
/// it runs its vCPUs, with kicks looked up in the registry and slices
/// ended by a wake-up only at the next tick.
pub const MAX_CPUS: usize = 64;

/// The vCPUs placed on one physical CPU: `(run, vCPU id)`.
pub(crate) type Queue = SpinNoIrq<Vec<(Arc<Run>, usize)>>;

/// The VM manager, over the host services `P`.
pub struct Vmm<P: VmmHal> {
    pub(crate) images: SpinNoIrq<Vec<VmImage>>,
    pub(crate) records: SpinNoIrq<Vec<Record>>,
    pub(crate) queues: SpinNoIrq<Vec<Arc<Queue>>>,
    /// Per CPU: one of its halted vCPUs was woken ([`crate::slice`]).
    /// A fixed array, not behind a lock: every CPU's loop looks at its
    /// own on every pass, and kicks at their targets'.
    pub(crate) wake_notes: [WakeNote; MAX_CPUS],
    /// Per CPU: the VM whose vCPU is bound there. A kick from a vCPU to
    /// another of its VM (an SGI) finds the VM here, under a lock only its
    /// own CPU takes, instead of in the registry, whose lock CPU 0's loop
    /// takes on every pass: a VM flooding SGIs does not hold that up.
    pub(crate) bound_runs: [SpinNoIrq<Option<Arc<Run>>>; MAX_CPUS],
    pub(crate) console: Console,
    poweroff_when_idle: AtomicBool,
    /// Set by CPU 0 when it powers off: the other CPUs stop looking.
    pub(crate) powering_off: AtomicBool,
    started: AtomicBool,
    /// Something [`Self::service`] acts on may have changed since it last
    /// looked (a pending restart or destruction, a VM stopped, a VM's last
    /// vCPU retired, the start): CPU 0's passes look at the records only
    /// then, not at every pass.
    service_due: AtomicBool,
    /// Host memory in use before the first VM was built.
    memory_before_vms: AtomicUsize,
    _hal: PhantomData<fn() -> P>,
}

impl<P: VmmHal> Default for Vmm<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: VmmHal> Vmm<P> {
    /// An empty manager (a `static`); [`Self::init`] gives it its images.
    pub const fn new() -> Self {
        Self {
            images: SpinNoIrq::new(Vec::new()),
            records: SpinNoIrq::new(Vec::new()),
            queues: SpinNoIrq::new(Vec::new()),
            wake_notes: [const { WakeNote::new() }; MAX_CPUS],
            bound_runs: [const { SpinNoIrq::new(None) }; MAX_CPUS],
            console: Console::new(),
            poweroff_when_idle: AtomicBool::new(true),
            powering_off: AtomicBool::new(false),
            started: AtomicBool::new(false),
            service_due: AtomicBool::new(true),
            memory_before_vms: AtomicUsize::new(0),
            _hal: PhantomData,
        }
    }

    /// Gives it the configs built into the image and the number of online
    /// CPUs. With `poweroff_when_idle`, CPU 0 powers the machine off once
    /// no VM is left; otherwise the hypervisor waits for console commands.
    pub fn init(&self, images: Vec<VmImage>, cpus: usize, poweroff_when_idle: bool) {
        *self.images.lock() = images;
        *self.queues.lock() = (0..cpus).map(|_| Arc::new(Queue::new(Vec::new()))).collect();
        self.poweroff_when_idle.store(poweroff_when_idle, Ordering::Release);
        self.memory_before_vms.store(P::used_memory_bytes(), Ordering::Release);
    }

    /// Builds and starts every image marked `autostart`, then lets every CPU
    /// run its vCPUs. A VM that cannot be built is reported; the others
    /// still run.
    pub fn boot(&self) {
        let autostart: Vec<(usize, usize)> = self
            .images
            .lock()
            .iter()
            .enumerate()
            .filter(|(_, i)| i.autostart)
            .map(|(n, i)| (n, i.id))
            .collect();
        for (image, id) in autostart {
            match self.create_from(image, Some(id)) {
                Ok(id) => {
                    if let Err(e) = self.request(id, Request::Start) {
                        self.say(format_args!("hv: VM {id}: {e}"));
                    }
                }
                Err(e) => self.say(format_args!("hv: {e}")),
            }
        }
        self.started.store(true, Ordering::Release);
        self.note_service();
        for cpu in 1..self.cpu_count() {
            P::wake_cpu(cpu);
        }
    }

    /// Asks CPU 0 to look at the records at its next pass
    /// ([`Self::service`]).
    pub(crate) fn note_service(&self) {
        self.service_due.store(true, Ordering::Release);
    }

    /// Whether [`Self::boot`] finished (secondary CPUs wait for it).
    pub fn started(&self) -> bool {
        self.started.load(Ordering::Acquire)
    }

    /// Number of online CPUs.
    pub fn cpu_count(&self) -> usize {
        self.queues.lock().len()
    }

    pub(crate) fn queue(&self, cpu: usize) -> Option<Arc<Queue>> {
        self.queues.lock().get(cpu).cloned()
    }

    pub(crate) fn wake_note(&self, cpu: usize) -> Option<&WakeNote> {
        self.wake_notes.get(cpu)
    }

    /// Prints a line on the host console, after the VM output queued
    /// before it.
    pub(crate) fn say(&self, args: fmt::Arguments) {
        let screen = self.console.screen();
        self.drain_console(usize::MAX, true);
        screen.host_line(&format!("{args}\n"), &mut |s| P::print(s));
    }

    /// Prints at most `turns` turns (a line of each VM) of the VMs' queued
    /// console output ([`crate::outbox`]); with `wait`, after the CPU that
    /// is printing them, if any, else not at all.
    pub(crate) fn drain_console(&self, turns: usize, wait: bool) {
        let outboxes = self.console.outboxes();
        if !wait && !outboxes.maybe_queued() {
            return;
        }
        let screen = self.console.screen();
        let mut printer = ScreenPrinter::<P> {
            screen: &screen,
            _hal: PhantomData,
        };
        if wait {
            outboxes.drain(turns, &mut printer);
        } else {
            outboxes.try_drain(turns, &mut printer);
        }
    }

    /// VM `id` is gone: its queued output is printed and its queue goes.
    pub(crate) fn forget_console(&self, id: usize) {
        let screen = self.console.screen();
        let mut printer = ScreenPrinter::<P> {
            screen: &screen,
            _hal: PhantomData,
        };
        self.console.outboxes().forget(id, &mut printer);
        self.console.forget(id);
    }

    /// A console sink for VM `id` named `name`: its output, prefixed
    /// `[name]` line by line, queued in its outbox and printed on the
    /// shared screen ([`crate::outbox`]: a VM that writes faster than the
    /// console drains loses its own oldest lines).
    pub(crate) fn new_sink(&self, id: usize, name: &str) -> Arc<dyn ConsoleSink> {
        let screen = self.console.screen();
        let outboxes = self.console.outboxes();
        let mine = outboxes.of(id, name);
        Arc::new(PrefixingSink::new(move |text: &[u8]| {
            let text = String::from_utf8_lossy(text);
            let mut printer = ScreenPrinter::<P> {
                screen: &screen,
                _hal: PhantomData,
            };
            if let Some(report) = outboxes.push(&mine, &text) {
                printer.report(&mine, report);
            }
            outboxes.print_own(&mine, &mut printer);
        }))
    }

    /// The current run of VM `vm_id`.
    pub(crate) fn run_of(&self, vm_id: usize) -> Option<Arc<Run>> {
        self.records
            .lock()
            .iter()
            .find(|r| r.id == vm_id)
            .and_then(|r| r.run.clone())
    }

    /// The physical CPU of vCPU `vcpu` of VM `vm_id`.
    pub fn vcpu_pcpu(&self, vm_id: usize, vcpu: usize) -> Option<usize> {
        self.run_of(vm_id).and_then(|r| r.vcpus.get(vcpu).map(|s| s.pcpu))
    }

    /// Makes vCPU `vcpu` of VM `vm_id` notice that its interrupt controller
    /// holds something for it: wakes it if it waits, and interrupts its CPU
    /// (ending a guest run or a wait there) unless that is the calling CPU,
    /// or the vCPU was already kicked since its slice began (its CPU was
    /// interrupted then, and the vCPU takes in everything pending before it
    /// enters the guest from the manager again): a guest flooding another
    /// vCPU with interrupts costs that vCPU's CPU one interrupt per slice,
    /// not one per interrupt. The exception is a vCPU in a slice alone on
    /// its CPU, which waits for interrupts in the guest (where it may take
    /// in a kick without leaving its run): its CPU is interrupted at every
    /// kick while that slice lasts. A halted vCPU that is woken also ends
    /// the slice of whatever vCPU runs on its CPU at that one's next exit
    /// ([`crate::slice`]), even an exit the host interrupt did not cause.
    /// False if there is no such vCPU.
    pub fn kick(&self, vm_id: usize, vcpu: usize) -> bool {
        let me = P::cpu_id();
        if let Some(bound) = self.bound_runs.get(me) {
            // Kicked under the lock, which only this CPU takes: no
            // reference to the run is taken and dropped.
            let bound = bound.lock();
            if let Some(run) = bound.as_deref().filter(|r| r.vm_id() == vm_id) {
                return self.kick_in(run, vcpu, me);
            }
        }
        self.run_of(vm_id).is_some_and(|run| self.kick_in(&run, vcpu, me))
    }

    /// [`Self::kick`] of vCPU `vcpu` of `run`, from CPU `me`.
    fn kick_in(&self, run: &Run, vcpu: usize, me: usize) -> bool {
        let Some(slot) = run.vcpus.get(vcpu) else { return false };
        let first = slot.note_wake();
        if first
            && slot.halted()
            && let Some(note) = self.wake_note(slot.pcpu)
        {
            note.set();
        }
        // A vCPU that may wait in the guest (in a slice alone on its CPU)
        // may have taken in an earlier kick's interrupt without leaving its
        // run: its CPU is interrupted at every kick while the slice lasts.
        if (first || slot.waits_in_guest()) && slot.pcpu != me {
            P::wake_cpu(slot.pcpu);
        }
        true
    }

    /// vCPUs placed on each CPU (of VMs not stopping).
    fn load(&self) -> Vec<usize> {
        self.queues
            .lock()
            .iter()
            .map(|q| q.lock().iter().filter(|(r, _)| !r.vm.shutting_down()).count())
            .collect()
    }

    /// A free VM id: `wanted` if free, else the lowest free one from 1.
    fn free_id(records: &[Record], wanted: Option<usize>) -> usize {
        let taken = |id| records.iter().any(|r: &Record| r.id == id);
        match wanted {
            Some(id) if !taken(id) => id,
            _ => (1..).find(|&id| !taken(id)).unwrap_or(usize::MAX),
        }
    }

    /// Builds a run of image `image` under `id` (with a fresh console
    /// sink, so a new boot starts on a line of its own), placed on CPUs, in state
    /// `state` (its vCPUs are queued but not scheduled until it runs).
    fn build(&self, image: usize, id: usize, state: VmState) -> Result<Arc<Run>, String> {
        let img = self.images.lock().get(image).cloned().ok_or("no such config")?;
        let free = P::free_memory_bytes();
        if img.memory_bytes > free {
            return Err(format!(
                "VM {id} ({}) needs {} KiB of memory, {} KiB are free",
                img.name,
                img.memory_bytes / 1024,
                free / 1024
            ));
        }
        let pcpus = place(&img.vcpus, &self.load()).map_err(|e| format!("VM {id} ({}): {e}", img.name))?;
        let sink = self.new_sink(id, &img.name);
        let vm: Arc<dyn ManagedVm> = P::build_vm(&img, id, &pcpus, sink.clone())?;
        let run = Arc::new(Run::new(vm, image, sink, &pcpus, state));
        let queues = self.queues.lock().clone();
        for (vcpu, &cpu) in pcpus.iter().enumerate() {
            if let Some(q) = queues.get(cpu) {
                q.lock().push((run.clone(), vcpu));
            }
        }
        Ok(run)
    }

    /// Builds VM `id` (default: the config's) from the image at index
    /// `image`, left created. The id it got.
    pub(crate) fn create_from(&self, image: usize, id: Option<usize>) -> Result<usize, String> {
        let (name, wanted) = {
            let images = self.images.lock();
            let img = images.get(image).ok_or("no such config")?;
            (img.name.clone(), id.unwrap_or(img.id))
        };
        if id.is_some() && self.records.lock().iter().any(|r| r.id == wanted) {
            return Err(format!("VM id {wanted} is taken"));
        }
        let id = Self::free_id(&self.records.lock(), Some(wanted));
        let run = self.build(image, id, VmState::Created)?;
        let mut records = self.records.lock();
        if records.iter().any(|r| r.id == id) {
            // Another CPU took the id meanwhile (only CPU 0 creates, so this
            // does not happen; refuse rather than keep two).
            drop(records);
            self.discard(&run);
            return Err(format!("VM id {id} is taken"));
        }
        // Kept in id order; inserted at its place rather than pushed and
        // sorted (the same order, ids being unique, without linking a sort).
        let at = records.partition_point(|r| r.id < id);
        records.insert(
            at,
            Record {
                id,
                image,
                name,
                run: Some(run),
                pending: Pending::None,
            },
        );
        Ok(id)
    }

    /// Gives up a run that never ran: its vCPUs leave their queues.
    fn discard(&self, run: &Arc<Run>) {
        run.vm.shutdown();
        P::release_vm(&*run.vm);
        for q in self.queues.lock().iter() {
            q.lock().retain(|(r, _)| !Arc::ptr_eq(r, run));
        }
    }

    /// Builds a VM from the image named `name`; see [`crate::shell::Manager::create`].
    pub fn create(&self, name: &str, id: Option<usize>) -> Result<usize, String> {
        let image = self.images.lock().iter().position(|i| i.name == name);
        let image = image.ok_or_else(|| {
            let names: Vec<String> = self.images.lock().iter().map(|i| i.name.clone()).collect();
            format!("no config named \"{name}\"; built in: {}", names.join(", "))
        })?;
        self.create_from(image, id)
    }

    /// Carries out `request` on VM `id`: a line saying what was done, or
    /// why it was refused (then nothing changed).
    pub fn request(&self, id: usize, request: Request) -> Result<String, String> {
        let (run, name) = {
            let records = self.records.lock();
            let r = records
                .iter()
                .find(|r| r.id == id)
                .ok_or_else(|| format!("no VM {id}"))?;
            if r.pending != Pending::None {
                return Err(format!("VM {id} ({}) is still being stopped; try again", r.name));
            }
            (r.run.clone(), r.name.clone())
        };
        let state = run.as_ref().map_or(VmState::Stopped, |r| r.state());
        let what = format!("VM {id} ({name})");
        match plan(id, state, request).map_err(|e| format!("{e}"))? {
            Plan::Become(to) => {
                let Some(run) = run else {
                    return Err(format!("{what} is stopped"));
                };
                run.set_state(to);
                match (state, to) {
                    (VmState::Created, VmState::Running) => {
                        run.mark_started(P::now_ns());
                        self.say(format_args!("hv: {what} ready: {} vCPUs", run.vcpus.len()));
                    }
                    (_, VmState::Paused) => {
                        let took = self.wait_off_cpus(&run);
                        return Ok(format!(
                            "{what} paused (its vCPUs left their CPUs in {} us)",
                            took / 1000
                        ));
                    }
                    _ => {}
                }
                self.kick_all(&run);
                let done = match request {
                    Request::Resume => "resumed",
                    _ => "started",
                };
                Ok(format!("{what} {done}"))
            }
            Plan::Stop => {
                if let Some(run) = run {
                    self.stop_run(&run, format_args!("stopped from the console"));
                }
                Ok(format!(
                    "{what} stopped; its memory is kept until it is restarted or destroyed"
                ))
            }
            Plan::Reboot => {
                if let Some(run) = &run {
                    self.stop_run(run, format_args!("restarting"));
                }
                self.set_pending(id, Pending::Reboot);
                P::wake_cpu(0);
                Ok(format!("{what} restarting"))
            }
            Plan::Destroy => {
                if let Some(run) = &run {
                    self.stop_run(run, format_args!("destroyed from the console"));
                }
                self.set_pending(id, Pending::Destroy);
                P::wake_cpu(0);
                Ok(format!("{what} being destroyed"))
            }
        }
    }

    fn set_pending(&self, id: usize, pending: Pending) {
        if let Some(r) = self.records.lock().iter_mut().find(|r| r.id == id) {
            r.pending = pending;
        }
        self.note_service();
    }

    /// Interrupts every CPU that holds a vCPU of `run`.
    fn kick_all(&self, run: &Run) {
        let me = P::cpu_id();
        for s in &run.vcpus {
            s.set_wake();
            if s.pcpu != me {
                P::wake_cpu(s.pcpu);
            }
        }
    }

    /// Interrupts the CPUs of `run`'s vCPUs and waits (at most 100 ms)
    /// until none of them is in the guest. The time it took, in ns.
    fn wait_off_cpus(&self, run: &Run) -> u64 {
        const LIMIT_NS: u64 = 100_000_000;
        let t0 = P::now_ns();
        self.kick_all(run);
        while run.vcpus.iter().any(|s| s.in_guest()) && P::now_ns().saturating_sub(t0) < LIMIT_NS {
            core::hint::spin_loop();
        }
        P::now_ns().saturating_sub(t0)
    }

    /// Stops `run` (once) with a logged reason: its vCPUs leave their CPUs
    /// at their next exit, its devices stop, its host interrupt routes are
    /// released. With `poweroff_when_idle`, CPU 0 powers off once no VM is
    /// left.
    pub fn stop_run(&self, run: &Arc<Run>, reason: fmt::Arguments) {
        if run.vm.shutting_down() {
            return;
        }
        run.vm.shutdown();
        run.set_state(VmState::Stopped);
        P::release_vm(&*run.vm);
        self.say(format_args!(
            "hv: VM {} ({}) stopped: {reason}",
            run.vm.id(),
            run.vm.name()
        ));
        self.kick_all(run);
        self.note_service();
        P::wake_cpu(0);
    }

    /// A guest asked to be reset: it stops, and CPU 0 boots it again.
    pub fn reset_run(&self, run: &Arc<Run>, vcpu: usize) {
        let id = run.vm.id();
        self.stop_run(run, format_args!("reset by the guest (vCPU {vcpu})"));
        let mut records = self.records.lock();
        if let Some(r) = records
            .iter_mut()
            .find(|r| r.run.as_ref().is_some_and(|x| Arc::ptr_eq(x, run)))
        {
            debug_assert_eq!(r.id, id);
            r.pending = Pending::Reboot;
        }
        drop(records);
        self.note_service();
    }

    /// CPU 0's lifecycle work, between guest runs: finishes restarts and
    /// destructions whose vCPUs are all retired, and, with
    /// `poweroff_when_idle`, notices that no VM is left. True when the
    /// machine should power off now.
    pub fn service(&self) -> bool {
        if !self.service_due.swap(false, Ordering::AcqRel) {
            return false;
        }
        loop {
            // One record at a time, without the lock while building or
            // freeing.
            let job = {
                let mut records = self.records.lock();
                let ready = records
                    .iter()
                    .position(|r| r.pending != Pending::None && r.run.as_ref().is_none_or(|run| run.all_retired()));
                ready.map(|i| {
                    let r = &mut records[i];
                    (r.id, r.image, r.pending, r.run.take())
                })
            };
            let Some((id, image, pending, run)) = job else {
                break;
            };
            if let Some(run) = run {
                self.free(run);
            }
            match pending {
                Pending::Destroy => {
                    self.records.lock().retain(|r| r.id != id);
                    self.forget_console(id);
                }
                _ => {
                    // The new boot's output starts on a line of its own.
                    self.console.screen().end_line_of(id, &mut |s| P::print(s));
                    let built = self.build(image, id, VmState::Created);
                    let mut records = self.records.lock();
                    let Some(r) = records.iter_mut().find(|r| r.id == id) else {
                        continue;
                    };
                    r.pending = Pending::None;
                    match built {
                        Ok(run) => {
                            r.run = Some(run);
                            drop(records);
                            let _ = self.request(id, Request::Start);
                        }
                        Err(e) => {
                            drop(records);
                            self.say(format_args!("hv: VM {id} cannot be started again: {e}"));
                        }
                    }
                }
            }
        }
        self.poweroff_when_idle.load(Ordering::Acquire) && self.idle_poweroff()
    }

    /// Drops the manager's reference to `run`, whose vCPUs are retired;
    /// says how much memory came back when that freed it.
    fn free(&self, run: Arc<Run>) {
        /// How long the other CPUs may take to drop a reference they hold
        /// for a moment (a loop pass that looked at the VM's vCPUs).
        const DROP_WAIT_NS: u64 = 100_000_000;
        /// The same bound in loop turns, should the clock stand still.
        const MAX_SPINS: u32 = 100_000_000;
        let name = format!("VM {} ({})", run.vm.id(), run.vm.name());
        let t0 = P::now_ns();
        for _ in 0..MAX_SPINS {
            if Arc::strong_count(&run) == 1 || P::now_ns().saturating_sub(t0) >= DROP_WAIT_NS {
                break;
            }
            core::hint::spin_loop();
        }
        let before = P::used_memory_bytes();
        match Arc::try_unwrap(run) {
            Ok(run) => {
                drop(run);
                let freed = before.saturating_sub(P::used_memory_bytes());
                self.say(format_args!(
                    "hv: {name} retired, {} KiB of its memory freed",
                    freed / 1024
                ));
            }
            Err(_) => self.say(format_args!("hv: {name} retired")),
        }
    }

    /// With no VM created, running or paused: destroys the stopped ones
    /// (once their vCPUs are retired), then reports the memory and says to
    /// power off.
    fn idle_poweroff(&self) -> bool {
        {
            let mut records = self.records.lock();
            let live = records.iter().any(|r| {
                r.pending == Pending::Reboot || r.run.as_ref().is_some_and(|run| run.state() != VmState::Stopped)
            });
            if live || !self.started() {
                return false;
            }
            for r in records.iter_mut() {
                r.pending = Pending::Destroy;
            }
            if records
                .iter()
                .any(|r| r.run.as_ref().is_some_and(|run| !run.all_retired()))
            {
                return false;
            }
        }
        if self.service_destroys() {
            return false;
        }
        // The machine goes off: no shell prompt is drawn again below.
        self.console.screen().set_prompt_line(None);
        let extra = P::used_memory_bytes().saturating_sub(self.memory_before_vms.load(Ordering::Acquire));
        if extra == 0 {
            self.say(format_args!("hv: no VM left, all guest memory returned; powering off"));
        } else {
            self.say(format_args!(
                "hv: no VM left, {} KiB not returned; powering off",
                extra / 1024
            ));
        }
        self.powering_off.store(true, Ordering::Release);
        true
    }

    /// Frees the records marked for destruction whose vCPUs are retired;
    /// true if some remain.
    fn service_destroys(&self) -> bool {
        loop {
            let job = {
                let mut records = self.records.lock();
                let i = records
                    .iter()
                    .position(|r| r.run.as_ref().is_none_or(|run| run.all_retired()));
                i.map(|i| records.remove(i))
            };
            let Some(r) = job else { break };
            if let Some(run) = r.run {
                self.free(run);
            }
            self.forget_console(r.id);
        }
        !self.records.lock().is_empty()
    }
}
