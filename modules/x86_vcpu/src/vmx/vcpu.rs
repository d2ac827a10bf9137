//! [`VmxVcpu`]: one guest CPU under VMX.

use core::marker::PhantomData;

use axerrno::{AxError, AxResult};
use axvcpu::{AxArchVCpu, AxVCpuExitReason, AxVCpuHal, GuestPhysAddr, HostPhysAddr, LastExitFault, VCpuId, VMId};

use super::controls::VmxBasic;
use super::entry::{RunFrame, invept, vmx_enter};
use super::exit_info::VmxExitInfo;
use super::exit_map::VmxRawExit;
use super::setup::{self, VmxCaps};
use super::vmcs::{VmcsGuestNW, VmcsHostNW, VmcsReadOnly32, VmcsReadOnly64, VmcsReadOnlyNW};
use crate::bitmap::{VmxIoBitmap, VmxMsrBitmap};
use crate::event::PendingEvents;
use crate::exit::mmio::{FaultAction, LastExit, RegWrite, complete_alu, fault_for_last_exit, route_set_gpr};
use crate::frame::PhysFrame;
use crate::mode::{StartMode, VmCpuMode, X86VCpuCreateConfig};
use crate::msr::{self, Msr, MsrValues};
use crate::regs::{GeneralRegisters, Gpr, GprPart, RSP_INDEX};
use crate::xstate::hw::FpState;

/// One guest CPU under Intel VMX (the seed's `VmxVcpu`). `H` is the
/// host's [`AxVCpuHal`].
pub struct VmxVcpu<H: AxVCpuHal> {
    /// The guest's registers and the host stack slot of the world switch.
    pub(super) frame: RunFrame,
    pub(super) vmcs: PhysFrame<H>,
    io_bitmap: VmxIoBitmap<PhysFrame<H>>,
    msr_bitmap: VmxMsrBitmap<PhysFrame<H>>,
    pub(super) fp: FpState<H>,
    guest_msrs: MsrValues<6>,
    host_msrs: MsrValues<6>,
    pub(super) vm_id: VMId,
    pub(super) vcpu_id: VCpuId,
    start_mode: StartMode,
    entry: Option<GuestPhysAddr>,
    ept_root: Option<HostPhysAddr>,
    pub(super) caps: Option<VmxCaps>,
    /// The VMCS was launched since its last VMCLEAR.
    launched: bool,
    /// The VMCS holds the controls (done at the first bind).
    programmed: bool,
    /// The guest state must be set from the entry before the next run.
    reset_pending: bool,
    pub(super) events: PendingEvents,
    /// An IDT-vectoring event is being re-injected on the next entry.
    pub(super) event_in_flight: bool,
    /// What the last exit left for `set_gpr` / a fault.
    pub(super) last: LastExit,
    /// RIP at the last exit, before any advance.
    pub(super) exit_rip: u64,
    /// The last exit, for `inner_run`.
    exit_info: Option<VmxExitInfo>,
    _hal: PhantomData<fn() -> H>,
}

impl<H: AxVCpuHal> core::fmt::Debug for VmxVcpu<H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VmxVcpu")
            .field("vm_id", &self.vm_id)
            .field("vcpu_id", &self.vcpu_id)
            .field("launched", &self.launched)
            .finish()
    }
}

impl<H: AxVCpuHal> VmxVcpu<H> {
    /// Creates vCPU `vcpu_id` of VM `vm_id` (starting in real mode): its
    /// VMCS, I/O and MSR bitmaps and FP save area.
    pub fn new(vm_id: VMId, vcpu_id: VCpuId) -> AxResult<Self> {
        Self::with_config(vm_id, vcpu_id, X86VCpuCreateConfig::default())
    }

    fn with_config(vm_id: VMId, vcpu_id: VCpuId, config: X86VCpuCreateConfig) -> AxResult<Self> {
        if !super::has_hardware_support() {
            return Err(AxError::Unsupported);
        }
        let mut vmcs = PhysFrame::alloc_zero()?;
        let revision = VmxBasic::from_msr(Msr::IA32_VMX_BASIC.read()).revision_id;
        vmcs.as_mut()[..4].copy_from_slice(&revision.to_le_bytes());
        let io_bitmap = VmxIoBitmap::new(PhysFrame::alloc_zero()?, PhysFrame::alloc_zero()?)?;
        let mut msr_bitmap = VmxMsrBitmap::new(PhysFrame::alloc_zero()?)?;
        for m in msr::PASSTHROUGH.iter().chain(&msr::VMX_PASSTHROUGH) {
            msr_bitmap.set_intercept(m.number(), false, false)?;
            msr_bitmap.set_intercept(m.number(), true, false)?;
        }
        Ok(Self {
            frame: RunFrame::default(),
            vmcs,
            io_bitmap,
            msr_bitmap,
            fp: FpState::new()?,
            guest_msrs: MsrValues::new(msr::VMX_SWITCHED),
            host_msrs: MsrValues::new(msr::VMX_SWITCHED),
            vm_id,
            vcpu_id,
            start_mode: config.start_mode,
            entry: None,
            ept_root: None,
            caps: None,
            launched: false,
            programmed: false,
            reset_pending: false,
            events: PendingEvents::new(),
            event_in_flight: false,
            last: LastExit::None,
            exit_rip: 0,
            exit_info: None,
            _hal: PhantomData,
        })
    }

    /// Records the EPT root and the entry point (the seed's `setup`). The
    /// VMCS itself is programmed when the vCPU is first bound to a CPU
    /// (VMPTRLD); the seed required binding first.
    pub fn setup(&mut self, ept_root: HostPhysAddr, entry: GuestPhysAddr) -> AxResult {
        self.set_ept_root(ept_root)?;
        self.set_entry(entry)
    }

    /// Runs the guest until an exit the vCPU does not handle itself and
    /// returns its exit information (the seed's `inner_run`); `None` when
    /// the vCPU could not run. [`AxArchVCpu::run`] is the same loop with
    /// the exit already decoded.
    pub fn inner_run(&mut self) -> Option<VmxExitInfo> {
        self.run().ok().and(self.exit_info)
    }

    /// The guest's general-purpose registers (not `rsp`).
    pub fn regs(&self) -> &GeneralRegisters {
        &self.frame.regs
    }

    /// The guest's general-purpose registers, to change (not `rsp`).
    pub fn regs_mut(&mut self) -> &mut GeneralRegisters {
        &mut self.frame.regs
    }

    /// The guest's RSP (the vCPU must be bound).
    pub fn stack_pointer(&self) -> AxResult<usize> {
        VmcsGuestNW::RSP.read()
    }

    /// Sets the guest's RSP (the vCPU must be bound).
    pub fn set_stack_pointer(&mut self, rsp: usize) -> AxResult {
        VmcsGuestNW::RSP.write(rsp)
    }

    /// The guest's RIP (the vCPU must be bound).
    pub fn rip(&self) -> AxResult<usize> {
        VmcsGuestNW::RIP.read()
    }

    /// Moves RIP past `len` bytes (wrapping at 4 GiB outside 64-bit mode).
    pub fn advance_rip(&mut self, len: u8) -> AxResult {
        let rip = self.rip()?.wrapping_add(usize::from(len));
        let rip = if self.get_cpu_mode()? == VmCpuMode::Mode64 {
            rip
        } else {
            rip & 0xffff_ffff
        };
        VmcsGuestNW::RIP.write(rip)
    }

    /// The guest's operating mode (the vCPU must be bound).
    pub fn get_cpu_mode(&self) -> AxResult<VmCpuMode> {
        Ok(crate::mode::cpu_mode(
            VmcsGuestNW::CR0.read()? as u64,
            super::vmcs::VmcsGuest64::IA32_EFER.read()?,
            self.code_segment()?,
        ))
    }

    /// The EPT root, once set.
    pub(super) fn ept_root_paddr(&self) -> Option<u64> {
        self.ept_root.map(|r| r.as_usize() as u64)
    }

    /// Reads a general-purpose register, `rsp` from the VMCS.
    pub(super) fn gpr(&self, index: u8) -> AxResult<u64> {
        if index == RSP_INDEX {
            Ok(VmcsGuestNW::RSP.read()? as u64)
        } else {
            Ok(self.frame.regs.get_reg_of_index(index))
        }
    }

    /// Writes operand `g` with the x86 rule for its width. Only `rsp`
    /// needs the VMCS (the vCPU bound); the others work any time.
    pub(super) fn write_gpr(&mut self, g: Gpr, value: u64) -> AxResult {
        if g.index == RSP_INDEX && g.part != GprPart::High8 {
            let mut rsp = VmcsGuestNW::RSP.read()? as u64;
            self.frame.regs.write_gpr(g, value, &mut rsp);
            VmcsGuestNW::RSP.write(rsp as usize)
        } else {
            let mut unused = 0;
            self.frame.regs.write_gpr(g, value, &mut unused);
            Ok(())
        }
    }

    /// Completes a read-modify-write whose value the host gave: flags, and
    /// the write-back exit to return before entering the guest.
    fn finish_pending_alu(&mut self, write_back: bool) -> AxResult<Option<AxVCpuExitReason>> {
        let LastExit::MmioAlu(p) = self.last else {
            return Ok(None);
        };
        self.last = LastExit::None;
        let rflags = VmcsGuestNW::RFLAGS.read()? as u64;
        let Some((rflags, write)) = complete_alu(&p, rflags, write_back) else {
            return Ok(None);
        };
        VmcsGuestNW::RFLAGS.write(rflags as usize)?;
        Ok(write)
    }

    /// One VM entry and exit. `Err` only when VMX itself fails.
    fn enter(&mut self) -> AxResult<Result<VmxRawExit, u64>> {
        VmcsHostNW::RSP.write(self.frame.host_rsp())?;
        // SAFETY: the vCPU is bound (its VMCS is current, programmed at
        // bind with host RIP = vmx_exit), host RSP points into `frame`,
        // which `&mut self` keeps in place until `vmx_enter` returns.
        let failed = unsafe { vmx_enter(&mut self.frame, u64::from(self.launched)) };
        if failed != 0 {
            let error = super::vmcs::instruction_error();
            log::warn!("VM {} vCPU {}: VM entry failed: {error}", self.vm_id, self.vcpu_id);
            return Ok(Err(u64::from(error.0)));
        }
        self.launched = true;
        Ok(Ok(VmxRawExit {
            reason: VmcsReadOnly32::EXIT_REASON.read()?,
            qualification: VmcsReadOnlyNW::EXIT_QUALIFICATION.read()? as u64,
            instruction_len: VmcsReadOnly32::VMEXIT_INSTRUCTION_LEN.read()?,
            guest_physical: VmcsReadOnly64::GUEST_PHYSICAL_ADDR.read()?,
            interrupt_info: VmcsReadOnly32::VMEXIT_INTERRUPTION_INFO.read()?,
        }))
    }
}

impl<H: AxVCpuHal> AxArchVCpu for VmxVcpu<H> {
    type CreateConfig = X86VCpuCreateConfig;
    type SetupConfig = ();

    fn new(vm_id: VMId, vcpu_id: VCpuId, config: Self::CreateConfig) -> AxResult<Self> {
        Self::with_config(vm_id, vcpu_id, config)
    }

    /// Records the entry and clears the general-purpose registers and
    /// pending events; the rest of the guest state is reset to the entry
    /// (as after INIT) before the next run, so this also restarts a vCPU.
    /// `set_gpr` calls after it (a boot argument) are kept.
    fn set_entry(&mut self, entry: GuestPhysAddr) -> AxResult {
        self.entry = Some(entry);
        self.reset_pending = true;
        self.frame.regs = GeneralRegisters::default();
        self.events = PendingEvents::new();
        self.event_in_flight = false;
        self.last = LastExit::None;
        Ok(())
    }

    fn set_ept_root(&mut self, ept_root: HostPhysAddr) -> AxResult {
        if !ept_root.as_usize().is_multiple_of(crate::frame::FRAME_SIZE) {
            return Err(AxError::InvalidInput);
        }
        self.ept_root = Some(ept_root);
        Ok(())
    }

    fn setup(&mut self, _config: ()) -> AxResult {
        if self.entry.is_none() || self.ept_root.is_none() {
            return Err(AxError::BadState);
        }
        Ok(())
    }

    fn run(&mut self) -> AxResult<AxVCpuExitReason> {
        if let Some(write) = self.finish_pending_alu(true)? {
            return Ok(write);
        }
        self.last = LastExit::None;
        if core::mem::take(&mut self.reset_pending) {
            let caps = self.caps.ok_or(AxError::BadState)?;
            let entry = self.entry.ok_or(AxError::BadState)?;
            setup::setup_guest(&caps, entry.as_usize() as u64, self.start_mode)?;
        }
        loop {
            self.inject_events()?;
            let raw = match self.enter()? {
                Ok(raw) => raw,
                Err(error) => {
                    return Ok(AxVCpuExitReason::FailEntry {
                        hardware_entry_failure_reason: error,
                    });
                }
            };
            self.exit_rip = self.rip()? as u64;
            self.exit_info = Some(VmxExitInfo::new(
                raw.reason,
                raw.instruction_len,
                self.exit_rip as usize,
            ));
            self.reinject_idt_vectoring(&raw)?;
            if let Some(reason) = self.handle_exit(&raw)? {
                return Ok(reason);
            }
        }
    }

    /// VMPTRLD; the first time also programs the controls. Every time: this
    /// CPU's host state, the EPT pointer (with INVEPT), the guest's MSRs
    /// and FP state.
    fn bind(&mut self) -> AxResult {
        let vmcs = self.vmcs.paddr().as_usize() as u64;
        // SAFETY: the VMCS is our frame with the revision identifier; VMX
        // is on (the host called hardware_enable on this CPU).
        unsafe { x86::bits64::vmx::vmptrld(vmcs) }.map_err(|e| {
            log::warn!("VMPTRLD failed: {e:?}");
            AxError::BadState
        })?;
        if !self.programmed {
            let caps = VmxCaps::read();
            let (a, b) = self.io_bitmap.pages();
            setup::setup_controls(
                &caps,
                a.paddr().as_usize() as u64,
                b.paddr().as_usize() as u64,
                self.msr_bitmap.storage().paddr().as_usize() as u64,
            )?;
            self.caps = Some(caps);
            self.programmed = true;
        }
        setup::setup_host()?;
        let root = self.ept_root.ok_or(AxError::BadState)?.as_usize() as u64;
        let eptp = setup::eptp(root);
        super::vmcs::VmcsControl64::EPTP.write(eptp)?;
        invept(eptp);
        self.host_msrs.save();
        // SAFETY: the guest's values were saved from this CPU model at
        // unbind (or are the zero reset values).
        unsafe { self.guest_msrs.load() };
        self.fp.load();
        Ok(())
    }

    /// Saves the guest's FP state and MSRs, gives the host its own back and
    /// VMCLEARs the VMCS so that another CPU can load it.
    fn unbind(&mut self) -> AxResult {
        self.fp.save();
        self.guest_msrs.save();
        // SAFETY: the host's values, saved at bind on this CPU.
        unsafe { self.host_msrs.load() };
        let vmcs = self.vmcs.paddr().as_usize() as u64;
        // SAFETY: VMCLEAR of our own VMCS writes its state back to memory.
        unsafe { x86::bits64::vmx::vmclear(vmcs) }.map_err(|_| AxError::BadState)?;
        self.launched = false;
        Ok(())
    }

    /// `reg` is a [`RegTarget`](crate::RegTarget) number: 0..15 the whole
    /// register; after an `IoRead` exit, 0 is the accumulator of its width.
    fn set_gpr(&mut self, reg: usize, val: usize) {
        match route_set_gpr(&mut self.last, reg, val as u64) {
            Some(RegWrite::Gpr(g, v)) => {
                if self.write_gpr(g, v).is_err() {
                    log::warn!(
                        "VM {} vCPU {}: set_gpr({reg}) while not bound",
                        self.vm_id,
                        self.vcpu_id
                    );
                }
            }
            Some(RegWrite::EdxEax(v)) => self.frame.regs.set_edx_eax(v),
            None => {}
        }
    }

    /// Queues external interrupt `vector` (0..=255); it is injected when
    /// the guest can take it (through the interrupt window).
    fn inject_interrupt(&mut self, vector: usize) -> AxResult {
        let v = u8::try_from(vector).map_err(|_| AxError::InvalidInput)?;
        self.events.push_interrupt(v);
        Ok(())
    }

    fn set_return_value(&mut self, val: usize) {
        self.frame.regs.rax = val as u64;
    }

    /// `Access`: a load from nothing reads all ones, a store is dropped
    /// (as on a PC); an MSR nobody models takes #GP(0); `Undefined` is #UD.
    fn inject_fault_for_last_exit(&mut self, fault: LastExitFault) -> AxResult {
        let action = fault_for_last_exit(&self.last, fault);
        match action {
            FaultAction::WriteReg { dst, value } => {
                self.last = LastExit::None;
                self.write_gpr(dst, value)
            }
            FaultAction::AluFromNothing => {
                if let LastExit::MmioAlu(p) = &mut self.last {
                    p.value = Some(u64::MAX);
                }
                self.finish_pending_alu(false).map(|_| ())
            }
            FaultAction::Drop => {
                self.last = LastExit::None;
                Ok(())
            }
            FaultAction::Inject(e) => {
                self.last = LastExit::None;
                VmcsGuestNW::RIP.write(self.exit_rip as usize)?;
                self.events.set_exception(e);
                Ok(())
            }
        }
    }
}
