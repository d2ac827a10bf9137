//! Tests of [`AxVCpu`] against [`MockArchVCpu`], an arch vCPU that records
//! every call and can be told to fail any of them.

use std::{
    collections::VecDeque,
    format,
    string::String,
    sync::{Arc, Mutex},
    vec,
    vec::Vec,
};

use crate::{
    AccessFlags, AccessWidth, AxArchVCpu, AxError, AxResult, AxVCpu, AxVCpuExitReason, CurrentVCpu, GuestPhysAddr,
    HostPhysAddr, MAX_SLOT_VCPU_ID, MAX_SLOT_VM_ID, Port, SysRegAddr, VCpuId, VCpuState, VMId, current_vcpu,
};

/// The calls a [`MockArchVCpu`] received, in order.
type CallLog = Arc<Mutex<Vec<String>>>;

/// The error a mock method returns when told to fail; distinct from
/// `BadState` so that tests can tell whose error came back.
const MOCK_ERROR: AxError = AxError::Io;

/// A fallible [`AxArchVCpu`] method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    New,
    SetEntry,
    SetEptRoot,
    Setup,
    Run,
    Bind,
    Unbind,
    InjectInterrupt,
}

struct MockCreateConfig {
    log: CallLog,
    fail: Option<Method>,
}

/// The setup config: a tag the mock logs, to check it arrived.
struct MockSetupConfig(usize);

struct MockArchVCpu {
    log: CallLog,
    fail: Option<Method>,
    exits: VecDeque<AxVCpuExitReason>,
    entry: Option<GuestPhysAddr>,
    ept_root: Option<HostPhysAddr>,
    gprs: [usize; 32],
    return_value: usize,
    pending_irqs: Vec<usize>,
}

impl MockArchVCpu {
    /// Makes `method` fail (with [`MOCK_ERROR`]) from now on.
    fn fail_on(&mut self, method: Method) {
        self.fail = Some(method);
    }

    /// Queues the exit the next `run` returns (`Nothing` when none queued).
    fn queue_exit(&mut self, exit: AxVCpuExitReason) {
        self.exits.push_back(exit);
    }

    /// Logs `call` and fails if told to fail `method`.
    fn record(&self, method: Method, call: String) -> AxResult {
        self.log.lock().unwrap().push(call);
        if self.fail == Some(method) {
            Err(MOCK_ERROR)
        } else {
            Ok(())
        }
    }
}

impl AxArchVCpu for MockArchVCpu {
    type CreateConfig = MockCreateConfig;
    type SetupConfig = MockSetupConfig;

    fn new(vm_id: VMId, vcpu_id: VCpuId, config: MockCreateConfig) -> AxResult<Self> {
        config.log.lock().unwrap().push(format!("new({vm_id}, {vcpu_id})"));
        if config.fail == Some(Method::New) {
            return Err(MOCK_ERROR);
        }
        Ok(Self {
            log: config.log,
            fail: config.fail,
            exits: VecDeque::new(),
            entry: None,
            ept_root: None,
            gprs: [0; 32],
            return_value: 0,
            pending_irqs: Vec::new(),
        })
    }

    fn set_entry(&mut self, entry: GuestPhysAddr) -> AxResult {
        self.record(Method::SetEntry, format!("set_entry({:#x})", entry.as_usize()))?;
        self.entry = Some(entry);
        Ok(())
    }

    fn set_ept_root(&mut self, ept_root: HostPhysAddr) -> AxResult {
        self.record(Method::SetEptRoot, format!("set_ept_root({:#x})", ept_root.as_usize()))?;
        self.ept_root = Some(ept_root);
        Ok(())
    }

    fn setup(&mut self, config: MockSetupConfig) -> AxResult {
        self.record(Method::Setup, format!("setup({})", config.0))
    }

    fn run(&mut self) -> AxResult<AxVCpuExitReason> {
        self.record(Method::Run, "run".into())?;
        Ok(self.exits.pop_front().unwrap_or(AxVCpuExitReason::Nothing))
    }

    fn bind(&mut self) -> AxResult {
        self.record(Method::Bind, "bind".into())
    }

    fn unbind(&mut self) -> AxResult {
        self.record(Method::Unbind, "unbind".into())
    }

    fn set_gpr(&mut self, reg: usize, val: usize) {
        self.log.lock().unwrap().push(format!("set_gpr({reg}, {val:#x})"));
        if let Some(slot) = self.gprs.get_mut(reg) {
            *slot = val;
        }
    }

    fn inject_interrupt(&mut self, vector: usize) -> AxResult {
        self.record(Method::InjectInterrupt, format!("inject_interrupt({vector})"))?;
        self.pending_irqs.push(vector);
        Ok(())
    }

    fn set_return_value(&mut self, val: usize) {
        self.log.lock().unwrap().push(format!("set_return_value({val:#x})"));
        self.return_value = val;
    }
}

type MockVCpu = AxVCpu<MockArchVCpu>;

const VM_ID: VMId = 1;
const ENTRY: usize = 0x4008_0000;
const EPT_ROOT: usize = 0x8_0000;
const SETUP_TAG: usize = 7;

fn create(vcpu_id: VCpuId) -> (MockVCpu, CallLog) {
    let log = CallLog::default();
    let vcpu = MockVCpu::new(
        VM_ID,
        vcpu_id,
        2,
        Some(0b0110),
        MockCreateConfig {
            log: log.clone(),
            fail: None,
        },
    )
    .unwrap();
    (vcpu, log)
}

fn do_setup(vcpu: &mut MockVCpu) -> AxResult {
    vcpu.setup(
        GuestPhysAddr::from(ENTRY),
        HostPhysAddr::from(EPT_ROOT),
        MockSetupConfig(SETUP_TAG),
    )
}

/// A vCPU driven into `state` through legal calls.
fn vcpu_in(state: VCpuState) -> (MockVCpu, CallLog) {
    let (mut vcpu, log) = create(0);
    match state {
        VCpuState::Created => {}
        VCpuState::Invalid => {
            vcpu.get_arch_vcpu().fail_on(Method::Setup);
            assert_eq!(do_setup(&mut vcpu), Err(MOCK_ERROR));
        }
        VCpuState::Free | VCpuState::Ready | VCpuState::Blocked => {
            do_setup(&mut vcpu).unwrap();
            if state != VCpuState::Free {
                vcpu.bind().unwrap();
            }
            if state == VCpuState::Blocked {
                vcpu.block().unwrap();
            }
        }
        VCpuState::Running => unreachable!("Running is not observable outside run()"),
    }
    assert_eq!(vcpu.state(), state);
    (vcpu, log)
}

fn calls(log: &CallLog) -> Vec<String> {
    log.lock().unwrap().clone()
}

fn this(vcpu: &MockVCpu) -> Option<CurrentVCpu> {
    Some(CurrentVCpu {
        vm_id: vcpu.vm_id(),
        vcpu_id: vcpu.id(),
    })
}

#[test]
fn new_starts_created_and_records_its_placement() {
    let (vcpu, log) = create(0);
    assert_eq!(vcpu.state(), VCpuState::Created);
    assert_eq!(vcpu.vm_id(), VM_ID);
    assert_eq!(vcpu.id(), 0);
    assert_eq!(vcpu.favor_phys_cpu(), 2);
    assert_eq!(vcpu.phys_cpu_set(), Some(0b0110));
    assert!(vcpu.is_bsp());
    assert_eq!(calls(&log), ["new(1, 0)"]);

    let (ap, _) = create(3);
    assert!(!ap.is_bsp());
    assert_eq!(ap.id(), 3);
}

#[test]
fn new_returns_the_arch_error() {
    let log = CallLog::default();
    let result = MockVCpu::new(
        VM_ID,
        0,
        0,
        None,
        MockCreateConfig {
            log: log.clone(),
            fail: Some(Method::New),
        },
    );
    assert_eq!(result.err(), Some(MOCK_ERROR));
    assert_eq!(calls(&log), ["new(1, 0)"]);
}

#[test]
fn new_refuses_ids_the_per_cpu_slot_cannot_hold() {
    for (vm_id, vcpu_id) in [(MAX_SLOT_VM_ID + 1, 0), (0, MAX_SLOT_VCPU_ID + 1)] {
        let log = CallLog::default();
        let result = MockVCpu::new(
            vm_id,
            vcpu_id,
            0,
            None,
            MockCreateConfig {
                log: log.clone(),
                fail: None,
            },
        );
        assert_eq!(result.err(), Some(AxError::InvalidInput));
        assert!(calls(&log).is_empty(), "arch new must not be called");
    }
    // The largest ids are accepted and recorded faithfully.
    let log = CallLog::default();
    let mut vcpu = MockVCpu::new(
        MAX_SLOT_VM_ID,
        MAX_SLOT_VCPU_ID,
        0,
        None,
        MockCreateConfig { log, fail: None },
    )
    .unwrap();
    do_setup(&mut vcpu).unwrap();
    vcpu.bind().unwrap();
    assert_eq!(
        current_vcpu(),
        Some(CurrentVCpu {
            vm_id: MAX_SLOT_VM_ID,
            vcpu_id: MAX_SLOT_VCPU_ID
        })
    );
    vcpu.unbind().unwrap();
}

#[test]
fn setup_sets_entry_then_ept_root_then_runs_setup() {
    let (mut vcpu, log) = create(0);
    do_setup(&mut vcpu).unwrap();
    assert_eq!(vcpu.state(), VCpuState::Free);
    assert_eq!(
        calls(&log),
        [
            "new(1, 0)",
            "set_entry(0x40080000)",
            "set_ept_root(0x80000)",
            "setup(7)"
        ]
    );
    let arch = vcpu.arch_vcpu();
    assert_eq!(arch.entry, Some(GuestPhysAddr::from(ENTRY)));
    assert_eq!(arch.ept_root, Some(HostPhysAddr::from(EPT_ROOT)));
}

#[test]
fn bind_makes_it_ready_and_current() {
    let (mut vcpu, log) = vcpu_in(VCpuState::Free);
    assert_eq!(current_vcpu(), None);
    vcpu.bind().unwrap();
    assert_eq!(vcpu.state(), VCpuState::Ready);
    assert_eq!(current_vcpu(), this(&vcpu));
    assert_eq!(calls(&log).last().unwrap(), "bind");
}

#[test]
fn run_returns_the_arch_exit_and_goes_back_to_ready() {
    let (mut vcpu, log) = vcpu_in(VCpuState::Ready);
    let mmio = AxVCpuExitReason::MmioRead {
        addr: GuestPhysAddr::from(0x0900_0000),
        width: AccessWidth::Dword,
        reg: 3,
        reg_width: AccessWidth::Qword,
        signed_ext: false,
    };
    let fault = AxVCpuExitReason::NestedPageFault {
        addr: GuestPhysAddr::from(0x1000),
        access_flags: AccessFlags::WRITE,
    };
    vcpu.get_arch_vcpu().queue_exit(mmio.clone());
    vcpu.get_arch_vcpu().queue_exit(fault.clone());

    assert_eq!(vcpu.run(), Ok(mmio));
    assert_eq!(vcpu.state(), VCpuState::Ready);
    assert_eq!(vcpu.run(), Ok(fault));
    assert_eq!(vcpu.state(), VCpuState::Ready);
    assert_eq!(vcpu.run(), Ok(AxVCpuExitReason::Nothing));
    assert_eq!(vcpu.state(), VCpuState::Ready);
    assert_eq!(current_vcpu(), this(&vcpu));

    let log = calls(&log);
    assert_eq!(log[log.len() - 3..], ["run", "run", "run"]);
}

#[test]
fn unbind_frees_it_and_clears_current() {
    let (mut vcpu, log) = vcpu_in(VCpuState::Ready);
    vcpu.unbind().unwrap();
    assert_eq!(vcpu.state(), VCpuState::Free);
    assert_eq!(current_vcpu(), None);
    assert_eq!(calls(&log).last().unwrap(), "unbind");
    // It can be bound again (to this or another CPU).
    vcpu.bind().unwrap();
    assert_eq!(vcpu.state(), VCpuState::Ready);
    assert_eq!(current_vcpu(), this(&vcpu));
}

#[test]
fn block_and_unblock_stay_bound_and_call_nothing() {
    let (mut vcpu, log) = vcpu_in(VCpuState::Ready);
    let before = calls(&log);
    vcpu.block().unwrap();
    assert_eq!(vcpu.state(), VCpuState::Blocked);
    assert_eq!(current_vcpu(), this(&vcpu));
    vcpu.unblock().unwrap();
    assert_eq!(vcpu.state(), VCpuState::Ready);
    assert_eq!(current_vcpu(), this(&vcpu));
    assert_eq!(calls(&log), before);
}

#[test]
fn full_lifecycle_calls_the_arch_layer_in_order() {
    let (mut vcpu, log) = create(0);
    do_setup(&mut vcpu).unwrap();
    vcpu.bind().unwrap();
    vcpu.get_arch_vcpu().queue_exit(AxVCpuExitReason::Hypercall {
        nr: 0x8400_0000,
        args: [1, 2, 3, 4, 5, 6],
    });
    assert!(matches!(
        vcpu.run(),
        Ok(AxVCpuExitReason::Hypercall { nr: 0x8400_0000, .. })
    ));
    vcpu.set_return_value(0x2a).unwrap();
    vcpu.block().unwrap();
    vcpu.inject_interrupt(27).unwrap();
    vcpu.unblock().unwrap();
    vcpu.run().unwrap();
    vcpu.unbind().unwrap();
    assert_eq!(vcpu.state(), VCpuState::Free);
    assert_eq!(
        calls(&log),
        [
            "new(1, 0)",
            "set_entry(0x40080000)",
            "set_ept_root(0x80000)",
            "setup(7)",
            "bind",
            "run",
            "set_return_value(0x2a)",
            "inject_interrupt(27)",
            "run",
            "unbind",
        ]
    );
}

/// Every public call that is checked against the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Setup,
    Bind,
    Unbind,
    Run,
    Block,
    Unblock,
    SetEntry,
    SetGpr,
    InjectInterrupt,
    SetReturnValue,
}

const ALL_OPS: [Op; 10] = [
    Op::Setup,
    Op::Bind,
    Op::Unbind,
    Op::Run,
    Op::Block,
    Op::Unblock,
    Op::SetEntry,
    Op::SetGpr,
    Op::InjectInterrupt,
    Op::SetReturnValue,
];

/// The states a caller can observe.
const OBSERVABLE_STATES: [VCpuState; 5] = [
    VCpuState::Created,
    VCpuState::Free,
    VCpuState::Ready,
    VCpuState::Blocked,
    VCpuState::Invalid,
];

impl Op {
    fn apply(self, vcpu: &mut MockVCpu) -> AxResult {
        match self {
            Op::Setup => do_setup(vcpu),
            Op::Bind => vcpu.bind(),
            Op::Unbind => vcpu.unbind(),
            Op::Run => vcpu.run().map(drop),
            Op::Block => vcpu.block(),
            Op::Unblock => vcpu.unblock(),
            Op::SetEntry => vcpu.set_entry(GuestPhysAddr::from(0x1000)),
            Op::SetGpr => vcpu.set_gpr(1, 2),
            Op::InjectInterrupt => vcpu.inject_interrupt(33),
            Op::SetReturnValue => vcpu.set_return_value(0),
        }
    }

    /// The lifecycle table, written out independently of the code: the
    /// state after `self` in `state`, `None` where the call is illegal.
    fn expected(self, state: VCpuState) -> Option<VCpuState> {
        use VCpuState::*;
        match (self, state) {
            (Op::Setup, Created) => Some(Free),
            (Op::Bind, Free) => Some(Ready),
            (Op::Unbind, Ready) => Some(Free),
            (Op::Run, Ready) => Some(Ready),
            (Op::Block, Ready) => Some(Blocked),
            (Op::Unblock, Blocked) => Some(Ready),
            (
                Op::SetEntry | Op::SetGpr | Op::InjectInterrupt | Op::SetReturnValue,
                Created | Free | Ready | Blocked,
            ) => Some(state),
            _ => None,
        }
    }
}

#[test]
fn every_call_in_every_state_follows_the_table() {
    let mut illegal = 0;
    for state in OBSERVABLE_STATES {
        for op in ALL_OPS {
            let (mut vcpu, log) = vcpu_in(state);
            let before = calls(&log);
            let current_before = current_vcpu();
            let result = op.apply(&mut vcpu);
            match op.expected(state) {
                Some(next) => {
                    assert_eq!(result, Ok(()), "{op:?} in {state:?}");
                    assert_eq!(vcpu.state(), next, "{op:?} in {state:?}");
                }
                None => {
                    illegal += 1;
                    assert_eq!(result, Err(AxError::BadState), "{op:?} in {state:?}");
                    assert_eq!(vcpu.state(), state, "{op:?} in {state:?} changed state");
                    assert_eq!(calls(&log), before, "{op:?} in {state:?} reached the arch");
                    assert_eq!(current_vcpu(), current_before, "{op:?} in {state:?}");
                }
            }
        }
    }
    // 6 transitions x 5 states minus 6 legal ones, plus 4 register calls
    // in Invalid: the table has not silently become more permissive.
    assert_eq!(illegal, 6 * 5 - 6 + 4);
}

#[test]
fn invalid_refuses_every_call() {
    let (mut vcpu, log) = vcpu_in(VCpuState::Invalid);
    let before = calls(&log);
    for op in ALL_OPS {
        assert_eq!(op.apply(&mut vcpu), Err(AxError::BadState), "{op:?}");
        assert_eq!(vcpu.state(), VCpuState::Invalid);
    }
    assert_eq!(calls(&log), before);
}

/// Drives a fresh vCPU to `state`, makes `method` fail, applies `op` and
/// checks that the vCPU is Invalid, the mock's error came back, the
/// per-CPU record is gone and every later call is refused.
fn check_arch_error_invalidates(state: VCpuState, method: Method, op: Op) -> Vec<String> {
    let (mut vcpu, log) = vcpu_in(state);
    vcpu.get_arch_vcpu().fail_on(method);
    assert_eq!(op.apply(&mut vcpu), Err(MOCK_ERROR), "{op:?} failing {method:?}");
    assert_eq!(vcpu.state(), VCpuState::Invalid);
    assert_eq!(current_vcpu(), None, "a dead vCPU must not hold the CPU");
    let after = calls(&log);
    for later in ALL_OPS {
        assert_eq!(later.apply(&mut vcpu), Err(AxError::BadState), "{later:?}");
        assert_eq!(vcpu.state(), VCpuState::Invalid);
    }
    assert_eq!(calls(&log), after, "calls after Invalid reached the arch");
    after
}

#[test]
fn arch_error_in_setup_stops_at_the_failing_step() {
    let log = check_arch_error_invalidates(VCpuState::Created, Method::SetEntry, Op::Setup);
    assert_eq!(log, ["new(1, 0)", "set_entry(0x40080000)"]);
    let log = check_arch_error_invalidates(VCpuState::Created, Method::SetEptRoot, Op::Setup);
    assert_eq!(log, ["new(1, 0)", "set_entry(0x40080000)", "set_ept_root(0x80000)"]);
    let log = check_arch_error_invalidates(VCpuState::Created, Method::Setup, Op::Setup);
    assert_eq!(log.last().unwrap(), "setup(7)");
}

#[test]
fn arch_error_in_bind_run_or_unbind_invalidates() {
    check_arch_error_invalidates(VCpuState::Free, Method::Bind, Op::Bind);
    check_arch_error_invalidates(VCpuState::Ready, Method::Run, Op::Run);
    check_arch_error_invalidates(VCpuState::Ready, Method::Unbind, Op::Unbind);
}

#[test]
fn after_a_failed_run_another_vcpu_can_bind_here() {
    let (mut dead, _) = vcpu_in(VCpuState::Ready);
    dead.get_arch_vcpu().fail_on(Method::Run);
    assert_eq!(dead.run(), Err(MOCK_ERROR));
    let (mut next, _) = {
        let (mut v, log) = create(1);
        do_setup(&mut v).unwrap();
        (v, log)
    };
    next.bind().unwrap();
    assert_eq!(current_vcpu(), this(&next));
    // The dead vCPU's drop must not clear the live one's record.
    drop(dead);
    assert_eq!(current_vcpu(), this(&next));
}

#[test]
fn register_call_errors_do_not_invalidate() {
    let (mut vcpu, log) = vcpu_in(VCpuState::Ready);
    vcpu.get_arch_vcpu().fail_on(Method::InjectInterrupt);
    assert_eq!(vcpu.inject_interrupt(5), Err(MOCK_ERROR));
    assert_eq!(vcpu.state(), VCpuState::Ready);
    assert_eq!(calls(&log).last().unwrap(), "inject_interrupt(5)");

    let (mut vcpu, _) = vcpu_in(VCpuState::Free);
    vcpu.get_arch_vcpu().fail_on(Method::SetEntry);
    assert_eq!(vcpu.set_entry(GuestPhysAddr::from(0x2000)), Err(MOCK_ERROR));
    assert_eq!(vcpu.state(), VCpuState::Free);
}

#[test]
fn register_calls_reach_the_arch_vcpu() {
    let (mut vcpu, _) = vcpu_in(VCpuState::Free);
    vcpu.set_entry(GuestPhysAddr::from(0x4020_0000)).unwrap();
    vcpu.set_gpr(0, 0x4800_0000).unwrap();
    vcpu.set_gpr(99, 1).unwrap(); // out of range: ignored by the mock
    vcpu.set_return_value(0xdead).unwrap();
    vcpu.inject_interrupt(30).unwrap();
    vcpu.inject_interrupt(27).unwrap();
    let arch = vcpu.arch_vcpu();
    assert_eq!(arch.entry, Some(GuestPhysAddr::from(0x4020_0000)));
    assert_eq!(arch.gprs[0], 0x4800_0000);
    assert_eq!(arch.return_value, 0xdead);
    assert_eq!(arch.pending_irqs, vec![30, 27]);
}

#[test]
fn bind_is_refused_while_another_vcpu_is_bound_here() {
    let (bound, _) = vcpu_in(VCpuState::Ready);
    let (mut other, log) = {
        let (mut v, log) = create(1);
        do_setup(&mut v).unwrap();
        (v, log)
    };
    let before = calls(&log);
    assert_eq!(other.bind(), Err(AxError::BadState));
    assert_eq!(other.state(), VCpuState::Free);
    assert_eq!(calls(&log), before, "arch bind must not be called");
    assert_eq!(current_vcpu(), this(&bound));
}

#[test]
fn run_and_unbind_are_refused_on_another_physical_cpu() {
    let (vcpu, log) = vcpu_in(VCpuState::Ready);
    let before = calls(&log);
    // A thread stands for another physical CPU.
    let vcpu = std::thread::spawn(move || {
        let mut vcpu = vcpu;
        assert_eq!(current_vcpu(), None);
        assert_eq!(vcpu.run(), Err(AxError::BadState));
        assert_eq!(vcpu.unbind(), Err(AxError::BadState));
        assert_eq!(vcpu.state(), VCpuState::Ready);
        vcpu
    })
    .join()
    .unwrap();
    assert_eq!(calls(&log), before);
    // Back on the CPU it is bound to, it runs and unbinds.
    let mut vcpu = vcpu;
    vcpu.run().unwrap();
    vcpu.unbind().unwrap();
    assert_eq!(current_vcpu(), None);
}

#[test]
fn dropping_a_bound_vcpu_releases_the_cpu() {
    {
        let (vcpu, _) = vcpu_in(VCpuState::Blocked);
        assert_eq!(current_vcpu(), this(&vcpu));
    }
    assert_eq!(current_vcpu(), None);
}

#[test]
fn every_exit_reason_survives_the_wrapper() {
    let exits = [
        AxVCpuExitReason::MmioWrite {
            addr: GuestPhysAddr::from(0x0900_0000),
            width: AccessWidth::Byte,
            data: 0x41,
        },
        AxVCpuExitReason::SysRegRead {
            addr: SysRegAddr::new(0x3a_3016),
            reg: 4,
        },
        AxVCpuExitReason::SysRegWrite {
            addr: SysRegAddr::new(0x3a_3016),
            value: 9,
        },
        AxVCpuExitReason::IoRead {
            port: Port::new(0x3f8),
            width: AccessWidth::Byte,
        },
        AxVCpuExitReason::IoWrite {
            port: Port::new(0x3f8),
            width: AccessWidth::Byte,
            data: 0x0a,
        },
        AxVCpuExitReason::ExternalInterrupt { vector: 27 },
        AxVCpuExitReason::Halt,
        AxVCpuExitReason::CpuUp {
            target_cpu: 1,
            entry_point: GuestPhysAddr::from(0x4008_0000),
            arg: 0x4800_0000,
        },
        AxVCpuExitReason::CpuDown { state: 0 },
        AxVCpuExitReason::SystemDown,
        AxVCpuExitReason::SendIPI {
            target_cpu: 0b10,
            target_cpu_aux: 0,
            send_to_all: false,
            send_to_self: false,
            vector: 1,
        },
        AxVCpuExitReason::FailEntry {
            hardware_entry_failure_reason: 33,
        },
        AxVCpuExitReason::Unsupported {
            raw: 0x8600_0007,
            detail: 0x4008_0010,
        },
    ];
    let (mut vcpu, _) = vcpu_in(VCpuState::Ready);
    for exit in &exits {
        vcpu.get_arch_vcpu().queue_exit(exit.clone());
    }
    for exit in exits {
        assert_eq!(vcpu.run(), Ok(exit));
        assert_eq!(vcpu.state(), VCpuState::Ready);
    }
}

#[test]
fn fault_for_last_exit_only_between_runs_and_defaults_to_unsupported() {
    use crate::LastExitFault;
    for state in [VCpuState::Created, VCpuState::Free, VCpuState::Blocked] {
        let (mut v, _) = vcpu_in(state);
        assert_eq!(
            v.inject_fault_for_last_exit(LastExitFault::Undefined),
            Err(AxError::BadState),
            "{state:?}"
        );
        assert_eq!(v.state(), state);
    }
    // The mock does not override the trait's default.
    let (mut ready, _) = vcpu_in(VCpuState::Ready);
    assert_eq!(
        ready.inject_fault_for_last_exit(LastExitFault::Access),
        Err(AxError::Unsupported)
    );
    assert_eq!(ready.state(), VCpuState::Ready);
}
