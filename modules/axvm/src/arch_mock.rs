#![cfg_attr(not(test), allow(dead_code))]
//! A scripted vCPU for the build machine: `run` returns the exits queued on
//! the calling thread, and every call it gets is recorded there, so tests of
//! the VM's exit loop can check what the loop did.

use arm_vcpu::a64::{NotEmulated, VmBus};
use axerrno::{AxError, AxResult};
use axvcpu::{
    AxArchPerCpu, AxArchVCpu, AxVCpuExitReason, AxVCpuHal, ExitFastPath, FastExit, GuestPhysAddr, HostPhysAddr,
    LastExitFault, ListRegs, LocalIrqLine, VCpuId, VMId,
};
use core::marker::PhantomData;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::vec::Vec;

std::thread_local! {
    static SCRIPT: RefCell<VecDeque<AxVCpuExitReason>> = const { RefCell::new(VecDeque::new()) };
    static EVENTS: RefCell<Vec<Event>> = const { RefCell::new(Vec::new()) };
    static TIMER_LEVEL: RefCell<bool> = const { RefCell::new(false) };
    static SAVED_DEADLINE: RefCell<Option<u64>> = const { RefCell::new(None) };
    static GUEST: RefCell<Option<fn(&mut ListRegs)>> = const { RefCell::new(None) };
    static EMULATION: RefCell<Option<Emulation>> = const { RefCell::new(None) };
    static FAST: RefCell<bool> = const { RefCell::new(false) };
}

/// Makes the scripted vCPU offer its device, system-register and SGI exits
/// to the VM's fast path, as the hardware vCPU does (`true`), or return
/// every exit (`false`, the default, like an architecture without one).
pub fn set_fast(on: bool) {
    FAST.with(|f| *f.borrow_mut() = on);
}

/// What "the guest instruction" does when the VM asks the scripted vCPU to
/// emulate an access without syndrome: its accesses through the bus, and
/// the outcome.
pub type Emulation = fn(&mut dyn VmBus) -> Result<(), NotEmulated>;

/// Sets what [`ScriptedVCpu::emulate_no_syndrome`] does; `None`: it
/// refuses (as for an exit that was no data abort).
pub fn set_emulation(f: Option<Emulation>) {
    EMULATION.with(|e| *e.borrow_mut() = f);
}

/// Number of list registers the scripted vCPU has.
pub const MOCK_LIST_REGS: usize = 4;

/// Sets what the scripted vCPU reports as its saved timer deadline.
pub fn set_saved_deadline(deadline: Option<u64>) {
    SAVED_DEADLINE.with(|d| *d.borrow_mut() = deadline);
}

/// Sets the level of the scripted vCPU's timer line (INTID 27).
pub fn set_timer_level(level: bool) {
    TIMER_LEVEL.with(|t| *t.borrow_mut() = level);
}

/// What "the guest" does to the list registers during each `run` (for
/// example acknowledge or end an interrupt); `None`: nothing.
pub fn set_guest(f: Option<fn(&mut ListRegs)>) {
    GUEST.with(|g| *g.borrow_mut() = f);
}

/// What a [`ScriptedVCpu`] was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `set_gpr(reg, val)`.
    Gpr(usize, usize),
    /// `inject_fault_for_last_exit`.
    Fault(LastExitFault),
    /// `inject_interrupt`.
    Irq(usize),
    /// `set_entry`.
    Entry(usize),
    /// An exit was offered to the fast path (with [`set_fast`]), which
    /// answered this.
    Offered(FastExit),
}

impl<U> ScriptedVCpu<U> {
    /// Runs the emulation set by [`set_emulation`] (the hardware vCPU's
    /// method of the same name decodes the guest's instruction).
    pub fn emulate_no_syndrome(&mut self, bus: &mut dyn VmBus) -> Result<(), NotEmulated> {
        match EMULATION.with(|e| *e.borrow()) {
            Some(f) => f(bus),
            None => Err(NotEmulated::NoDataAbort),
        }
    }
}

/// Queues exits for the next `run` calls on this thread.
pub fn script(exits: impl IntoIterator<Item = AxVCpuExitReason>) {
    SCRIPT.with(|s| s.borrow_mut().extend(exits));
}

/// Takes the events recorded on this thread.
pub fn take_events() -> Vec<Event> {
    EVENTS.with(|e| core::mem::take(&mut *e.borrow_mut()))
}

fn record(e: Event) {
    EVENTS.with(|v| v.borrow_mut().push(e));
}

/// The create parameters of a [`ScriptedVCpu`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MockCreateConfig {
    /// x0 when the vCPU starts (the device tree's address).
    pub x0: usize,
}

/// A vCPU whose exits come from the thread's script.
pub struct ScriptedVCpu<U> {
    /// x0 it was created with.
    pub x0: usize,
    /// When set, `inject_fault_for_last_exit` fails (a guest that cannot
    /// take the fault).
    pub refuse_faults: bool,
    /// The list registers, as the VM layer filled them before `run`.
    pub lrs: ListRegs,
    _u: PhantomData<fn() -> U>,
}

impl<U: AxVCpuHal> AxArchVCpu for ScriptedVCpu<U> {
    type CreateConfig = MockCreateConfig;
    type SetupConfig = ();

    fn new(_vm_id: VMId, _vcpu_id: VCpuId, config: Self::CreateConfig) -> AxResult<Self> {
        Ok(Self {
            x0: config.x0,
            refuse_faults: false,
            lrs: ListRegs {
                count: MOCK_LIST_REGS,
                ..ListRegs::default()
            },
            _u: PhantomData,
        })
    }
    fn set_entry(&mut self, entry: GuestPhysAddr) -> AxResult {
        record(Event::Entry(entry.as_usize()));
        Ok(())
    }
    fn set_ept_root(&mut self, _ept_root: HostPhysAddr) -> AxResult {
        Ok(())
    }
    fn setup(&mut self, _config: ()) -> AxResult {
        Ok(())
    }
    fn run(&mut self) -> AxResult<AxVCpuExitReason> {
        if let Some(guest) = GUEST.with(|g| *g.borrow()) {
            guest(&mut self.lrs);
        }
        SCRIPT.with(|s| s.borrow_mut().pop_front()).ok_or(AxError::BadState)
    }
    /// With [`set_fast`], the scripted exits the hardware vCPU would offer
    /// go to `fast` first, and the run goes on with the next one while it
    /// finishes them (a read's value written as the hardware vCPU writes
    /// it).
    fn run_with<F: ExitFastPath>(&mut self, fast: &F) -> AxResult<AxVCpuExitReason> {
        if !FAST.with(|f| *f.borrow()) {
            return self.run();
        }
        loop {
            let exit = self.run()?;
            if !matches!(
                exit,
                AxVCpuExitReason::MmioRead { .. }
                    | AxVCpuExitReason::MmioWrite { .. }
                    | AxVCpuExitReason::SysRegRead { .. }
                    | AxVCpuExitReason::SysRegWrite { .. }
                    | AxVCpuExitReason::SendIPI { .. }
            ) {
                return Ok(exit);
            }
            // MMIO goes to its own entry, as the hardware vCPU offers it.
            let answer = match exit {
                AxVCpuExitReason::MmioRead { addr, width, .. } => fast.mmio(addr, width, None),
                AxVCpuExitReason::MmioWrite { addr, width, data } => fast.mmio(addr, width, Some(data)),
                _ => fast.finish(&exit),
            };
            record(Event::Offered(answer));
            match answer {
                FastExit::Slow => return Ok(exit),
                FastExit::Done { value, resume } => {
                    match exit {
                        AxVCpuExitReason::MmioRead {
                            width,
                            reg,
                            reg_width,
                            signed_ext,
                            ..
                        } => self.set_gpr(
                            reg,
                            arm_vcpu::exit::mmio_read_result(value, width, signed_ext, reg_width) as usize,
                        ),
                        AxVCpuExitReason::SysRegRead { reg, .. } => self.set_gpr(reg, value as usize),
                        _ => {}
                    }
                    if !resume {
                        return Ok(AxVCpuExitReason::Nothing);
                    }
                }
            }
        }
    }
    fn bind(&mut self) -> AxResult {
        Ok(())
    }
    fn unbind(&mut self) -> AxResult {
        Ok(())
    }
    fn set_gpr(&mut self, reg: usize, val: usize) {
        record(Event::Gpr(reg, val));
    }
    fn inject_interrupt(&mut self, vector: usize) -> AxResult {
        record(Event::Irq(vector));
        Ok(())
    }
    fn set_return_value(&mut self, val: usize) {
        record(Event::Gpr(0, val));
    }
    fn inject_fault_for_last_exit(&mut self, fault: LastExitFault) -> AxResult {
        if self.refuse_faults {
            return Err(AxError::BadState);
        }
        record(Event::Fault(fault));
        Ok(())
    }
    fn list_regs(&mut self) -> Option<&mut ListRegs> {
        Some(&mut self.lrs)
    }
    fn saved_timer_deadlines(&self) -> axvcpu::TimerDeadlines {
        [SAVED_DEADLINE.with(|d| *d.borrow()), None]
    }
    fn local_irq_lines(&self) -> [Option<LocalIrqLine>; 2] {
        let level = TIMER_LEVEL.with(|t| *t.borrow());
        [
            Some(LocalIrqLine {
                intid: arm_vcpu::irqs::VTIMER_PPI,
                level,
            }),
            None,
        ]
    }
}

/// Per-CPU state that is always enabled.
pub struct MockPerCpu<U>(bool, PhantomData<fn() -> U>);

impl<U: AxVCpuHal> AxArchPerCpu for MockPerCpu<U> {
    fn new(_cpu_id: usize) -> AxResult<Self> {
        Ok(Self(false, PhantomData))
    }
    fn is_enabled(&self) -> bool {
        self.0
    }
    fn hardware_enable(&mut self) -> AxResult {
        self.0 = true;
        Ok(())
    }
    fn hardware_disable(&mut self) -> AxResult {
        self.0 = false;
        Ok(())
    }
}
