//! What the VM manager needs from the host and from each VM: the two
//! interfaces the app implements ([`VmmHal`] on the host modules,
//! [`ManagedVm`] on `axvm`'s VM), and the values that cross them.

use alloc::{string::String, sync::Arc, vec::Vec};
use axdevice::ConsoleSink;
use axerrno::AxResult;
use axvcpu::{AxVCpuExitReason, TimerDeadlines};

/// One VM as the manager drives it: one boot of it (a restart builds a new
/// one). Every method takes `&self`; the VM locks what it must.
pub trait ManagedVm: Send + Sync {
    /// Its id.
    fn id(&self) -> usize;
    /// Its name.
    fn name(&self) -> &str;
    /// How many vCPUs it has.
    fn vcpu_num(&self) -> usize;
    /// Runs vCPU `vcpu` on the calling CPU until an exit the VM does not
    /// handle itself; `answer`, if any, is first set as the value its last
    /// hypercall returns (the lock [`Self::set_return_value`] takes is
    /// taken once for both). When a host interrupt ends a guest run,
    /// `on_interrupt` (after the interrupt's handler) says whether the
    /// vCPU goes on at once, without this call returning. An error means
    /// the vCPU cannot go on (the manager stops the VM).
    fn run_vcpu(
        &self,
        vcpu: usize,
        answer: Option<u64>,
        on_interrupt: &mut dyn FnMut() -> bool,
    ) -> AxResult<AxVCpuExitReason>;
    /// Saves vCPU `vcpu`'s state and unloads it from the calling CPU, if it
    /// is loaded there.
    fn unbind_vcpu(&self, vcpu: usize);
    /// Makes vCPU `vcpu` start at `entry` with `arg` in its first argument
    /// register (a CPU_ON).
    fn prepare_vcpu(&self, vcpu: usize, entry: usize, arg: u64) -> AxResult;
    /// Sets the value vCPU `vcpu`'s hypercall returns.
    fn set_return_value(&self, vcpu: usize, value: u64);
    /// Whether its interrupt controller holds an interrupt for `vcpu`.
    fn vcpu_has_pending_irq(&self, vcpu: usize) -> bool;
    /// When each timer of `vcpu` (not loaded on a CPU) fires, in host
    /// ticks; all `None` while it is loaded or has no timer armed.
    fn vcpu_timer_deadlines(&self, vcpu: usize) -> TimerDeadlines;
    /// Whether `vcpu`'s wait-for-interrupt instruction exits (`true`, as a
    /// new vCPU has it) or waits on its physical CPU (when nothing else
    /// would run there), from its next run on. The default ignores it.
    fn set_wfi_exits(&self, vcpu: usize, exits: bool) {
        let _ = (vcpu, exits);
    }
    /// The vCPU a guest names `arch_id` in a CPU_ON (MPIDR, APIC id).
    fn vcpu_by_arch_id(&self, arch_id: u64) -> Option<usize>;
    /// Stops it: its vCPUs return from their next run, its devices stop
    /// raising interrupts. Idempotent.
    fn shutdown(&self);
    /// Whether [`Self::shutdown`] was called.
    fn shutting_down(&self) -> bool;
    /// Offers a byte of console input to its first UART; false when the
    /// UART has no room (the caller holds the byte and offers it again).
    fn push_console_input(&self, byte: u8) -> bool;
    /// Exits its vCPUs have taken so far.
    fn exits(&self) -> u64;
}

/// Where a vCPU may run, from its VM's config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuChoice {
    /// This physical CPU (`phys_cpu_ids`).
    Fixed(usize),
    /// The least loaded of these physical CPUs, bit `n` for CPU `n`
    /// (`phys_cpu_sets`).
    Set(u64),
    /// The least loaded physical CPU.
    Any,
}

/// A VM config built into the image: what the manager knows of it before
/// building it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmImage {
    /// The config file it came from (for messages).
    pub file: String,
    /// Its name.
    pub name: String,
    /// The id its config gives.
    pub id: usize,
    /// Guest RAM it needs, in bytes.
    pub memory_bytes: usize,
    /// Where each of its vCPUs may run.
    pub vcpus: Vec<CpuChoice>,
    /// Whether it is built and started at boot.
    pub autostart: bool,
}

/// The answer to a guest's CPU_ON, for the architecture to encode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuOnResult {
    /// The vCPU will start.
    Started,
    /// It is already on.
    AlreadyOn,
    /// A CPU_ON for it is still pending.
    OnPending,
    /// No vCPU has that id.
    NoSuchCpu,
}

/// A vCPU's power state, as a guest's power management sees it.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Power {
    /// Not started, or stopped with CPU_OFF.
    Off = 0,
    /// CPU_ON accepted; its CPU has not picked it up yet.
    OnPending = 1,
    /// Running (or halted waiting for an interrupt).
    On = 2,
}

/// What a hypercall handler may ask of the manager about the calling VM.
pub trait GuestServices {
    /// The calling VM's id.
    fn vm_id(&self) -> usize;
    /// The calling vCPU's id.
    fn vcpu_id(&self) -> usize;
    /// The power state of the calling VM's vCPU named `arch_id`.
    fn vcpu_power(&self, arch_id: u64) -> Option<Power>;
    /// Writes bytes to the calling VM's console.
    fn console_write(&self, bytes: &[u8]);
}

/// The host services the manager uses. Every function is called on the CPU
/// it concerns; none of them may block for long.
pub trait VmmHal: 'static {
    /// The calling CPU's id.
    fn cpu_id() -> usize;
    /// Interrupts CPU `cpu` (ends a guest run there, or a wait).
    fn wake_cpu(cpu: usize);
    /// Waits for an interrupt on this CPU unless `ready()`, asked with
    /// interrupts masked, says there is work.
    fn wait_for_irq_unless(ready: &mut dyn FnMut() -> bool);
    /// Host time in nanoseconds.
    fn now_ns() -> u64;
    /// Host time in ticks of the guests' timer counter.
    fn now_ticks() -> u64;
    /// The frequency of that counter, in Hz.
    fn ticks_per_second() -> u64;
    /// Makes sure this CPU is woken no later than `deadline` (ticks).
    fn wake_no_later_than_ticks(deadline: u64);
    /// Host memory in use, in bytes.
    fn used_memory_bytes() -> usize;
    /// Host memory free for VMs, in bytes.
    fn free_memory_bytes() -> usize;
    /// Writes to the host console (whole, not interleaved with other CPUs;
    /// `\n` as the console's line end).
    fn print(text: &str);
    /// A byte of host console input, if one is waiting.
    fn getchar() -> Option<u8>;
    /// Whether a guest timer fired on this CPU since it was last taken.
    fn guest_timer_fired(cpu: usize) -> bool;
    /// Takes this CPU's "a guest timer fired" note.
    fn take_guest_timer_fired(cpu: usize) -> bool;
    /// Builds the VM of image `image` under id `id` (memory, devices,
    /// vCPUs, images loaded, device interrupts routed to it), with vCPU `i`
    /// to run on physical CPU `pcpus[i]` and its console output going to
    /// `console`.
    fn build_vm(
        image: &VmImage,
        id: usize,
        pcpus: &[usize],
        console: Arc<dyn ConsoleSink>,
    ) -> Result<Arc<dyn ManagedVm>, String>;
    /// Releases what the host routed to VM `vm` (device interrupts).
    fn release_vm(vm: &dyn ManagedVm);
    /// Answers a hypercall of the guest's (the architecture's ABI).
    fn hypercall(guest: &dyn GuestServices, nr: u64, args: [u64; 6]) -> u64;
    /// The value a guest's CPU_ON returns for `result`, or `None` where the
    /// architecture's CPU start returns nothing (an x86 STARTUP IPI is a
    /// register write: the sender's registers stay as they are).
    fn cpu_on_status(result: CpuOnResult) -> Option<u64>;
}
