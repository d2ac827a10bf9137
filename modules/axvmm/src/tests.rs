//! The manager against a mock host and mock VMs: lifecycle, placement,
//! scheduling order, memory accounting, guest power requests.
//!
//! The mock host keeps its state per test thread; each test builds its own
//! [`Vmm`] and drives the CPUs' loops one pass at a time with
//! [`Vmm::step`], setting which CPU is "current".

use crate::hal::*;
use crate::lifecycle::{Request, VmState};
use crate::shell::Manager;
use crate::{CpuLocal, Step, Vmm};
use alloc::{string::String, sync::Arc, vec, vec::Vec};
use axerrno::{AxError, AxResult};
use axvcpu::{AxVCpuExitReason, TimerDeadlines};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

const MIB: usize = 1 << 20;
/// How long the mock guest runs per `run_vcpu`, unless scripted.
const SLICE_NS: u64 = 1_000_000;

#[derive(Default)]
struct Host {
    cpu: usize,
    now: u64,
    used: usize,
    total: usize,
    printed: String,
    input: VecDeque<u8>,
    wakes: Vec<usize>,
    /// The VMs built (weak: the manager alone keeps them alive).
    vms: Vec<std::sync::Weak<MockVm>>,
    builds: usize,
    released: Vec<usize>,
    /// When the host timer next wakes the CPU (ticks = mock ns).
    armed: Option<u64>,
    /// What each `wait_for_irq_unless` found: true if it did not wait.
    waits: Vec<bool>,
    /// Something that happens on another CPU while a guest runs: called
    /// from the first `run_vcpu` that ends at or after the given time.
    meanwhile: Option<(u64, Box<dyn FnOnce()>)>,
}

std::thread_local! {
    static HOST: RefCell<Host> = RefCell::new(Host { total: 1024 * MIB, ..Host::default() });
}

fn host<T>(f: impl FnOnce(&mut Host) -> T) -> T {
    HOST.with(|h| f(&mut h.borrow_mut()))
}

struct MockVm {
    id: usize,
    name: String,
    vcpus: usize,
    memory: usize,
    down: AtomicBool,
    exits: AtomicU64,
    /// Exits to return, per vCPU; empty: a host interrupt after a slice.
    script: Mutex<Vec<VecDeque<(u64, AxVCpuExitReason)>>>,
    /// Every `run_vcpu` call: (vCPU, the CPU it ran on).
    ran: Mutex<Vec<(usize, usize)>>,
    unbound: Mutex<Vec<usize>>,
    prepared: Mutex<Vec<(usize, usize, u64)>>,
    returns: Mutex<Vec<(usize, u64)>>,
    uart: Mutex<Vec<u8>>,
    pending_irq: AtomicBool,
    /// The saved deadline of its first timer (ticks = mock ns);
    /// `u64::MAX`: none.
    deadline: AtomicU64,
    /// The same, of its second timer.
    deadline2: AtomicU64,
    /// Every `set_wfi_exits` call: (vCPU, exits).
    wfi: Mutex<Vec<(usize, bool)>>,
}

impl Drop for MockVm {
    fn drop(&mut self) {
        let m = self.memory;
        let _ = HOST.try_with(|h| h.borrow_mut().used -= m);
    }
}

impl MockVm {
    fn push(&self, vcpu: usize, ns: u64, exit: AxVCpuExitReason) {
        self.script.lock().unwrap()[vcpu].push_back((ns, exit));
    }
    fn ran(&self) -> Vec<(usize, usize)> {
        self.ran.lock().unwrap().clone()
    }
}

impl ManagedVm for MockVm {
    fn id(&self) -> usize {
        self.id
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn vcpu_num(&self) -> usize {
        self.vcpus
    }
    fn run_vcpu(
        &self,
        vcpu: usize,
        answer: Option<u64>,
        on_interrupt: &mut dyn FnMut() -> bool,
    ) -> AxResult<AxVCpuExitReason> {
        if vcpu >= self.vcpus {
            return Err(AxError::InvalidInput);
        }
        if let Some(value) = answer {
            self.set_return_value(vcpu, value);
        }
        loop {
            self.ran.lock().unwrap().push((vcpu, host(|h| h.cpu)));
            self.exits.fetch_add(1, Ordering::Relaxed);
            let (ns, exit) = self.script.lock().unwrap()[vcpu]
                .pop_front()
                .unwrap_or((SLICE_NS, AxVCpuExitReason::ExternalInterrupt { vector: 26 }));
            host(|h| h.now += ns);
            if let Some((_, f)) = host(|h| h.meanwhile.take_if(|(at, _)| *at <= h.now)) {
                f();
            }
            // As the real VM: the manager decides at once whether a run a
            // host interrupt ended goes on.
            if matches!(exit, AxVCpuExitReason::ExternalInterrupt { .. }) && on_interrupt() {
                continue;
            }
            return Ok(exit);
        }
    }
    fn unbind_vcpu(&self, vcpu: usize) {
        self.unbound.lock().unwrap().push(vcpu);
    }
    fn prepare_vcpu(&self, vcpu: usize, entry: usize, arg: u64) -> AxResult {
        self.prepared.lock().unwrap().push((vcpu, entry, arg));
        Ok(())
    }
    fn set_return_value(&self, vcpu: usize, value: u64) {
        self.returns.lock().unwrap().push((vcpu, value));
    }
    fn vcpu_has_pending_irq(&self, _vcpu: usize) -> bool {
        self.pending_irq.load(Ordering::Acquire)
    }
    fn vcpu_timer_deadlines(&self, _vcpu: usize) -> TimerDeadlines {
        [&self.deadline, &self.deadline2].map(|d| match d.load(Ordering::Acquire) {
            u64::MAX => None,
            d => Some(d),
        })
    }
    fn set_wfi_exits(&self, vcpu: usize, exits: bool) {
        self.wfi.lock().unwrap().push((vcpu, exits));
    }
    fn vcpu_by_arch_id(&self, arch_id: u64) -> Option<usize> {
        // Like MPIDR: bit 31 set, Aff0 the index.
        let i = arch_id.checked_sub(0x8000_0000)? as usize;
        (i < self.vcpus).then_some(i)
    }
    fn shutdown(&self) {
        self.down.store(true, Ordering::Release);
    }
    fn shutting_down(&self) -> bool {
        self.down.load(Ordering::Acquire)
    }
    fn push_console_input(&self, byte: u8) -> bool {
        let mut u = self.uart.lock().unwrap();
        if u.len() >= 4 {
            return false;
        }
        u.push(byte);
        true
    }
    fn exits(&self) -> u64 {
        self.exits.load(Ordering::Relaxed)
    }
}

struct MockHal;
impl VmmHal for MockHal {
    fn cpu_id() -> usize {
        host(|h| h.cpu)
    }
    fn wake_cpu(cpu: usize) {
        host(|h| h.wakes.push(cpu));
    }
    fn wait_for_irq_unless(ready: &mut dyn FnMut() -> bool) {
        let busy = ready();
        host(|h| h.waits.push(busy));
    }
    fn now_ns() -> u64 {
        host(|h| h.now)
    }
    fn now_ticks() -> u64 {
        host(|h| h.now)
    }
    /// The mock's clock counts ns and ticks alike.
    fn ticks_per_second() -> u64 {
        1_000_000_000
    }
    fn wake_no_later_than_ticks(deadline: u64) {
        host(|h| h.armed = Some(h.armed.map_or(deadline, |a| a.min(deadline))));
    }
    fn used_memory_bytes() -> usize {
        host(|h| h.used)
    }
    fn free_memory_bytes() -> usize {
        host(|h| h.total - h.used)
    }
    fn print(text: &str) {
        host(|h| h.printed.push_str(text));
    }
    fn getchar() -> Option<u8> {
        host(|h| h.input.pop_front())
    }
    fn guest_timer_fired(_cpu: usize) -> bool {
        false
    }
    fn take_guest_timer_fired(_cpu: usize) -> bool {
        false
    }
    fn build_vm(
        image: &VmImage,
        id: usize,
        _pcpus: &[usize],
        _console: Arc<dyn axdevice::ConsoleSink>,
    ) -> Result<Arc<dyn ManagedVm>, String> {
        let vm = Arc::new(MockVm {
            id,
            name: image.name.clone(),
            vcpus: image.vcpus.len(),
            memory: image.memory_bytes,
            down: AtomicBool::new(false),
            exits: AtomicU64::new(0),
            script: Mutex::new((0..image.vcpus.len()).map(|_| VecDeque::new()).collect()),
            ran: Mutex::new(Vec::new()),
            unbound: Mutex::new(Vec::new()),
            prepared: Mutex::new(Vec::new()),
            returns: Mutex::new(Vec::new()),
            uart: Mutex::new(Vec::new()),
            pending_irq: AtomicBool::new(false),
            deadline: AtomicU64::new(u64::MAX),
            deadline2: AtomicU64::new(u64::MAX),
            wfi: Mutex::new(Vec::new()),
        });
        host(|h| {
            h.used += image.memory_bytes;
            h.builds += 1;
            h.vms.push(Arc::downgrade(&vm));
        });
        Ok(vm)
    }
    fn release_vm(vm: &dyn ManagedVm) {
        let id = vm.id();
        host(|h| h.released.push(id));
    }
    fn hypercall(guest: &dyn GuestServices, nr: u64, args: [u64; 6]) -> u64 {
        match nr {
            // "AFFINITY_INFO": the power state of vCPU args[0].
            1 => guest.vcpu_power(args[0]).map_or(u64::MAX, |p| p as u64),
            // "putchar"
            2 => {
                guest.console_write(&[args[0] as u8]);
                0
            }
            _ => guest.vm_id() as u64 * 100 + guest.vcpu_id() as u64,
        }
    }
    fn cpu_on_status(result: CpuOnResult) -> Option<u64> {
        Some(result as u64 + 10)
    }
}

fn image(name: &str, id: usize, vcpus: Vec<CpuChoice>, mib: usize, autostart: bool) -> VmImage {
    VmImage {
        file: std::format!("{name}.toml"),
        name: name.into(),
        id,
        memory_bytes: mib * MIB,
        vcpus,
        autostart,
    }
}

type TestVmm = Vmm<MockHal>;

/// A manager over `cpus` CPUs with `images`, booted (with power-off when
/// idle as given).
fn booted(images: Vec<VmImage>, cpus: usize, poweroff: bool) -> TestVmm {
    let vmm = TestVmm::new();
    vmm.init(images, cpus, poweroff);
    vmm.boot();
    vmm
}

/// Two VMs of one vCPU each, both on CPU 0 of a 1-CPU host, started.
fn sharing_cpu0(a: (&str, usize), b: (&str, usize)) -> TestVmm {
    booted(
        vec![
            image(a.0, a.1, vec![CpuChoice::Fixed(0)], 16, true),
            image(b.0, b.1, vec![CpuChoice::Fixed(0)], 16, true),
        ],
        1,
        false,
    )
}

fn on_cpu(cpu: usize) {
    host(|h| h.cpu = cpu);
}

/// One loop pass on `cpu`.
fn step(vmm: &TestVmm, cpu: usize, local: &mut CpuLocal) -> Step {
    on_cpu(cpu);
    let s = vmm.step(cpu, local);
    on_cpu(0);
    s
}

fn mock(i: usize) -> Arc<MockVm> {
    host(|h| h.vms[i].upgrade()).expect("the VM was freed")
}

fn printed() -> String {
    host(|h| core::mem::take(&mut h.printed))
}

fn state_of(vmm: &TestVmm, id: usize) -> Option<VmState> {
    vmm.list().into_iter().find(|v| v.id == id).map(|v| v.state)
}

#[test]
fn autostart_builds_and_starts_only_marked_images() {
    let vmm = booted(
        vec![
            image("a", 1, vec![CpuChoice::Any; 2], 64, true),
            image("b", 2, vec![CpuChoice::Any], 32, false),
        ],
        4,
        false,
    );
    let list = vmm.list();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0].id, list[0].state), (1, VmState::Running));
    assert_eq!(list[0].vcpus.iter().map(|v| v.pcpu).collect::<Vec<_>>(), vec![0, 1]);
    assert!(printed().contains("hv: VM 1 (a) ready: 2 vCPUs\n"));
    assert_eq!(vmm.images(), vec![("a".into(), true), ("b".into(), false)]);
}

#[test]
fn create_then_start_a_second_instance() {
    let vmm = booted(vec![image("a", 1, vec![CpuChoice::Any], 64, true)], 2, false);
    assert_eq!(vmm.create("a", None), Ok(2), "id 1 taken: the lowest free one");
    assert_eq!(state_of(&vmm, 2), Some(VmState::Created));
    assert_eq!(vmm.create("a", Some(7)), Ok(7));
    assert_eq!(vmm.create("a", Some(7)), Err("VM id 7 is taken".into()));
    assert_eq!(
        vmm.create("zz", None),
        Err("no config named \"zz\"; built in: a".into())
    );
    // Least loaded: VM 1 is on CPU 0, so VM 2 goes to CPU 1.
    assert_eq!(vmm.list()[1].vcpus[0].pcpu, 1);
    assert_eq!(vmm.request(2, Request::Start), Ok("VM 2 (a) started".into()));
    assert_eq!(state_of(&vmm, 2), Some(VmState::Running));
}

#[test]
fn illegal_requests_change_nothing() {
    let vmm = booted(vec![image("a", 1, vec![CpuChoice::Any], 64, true)], 1, false);
    let before = vmm.list();
    for (req, msg) in [
        (Request::Start, "VM 1 is already running"),
        (Request::Resume, "VM 1 is already running"),
    ] {
        assert_eq!(vmm.request(1, req), Err(msg.into()));
    }
    assert_eq!(vmm.request(9, Request::Stop), Err("no VM 9".into()));
    assert_eq!(vmm.list(), before);
    vmm.request(1, Request::Stop).unwrap();
    assert_eq!(vmm.request(1, Request::Stop), Err("VM 1 is already stopped".into()));
}

#[test]
fn not_enough_memory_is_refused_and_nothing_remains() {
    let vmm = booted(vec![image("big", 1, vec![CpuChoice::Any], 2048, false)], 1, false);
    let used = host(|h| h.used);
    let err = vmm.create("big", None).unwrap_err();
    assert!(err.contains("needs 2097152 KiB of memory"), "{err}");
    assert!(vmm.list().is_empty());
    assert_eq!(host(|h| (h.used, h.builds)), (used, 0));
}

#[test]
fn offline_fixed_cpu_is_refused() {
    let vmm = booted(vec![image("a", 1, vec![CpuChoice::Fixed(3)], 16, false)], 2, false);
    let err = vmm.create("a", None).unwrap_err();
    assert_eq!(err, "VM 1 (a): vCPU 0 wants CPU 3, which is not online (2 CPUs)");
    assert_eq!(host(|h| h.builds), 0);
}

#[test]
fn two_vms_sharing_a_cpu_alternate_fairly() {
    let vmm = sharing_cpu0(("spin", 1), ("short", 2));
    let (spin, short) = (mock(0), mock(1));
    // The spinner uses whole 10 ms ticks; the other exits after 1 ms.
    for _ in 0..100 {
        spin.push(0, 10_000_000, AxVCpuExitReason::ExternalInterrupt { vector: 26 });
    }
    let mut local = CpuLocal::default();
    for _ in 0..60 {
        assert_eq!(step(&vmm, 0, &mut local), Step::Ran);
    }
    let (a, b) = (spin.ran().len() as u64, short.ran().len() as u64);
    let (ta, tb) = (a * 10_000_000, b * SLICE_NS);
    assert!(
        ta.abs_diff(tb) <= 10_000_000,
        "guest time {ta} vs {tb} ns ({a} and {b} runs)"
    );
    assert!(a >= 1 && b >= 10);
}

#[test]
fn paused_vm_does_not_run_and_resumes() {
    let vmm = booted(vec![image("a", 1, vec![CpuChoice::Any], 16, true)], 1, false);
    let vm = mock(0);
    let mut local = CpuLocal::default();
    step(&vmm, 0, &mut local);
    let runs = vm.ran().len();
    assert!(runs >= 1);
    let msg = vmm.request(1, Request::Pause).unwrap();
    assert!(msg.starts_with("VM 1 (a) paused"), "{msg}");
    assert_eq!(step(&vmm, 0, &mut local), Step::Idle);
    assert_eq!(vm.ran().len(), runs, "a paused vCPU is not run");
    assert_eq!(vmm.request(1, Request::Pause), Err("VM 1 is already paused".into()));
    assert_eq!(vmm.request(1, Request::Resume), Ok("VM 1 (a) resumed".into()));
    step(&vmm, 0, &mut local);
    assert!(vm.ran().len() > runs);
}

#[test]
fn guest_power_off_stops_and_idle_power_off_frees_everything() {
    let vmm = booted(vec![image("a", 1, vec![CpuChoice::Any; 2], 64, true)], 2, true);
    let used_before_vms = 0;
    let vm = mock(0);
    vm.push(0, 1000, AxVCpuExitReason::SystemDown);
    let (mut l0, mut l1) = (CpuLocal::default(), CpuLocal::default());
    assert_eq!(step(&vmm, 0, &mut l0), Step::Ran);
    assert_eq!(state_of(&vmm, 1), Some(VmState::Stopped));
    assert_eq!(host(|h| h.released.clone()), vec![1]);
    drop(vm);
    // CPU 1 still holds vCPU 1: no power-off until it is retired.
    assert_eq!(step(&vmm, 0, &mut l0), Step::Ran, "CPU 0 retires its own vCPU");
    assert_ne!(step(&vmm, 0, &mut l0), Step::PowerOff);
    assert_eq!(step(&vmm, 1, &mut l1), Step::Ran);
    assert_eq!(step(&vmm, 0, &mut l0), Step::PowerOff);
    let out = printed();
    let lines: Vec<&str> = out.lines().collect();
    let i = lines
        .iter()
        .position(|l| *l == "hv: VM 1 (a) stopped: powered off by the guest (vCPU 0)")
        .unwrap();
    assert_eq!(lines[i + 1], "hv: VM 1 (a) retired, 65536 KiB of its memory freed");
    assert_eq!(lines[i + 2], "hv: no VM left, all guest memory returned; powering off");
    assert_eq!(host(|h| h.used), used_before_vms);
}

#[test]
fn without_poweroff_when_idle_the_hypervisor_stays() {
    let vmm = booted(vec![image("a", 1, vec![CpuChoice::Any], 16, true)], 1, false);
    mock(0).push(0, 10, AxVCpuExitReason::SystemDown);
    let mut l = CpuLocal::default();
    for _ in 0..5 {
        assert_ne!(step(&vmm, 0, &mut l), Step::PowerOff);
    }
    assert_eq!(state_of(&vmm, 1), Some(VmState::Stopped));
    assert_eq!(host(|h| h.used), 16 * MIB, "a stopped VM keeps its memory");
    let msg = vmm.request(1, Request::Destroy).unwrap();
    assert_eq!(msg, "VM 1 (a) being destroyed");
    step(&vmm, 0, &mut l);
    assert!(vmm.list().is_empty());
    assert_eq!(host(|h| h.used), 0);
    assert!(printed().contains("hv: VM 1 (a) retired, 16384 KiB of its memory freed\n"));
}

#[test]
fn restart_builds_fresh_and_runs_again() {
    let vmm = booted(vec![image("a", 1, vec![CpuChoice::Any], 16, true)], 1, false);
    let mut l = CpuLocal::default();
    step(&vmm, 0, &mut l);
    assert_eq!(vmm.request(1, Request::Restart), Ok("VM 1 (a) restarting".into()));
    step(&vmm, 0, &mut l); // retires the old vCPU, then CPU 0 rebuilds
    step(&vmm, 0, &mut l);
    assert_eq!(host(|h| h.builds), 2);
    assert_eq!(state_of(&vmm, 1), Some(VmState::Running));
    assert_eq!(host(|h| h.used), 16 * MIB, "the old memory was freed");
    let fresh = mock(1);
    step(&vmm, 0, &mut l);
    assert!(!fresh.ran().is_empty(), "the new instance runs");
}

#[test]
fn guest_reset_reboots_the_vm() {
    let vmm = booted(vec![image("a", 1, vec![CpuChoice::Any], 16, true)], 1, true);
    mock(0).push(0, 10, AxVCpuExitReason::SystemReset);
    let mut l = CpuLocal::default();
    for _ in 0..4 {
        assert_ne!(step(&vmm, 0, &mut l), Step::PowerOff, "a reset is not a power-off");
    }
    assert_eq!(host(|h| h.builds), 2);
    assert_eq!(state_of(&vmm, 1), Some(VmState::Running));
    let out = printed();
    assert!(
        out.contains("hv: VM 1 (a) stopped: reset by the guest (vCPU 0)\n"),
        "{out}"
    );
    assert!(out.matches("hv: VM 1 (a) ready: 1 vCPUs\n").count() == 2, "{out}");
}

#[test]
fn cpu_on_starts_the_target_once() {
    let vmm = booted(
        vec![image("a", 1, vec![CpuChoice::Fixed(0), CpuChoice::Fixed(1)], 16, true)],
        2,
        false,
    );
    let vm = mock(0);
    let up = |target| AxVCpuExitReason::CpuUp {
        target_cpu: target,
        entry_point: axvcpu::GuestPhysAddr::from(0x4008_0000),
        arg: 5,
    };
    vm.push(0, 10, up(0x8000_0001));
    vm.push(0, 10, up(0x8000_0001));
    vm.push(0, 10, up(0x8000_0009));
    vm.push(
        0,
        10,
        AxVCpuExitReason::Hypercall {
            nr: 1,
            args: [0x8000_0001, 0, 0, 0, 0, 0],
        },
    );
    let (mut l0, mut l1) = (CpuLocal::default(), CpuLocal::default());
    step(&vmm, 0, &mut l0);
    let returns = vm.returns.lock().unwrap().clone();
    let want = |r: CpuOnResult| r as u64 + 10;
    assert_eq!(
        returns,
        vec![
            (0, want(CpuOnResult::Started)),
            (0, want(CpuOnResult::OnPending)),
            (0, want(CpuOnResult::NoSuchCpu)),
            (0, Power::OnPending as u64)
        ]
    );
    assert!(host(|h| h.wakes.contains(&1)), "the target's CPU is woken");
    step(&vmm, 1, &mut l1);
    assert_eq!(*vm.prepared.lock().unwrap(), vec![(1, 0x4008_0000, 5)]);
    assert_eq!(vm.ran().last(), Some(&(1, 1)));
}

#[test]
fn halted_vcpu_costs_nothing_until_woken() {
    let vmm = booted(vec![image("a", 1, vec![CpuChoice::Any], 16, true)], 1, false);
    let vm = mock(0);
    vm.push(0, 10, AxVCpuExitReason::Halt);
    let mut l = CpuLocal::default();
    step(&vmm, 0, &mut l);
    assert_eq!(step(&vmm, 0, &mut l), Step::Idle);
    assert_eq!(vm.ran().len(), 1);
    assert!(vmm.kick(1, 0));
    assert!(!vmm.kick(1, 5) && !vmm.kick(4, 0));
    assert_eq!(step(&vmm, 0, &mut l), Step::Ran);
    assert!(vm.ran().len() >= 2, "woken, it runs again");
}

#[test]
fn hypercalls_reach_the_arch_handler_with_the_caller() {
    let vmm = booted(vec![image("a", 3, vec![CpuChoice::Any], 16, true)], 1, false);
    let vm = mock(0);
    vm.push(0, 10, AxVCpuExitReason::Hypercall { nr: 9, args: [0; 6] });
    vm.push(
        0,
        10,
        AxVCpuExitReason::Hypercall {
            nr: 2,
            args: [b'x' as u64, 0, 0, 0, 0, 0],
        },
    );
    vm.push(
        0,
        10,
        AxVCpuExitReason::Hypercall {
            nr: 2,
            args: [b'\n' as u64, 0, 0, 0, 0, 0],
        },
    );
    let mut l = CpuLocal::default();
    step(&vmm, 0, &mut l);
    assert_eq!(vm.returns.lock().unwrap()[..2], [(0, 300), (0, 0)]);
    assert!(printed().contains("[a] x\n"), "one line, prefixed with the VM's name");
}

#[test]
fn a_hypercall_answer_survives_the_end_of_the_slice() {
    let vmm = booted(vec![image("a", 3, vec![CpuChoice::Any], 16, true)], 1, false);
    let vm = mock(0);
    // The hypercall exit comes as the slice ends: the vCPU does not run
    // again now, and its answer is set at once instead of on entry.
    vm.push(
        0,
        crate::slice::SLICE_NS,
        AxVCpuExitReason::Hypercall { nr: 9, args: [0; 6] },
    );
    let mut l = CpuLocal::default();
    step(&vmm, 0, &mut l);
    assert_eq!(vm.ran().len(), 1, "the slice ended after one run");
    assert_eq!(*vm.returns.lock().unwrap(), [(0, 300)]);
}

#[test]
fn unsupported_exit_stops_only_that_vm() {
    let vmm = sharing_cpu0(("bad", 1), ("good", 2));
    mock(0).push(
        0,
        10,
        AxVCpuExitReason::Unsupported {
            raw: 0x8600_0000,
            detail: 0x10,
        },
    );
    let mut l = CpuLocal::default();
    for _ in 0..4 {
        step(&vmm, 0, &mut l);
    }
    assert_eq!(state_of(&vmm, 1), Some(VmState::Stopped));
    assert_eq!(state_of(&vmm, 2), Some(VmState::Running));
    assert!(mock(1).ran().len() >= 2);
    assert!(
        printed().contains("hv: VM 1 (bad) stopped: vCPU 0: unhandled exception (syndrome 0x86000000, address 0x10)")
    );
}

#[test]
fn console_input_goes_to_the_focused_vm_and_ctrl_a_n_moves_it() {
    let vmm = booted(
        vec![
            image("a", 1, vec![CpuChoice::Any], 16, true),
            image("b", 2, vec![CpuChoice::Any], 16, true),
        ],
        2,
        false,
    );
    host(|h| h.input.extend(b"hi\x01nyo\x01\x01"));
    vmm.poll_console();
    assert_eq!(*mock(0).uart.lock().unwrap(), b"hi");
    assert_eq!(*mock(1).uart.lock().unwrap(), b"yo\x01");
    // A full UART: the byte is held and offered again.
    host(|h| h.input.extend(b"12345"));
    vmm.poll_console();
    assert_eq!(*mock(1).uart.lock().unwrap(), b"yo\x011");
    mock(1).uart.lock().unwrap().clear();
    vmm.poll_console();
    assert_eq!(*mock(1).uart.lock().unwrap(), b"2345");
}

#[test]
fn shell_commands_print_on_lines_of_their_own_and_vm_output_goes_above_the_prompt() {
    let vmm = booted(
        vec![
            image("a", 1, vec![CpuChoice::Any], 16, true),
            image("b", 2, vec![CpuChoice::Any], 16, true),
        ],
        1,
        false,
    );
    printed();
    host(|h| h.input.extend(b"\x01mvm stop 2\n"));
    vmm.poll_console();
    let out = printed();
    assert!(
        out.contains("hv> vm stop 2\nhv: VM 2 (b) stopped: stopped from the console\n"),
        "{out:?}"
    );
    assert!(out.ends_with("hv> "), "{out:?}");
    // A line typed halfway, then VM output: the output goes above, the
    // prompt line is drawn again below it.
    host(|h| h.input.extend(b"vm li"));
    vmm.poll_console();
    vmm.say(format_args!("hv: something happened"));
    let out = printed();
    assert!(
        out.ends_with("vm li\r\x1b[Khv: something happened\nhv> vm li"),
        "{out:?}"
    );
    // Leaving the shell: input goes to the VM again.
    host(|h| h.input.extend(b"\x15exit\n"));
    vmm.poll_console();
    assert!(printed().contains("left the management shell; Ctrl-A m opens it again\n"));
    host(|h| h.input.extend(b"z"));
    vmm.poll_console();
    assert_eq!(*mock(0).uart.lock().unwrap(), b"z");
}

/// A halted vCPU whose timers are not loaded (another vCPU ran on its CPU
/// since) runs again once its saved deadline passes, and only once for one
/// deadline (a guest that keeps an expired timer masked does not keep the
/// CPU busy).
#[test]
fn a_halted_vcpu_runs_when_its_saved_timer_is_due_once_per_deadline() {
    let vmm = sharing_cpu0(("sleeper", 1), ("other", 2));
    let (sleeper, other) = (mock(0), mock(1));
    sleeper.push(0, 10, AxVCpuExitReason::Halt);
    other.push(0, 10, AxVCpuExitReason::Halt);
    let mut l = CpuLocal::default();
    step(&vmm, 0, &mut l); // the sleeper halts
    step(&vmm, 0, &mut l); // the other runs (now bound) and halts
    let now = host(|h| h.now);
    sleeper.deadline.store(now + 1_000, Ordering::Release);
    assert_eq!(step(&vmm, 0, &mut l), Step::Idle, "not due yet");
    host(|h| h.now += 1_000);
    sleeper.push(0, 10, AxVCpuExitReason::Halt);
    assert_eq!(step(&vmm, 0, &mut l), Step::Ran, "due: it runs");
    assert_eq!(sleeper.ran().len(), 2);
    // It halts again with the same (expired) deadline: no busy loop. The
    // other vCPU is unbound now, and not due either.
    assert_eq!(step(&vmm, 0, &mut l), Step::Idle);
    assert_eq!(sleeper.ran().len(), 2);
}

/// A vCPU's two timers are due each on its own: one that fired long ago
/// (the guest left it expired, its interrupt disabled) does not hide a
/// later deadline of the other, which arms the host timer and wakes the
/// vCPU. (The guest fuzzer found this: a vCPU waiting in WFI for its
/// virtual timer, with a physical timer at compare value 0, slept forever
/// once another VM had run on its CPU.)
#[test]
fn a_timer_seen_long_ago_does_not_hide_the_other_timers_deadline() {
    let vmm = sharing_cpu0(("sleeper", 1), ("other", 2));
    let (sleeper, other) = (mock(0), mock(1));
    // The sleeper's second timer expired at 0; it runs (seeing that) and
    // halts, with its first timer armed ahead.
    sleeper.deadline2.store(0, Ordering::Release);
    sleeper.push(0, 10, AxVCpuExitReason::Halt);
    other.push(0, 10, AxVCpuExitReason::Halt);
    let mut l = CpuLocal::default();
    step(&vmm, 0, &mut l); // the sleeper halts
    step(&vmm, 0, &mut l); // the other runs (now bound) and halts
    let now = host(|h| h.now);
    sleeper.deadline.store(now + 1_000, Ordering::Release);
    host(|h| h.armed = None);
    vmm.idle_wait(0, &mut l);
    assert_eq!(host(|h| h.armed), Some(now + 1_000), "woken for the first timer");
    host(|h| h.now += 1_000);
    sleeper.push(0, 10, AxVCpuExitReason::Halt);
    assert_eq!(step(&vmm, 0, &mut l), Step::Ran, "due: it runs");
    assert_eq!(sleeper.ran().len(), 2);
}

/// The wake-up for a halted vCPU's saved timer deadline is armed in the
/// check made with interrupts masked right before the CPU waits: a host
/// timer tick between the loop pass and the wait (it re-arms the host
/// timer for its own period) cannot push it back.
#[test]
fn the_saved_timer_wake_up_is_armed_right_before_the_wait() {
    let vmm = sharing_cpu0(("sleeper", 1), ("other", 2));
    let (sleeper, other) = (mock(0), mock(1));
    sleeper.push(0, 10, AxVCpuExitReason::Halt);
    other.push(0, 10, AxVCpuExitReason::Halt);
    let mut l = CpuLocal::default();
    step(&vmm, 0, &mut l); // the sleeper halts
    step(&vmm, 0, &mut l); // the other runs (now bound) and halts
    let now = host(|h| h.now);
    sleeper.deadline.store(now + 1_000, Ordering::Release);
    assert_eq!(step(&vmm, 0, &mut l), Step::Idle, "not due yet");
    // A host tick comes in between and arms the timer for its next period.
    host(|h| h.armed = Some(now + 10_000_000));
    vmm.idle_wait(0, &mut l);
    assert_eq!(host(|h| h.waits.clone()), [false], "nothing to run: it waits");
    assert_eq!(host(|h| h.armed), Some(now + 1_000), "woken when the sleeper is due");
}

/// Interrupts for a vCPU on another CPU interrupt that CPU once until the
/// vCPU runs: a flood of them (one VM's vCPU sending SGIs to its other
/// vCPU) does not become a flood of physical interrupts on the CPU, which
/// may be running another VM's vCPU meanwhile.
#[test]
fn kicks_interrupt_the_target_cpu_once_until_the_vcpu_runs() {
    let vmm = booted(vec![image("a", 1, vec![CpuChoice::Fixed(1)], 16, true)], 2, false);
    let a = mock(0);
    a.push(0, 10, AxVCpuExitReason::Halt);
    let mut l1 = CpuLocal::default();
    assert_eq!(step(&vmm, 1, &mut l1), Step::Ran, "vCPU 0 runs on CPU 1 and halts");
    assert_eq!(step(&vmm, 1, &mut l1), Step::Idle);
    host(|h| h.wakes.clear());
    for _ in 0..5 {
        assert!(vmm.kick(1, 0));
    }
    assert_eq!(host(|h| h.wakes.clone()), [1], "one interrupt for five kicks");
    a.push(0, 10, AxVCpuExitReason::Halt);
    assert_eq!(step(&vmm, 1, &mut l1), Step::Ran, "woken: it runs");
    assert!(vmm.kick(1, 0));
    assert!(vmm.kick(1, 0));
    assert_eq!(
        host(|h| h.wakes.clone()),
        [1, 1],
        "after it ran, the next kick interrupts again"
    );
}

/// A vCPU alone on its CPU waits for interrupts in the guest, where it may
/// take in a kick's interrupt and go on waiting without an exit: every
/// kick interrupts its CPU while that slice lasts; after it, one does.
#[test]
fn every_kick_interrupts_a_vcpu_that_may_wait_in_the_guest() {
    let vmm: &'static TestVmm = Box::leak(Box::new(booted(
        vec![image("a", 1, vec![CpuChoice::Fixed(1)], 16, true)],
        2,
        false,
    )));
    // Three kicks from CPU 0 while vCPU 0 runs alone on CPU 1.
    host(|h| {
        h.wakes.clear();
        h.meanwhile = Some((
            0,
            Box::new(|| {
                on_cpu(0);
                for _ in 0..3 {
                    assert!(vmm.kick(1, 0));
                }
                on_cpu(1);
            }),
        ));
    });
    let mut l1 = CpuLocal::default();
    assert_eq!(step(vmm, 1, &mut l1), Step::Ran, "vCPU 0 runs alone on CPU 1");
    assert_eq!(host(|h| h.wakes.clone()), [1, 1, 1], "during its slice");
    // Its slice over (it might have powered itself off): one interrupt.
    host(|h| h.wakes.clear());
    for _ in 0..3 {
        assert!(vmm.kick(1, 0));
    }
    assert_eq!(host(|h| h.wakes.clone()), [1], "after its slice");
}

/// A CPU notes the VM whose vCPU it has loaded, and a kick from that CPU
/// to a vCPU of the same VM (an SGI) finds the VM there, not in the
/// registry, whose lock CPU 0 takes on every pass (here held meanwhile:
/// a kick that took it would never return). Retiring the vCPU clears the
/// note.
#[test]
fn a_kick_from_a_cpu_running_the_vm_does_not_take_the_registry_lock() {
    let vmm = booted(
        vec![image("a", 1, vec![CpuChoice::Fixed(1), CpuChoice::Fixed(2)], 16, true)],
        3,
        false,
    );
    let a = mock(0);
    a.push(0, 10, AxVCpuExitReason::Halt);
    let mut l1 = CpuLocal::default();
    assert_eq!(step(&vmm, 1, &mut l1), Step::Ran, "vCPU 0 runs on CPU 1 and halts");
    assert!(vmm.bound_runs[1].lock().as_ref().is_some_and(|r| r.vm.id() == 1));
    let run = vmm.bound_runs[1].lock().clone().unwrap();
    assert!(!run.vcpus[0].woken());
    on_cpu(1);
    {
        let _registry = vmm.records.lock();
        assert!(vmm.kick(1, 0), "vCPU 0 of VM 1, kicked from CPU 1");
    }
    on_cpu(0);
    assert!(run.vcpus[0].woken(), "the kick reached it");
    drop(run);
    assert!(!vmm.kick(5, 0), "no VM 5");
    vmm.request(1, Request::Stop).unwrap();
    step(&vmm, 1, &mut l1);
    assert!(vmm.bound_runs[1].lock().is_none(), "retired: the note goes");
}

/// A kick from a CPU running another VM's vCPU finds its VM in the
/// registry; one for a vCPU or VM that does not exist finds nothing, also
/// where the CPU's own VM has that id.
#[test]
fn a_kick_for_another_vm_goes_to_the_registry() {
    let vmm = booted(
        vec![
            image("a", 1, vec![CpuChoice::Fixed(1)], 16, true),
            image("b", 2, vec![CpuChoice::Fixed(2)], 16, true),
        ],
        3,
        false,
    );
    mock(0).push(0, 10, AxVCpuExitReason::Halt);
    mock(1).push(0, 10, AxVCpuExitReason::Halt);
    let (mut l1, mut l2) = (CpuLocal::default(), CpuLocal::default());
    assert_eq!(step(&vmm, 1, &mut l1), Step::Ran);
    assert_eq!(step(&vmm, 2, &mut l2), Step::Ran);
    let bound = vmm.bound_runs[1].lock().clone().unwrap();
    assert_eq!(bound.vm_id(), 1);
    let b = vmm.run_of(2).unwrap();
    assert_eq!(b.vm_id(), 2);
    assert!(!b.vcpus[0].woken());
    host(|h| h.wakes.clear());
    on_cpu(1);
    assert!(vmm.kick(2, 0), "vCPU 0 of VM 2, from CPU 1 (VM 1's)");
    assert!(!vmm.kick(1, 1), "VM 1 has no vCPU 1");
    assert!(!vmm.kick(2, 3), "VM 2 has no vCPU 3");
    assert!(!vmm.kick(7, 0), "no VM 7");
    on_cpu(0);
    assert!(b.vcpus[0].woken(), "the kick reached VM 2's vCPU");
    assert!(!bound.vcpus[0].woken(), "not VM 1's");
    assert_eq!(host(|h| h.wakes.clone()), [2], "VM 2's CPU is interrupted");
}

/// While a vCPU runs on a CPU where another, halted, has a saved timer
/// deadline, the host timer is set for that deadline: a vCPU that never
/// leaves the CPU by itself (looping on trapping instructions) cannot hold
/// the other's timer interrupt back until a later host tick.
#[test]
fn a_running_vcpu_does_not_hold_back_a_saved_timer() {
    let vmm = sharing_cpu0(("sleeper", 1), ("busy", 2));
    let sleeper = mock(0);
    sleeper.push(0, 10, AxVCpuExitReason::Halt);
    let mut l = CpuLocal::default();
    step(&vmm, 0, &mut l); // the sleeper halts
    let now = host(|h| h.now);
    sleeper.deadline.store(now + 5_000, Ordering::Release);
    host(|h| h.armed = None);
    assert_eq!(step(&vmm, 0, &mut l), Step::Ran, "the busy VM runs");
    assert_eq!(host(|h| h.armed), Some(now + 5_000));
}

/// `n` hypercall exits of `ns` each for vCPU 0 of `vm`: a guest that
/// never leaves its CPU by itself (the hypervisor answers every exit and
/// enters it again at once; the host takes its interrupts meanwhile, so
/// they end no guest run).
fn push_hypercalls(vm: &MockVm, n: usize, ns: u64) {
    for _ in 0..n {
        vm.push(0, ns, AxVCpuExitReason::Hypercall { nr: 7, args: [0; 6] });
    }
}

/// A halted vCPU woken (an SGI from its VM's vCPU on another CPU) while a
/// busy vCPU of another VM runs on its CPU making exits the hypervisor
/// answers at once: the busy one leaves at its next exit, and the woken
/// one runs next, before the busy one again although it comes first on
/// the CPU.
#[test]
fn a_woken_vcpu_runs_at_the_next_exit_of_a_busy_one() {
    let vmm: &'static TestVmm = Box::leak(Box::new(booted(
        vec![
            image("busy", 1, vec![CpuChoice::Fixed(0)], 16, true),
            image("sleeper", 2, vec![CpuChoice::Fixed(0)], 16, true),
        ],
        1,
        false,
    )));
    let (busy, sleeper) = (mock(0), mock(1));
    busy.push(0, 10, AxVCpuExitReason::Halt);
    sleeper.push(0, 10, AxVCpuExitReason::Halt);
    let mut l = CpuLocal::default();
    step(vmm, 0, &mut l); // the busy VM's vCPU halts (it is set up)
    step(vmm, 0, &mut l); // the sleeper halts
    // The busy one wakes and makes 100 ms of hypercalls; 2 ms in, the
    // sleeper's VM kicks it from another CPU.
    push_hypercalls(&busy, 1000, 100_000);
    assert!(vmm.kick(1, 0));
    let kick_at = host(|h| h.now) + 2_000_000;
    host(|h| {
        h.meanwhile = Some((
            kick_at,
            Box::new(move || {
                on_cpu(1);
                assert!(vmm.kick(2, 0));
                on_cpu(0);
            }),
        ))
    });
    assert_eq!(step(vmm, 0, &mut l), Step::Ran);
    let busy_runs = busy.ran().len();
    assert_eq!(busy_runs, 1 + 20, "the busy vCPU leaves at the exit after the kick");
    assert_eq!(host(|h| h.now), kick_at);
    sleeper.push(0, 10, AxVCpuExitReason::Halt);
    assert_eq!(step(vmm, 0, &mut l), Step::Ran);
    assert_eq!(sleeper.ran().len(), 2, "the woken vCPU runs next");
    assert_eq!(busy.ran().len(), busy_runs);
}

/// Two vCPUs on one CPU that never leave it by themselves (hypercalls
/// only, no host interrupt in the guest) still take turns, a slice of at
/// most a host tick each.
#[test]
fn vcpus_that_only_make_hypercalls_take_turns() {
    let vmm = sharing_cpu0(("a", 1), ("b", 2));
    let (a, b) = (mock(0), mock(1));
    push_hypercalls(&a, 1000, 100_000);
    push_hypercalls(&b, 1000, 100_000);
    let mut l = CpuLocal::default();
    step(&vmm, 0, &mut l);
    assert_eq!((a.ran().len(), b.ran().len()), (100, 0), "a runs one slice: 10 ms");
    step(&vmm, 0, &mut l);
    assert_eq!((a.ran().len(), b.ran().len()), (100, 100), "then b");
    step(&vmm, 0, &mut l);
    assert_eq!(a.ran().len(), 200);
}

/// A halted vCPU's saved timer deadline passing ends the slice of a vCPU
/// that makes hypercalls only, at its first exit after the deadline.
#[test]
fn a_saved_timer_ends_the_slice_of_a_vcpu_that_makes_hypercalls_only() {
    let vmm = sharing_cpu0(("sleeper", 1), ("busy", 2));
    let (sleeper, busy) = (mock(0), mock(1));
    sleeper.push(0, 10, AxVCpuExitReason::Halt);
    let mut l = CpuLocal::default();
    step(&vmm, 0, &mut l); // the sleeper halts
    let now = host(|h| h.now);
    sleeper.deadline.store(now + 550_000, Ordering::Release);
    push_hypercalls(&busy, 1000, 100_000);
    step(&vmm, 0, &mut l);
    assert_eq!(
        busy.ran().len(),
        6,
        "the busy vCPU leaves at its first exit after 0.55 ms"
    );
    sleeper.push(0, 10, AxVCpuExitReason::Halt);
    step(&vmm, 0, &mut l);
    assert_eq!(sleeper.ran().len(), 2, "the sleeper runs for its timer");
}

#[test]
fn a_vcpu_alone_on_its_cpu_waits_in_the_guest_and_exits_to_wait_beside_another() {
    let vmm = booted(vec![image("a", 1, vec![CpuChoice::Fixed(0)], 16, true)], 1, false);
    let a = mock(0);
    let mut local = CpuLocal::default();
    assert_eq!(step(&vmm, 0, &mut local), Step::Ran);
    assert_eq!(*a.wfi.lock().unwrap(), [(0, false)], "alone: its WFI waits on the CPU");
    assert_eq!(step(&vmm, 0, &mut local), Step::Ran);
    assert_eq!(a.wfi.lock().unwrap().len(), 1, "told once, not at every run");
    // A second VM placed on the same CPU: the first exits to wait again.
    assert_eq!(vmm.create("a", Some(2)), Ok(2));
    assert_eq!(vmm.request(2, Request::Start), Ok("VM 2 (a) started".into()));
    let ran = a.ran().len();
    while a.ran().len() == ran {
        assert_eq!(step(&vmm, 0, &mut local), Step::Ran);
    }
    assert_eq!(*a.wfi.lock().unwrap(), [(0, false), (0, true)]);
    assert!(
        mock(1).wfi.lock().unwrap().is_empty(),
        "a vCPU that never ran alone keeps the exit it was created with"
    );
}

#[test]
fn a_standing_partial_line_is_shown_at_the_tick_of_a_vcpu_that_waits_in_the_guest() {
    let vmm = booted(vec![image("a", 1, vec![CpuChoice::Fixed(0)], 16, true)], 1, false);
    let run = vmm.run_of(1).unwrap();
    run.sink.write_bytes("a", b"login: ");
    let mut local = CpuLocal::default();
    // Tick exits (the mock's default exit) 1 ms apart: the line is looked
    // at once per 10 ms; seen still at the second look, it is shown.
    for _ in 0..25 {
        assert_eq!(step(&vmm, 0, &mut local), Step::Ran);
    }
    vmm.drain_console(usize::MAX, true);
    assert!(printed().contains("[a] login: "), "the prompt is shown");
}

#[test]
fn a_lone_vcpu_goes_on_after_an_interrupt_until_its_slice_ends() {
    let vmm = booted(vec![image("a", 1, vec![CpuChoice::Fixed(0)], 16, true)], 1, false);
    let a = mock(0);
    let mut local = CpuLocal::default();
    let t0 = host(|h| h.now);
    assert_eq!(step(&vmm, 0, &mut local), Step::Ran);
    // Runs of 1 ms, each ended by a host interrupt: one pass holds the
    // whole 10 ms slice.
    assert_eq!(a.ran().len(), 10);
    assert_eq!(host(|h| h.now) - t0, 10_000_000);
}
