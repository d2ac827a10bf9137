//! [`SvmVcpu`]: one guest CPU under AMD SVM with nested paging.

use core::marker::PhantomData;

use axerrno::{AxError, AxResult};
use axvcpu::{AxArchVCpu, AxVCpuExitReason, AxVCpuHal, GuestPhysAddr, HostPhysAddr, LastExitFault, VCpuId, VMId};

use super::definitions::{self as def, InterceptVec3, InterceptVec4, efer};
use super::entry::{SvmRunFrame, svm_run};
use super::exit_map::SvmRawExit;
use super::vmcb::{Vmcb, VmcbSegment};
use crate::bitmap::{SvmIoPermissionMap, SvmMsrPermissionMap};
use crate::event::PendingEvents;
use crate::exit::mmio::{FaultAction, LastExit, RegWrite, complete_alu, fault_for_last_exit, route_set_gpr};
use crate::frame::{ContiguousFrames, PhysFrame};
use crate::mode::{StartMode, VmCpuMode, X86VCpuCreateConfig, ar, vmx_ar_to_svm_attrib};
use crate::msr::{self, MsrValues};
use crate::regs::{GeneralRegisters, Gpr};
use crate::xstate::hw::FpState;

/// The guest's ASID; every vCPU uses the same one and the TLB is flushed
/// whenever a vCPU is bound (QEMU has no flush-by-ASID anyway).
const GUEST_ASID: u32 = 1;
/// IA32_PAT, DR6 and DR7 after reset.
const PAT_RESET: u64 = 0x0007_0406_0007_0406;
const DR6_RESET: u64 = 0xffff_0ff0;
const DR7_RESET: u64 = 0x400;
/// RFLAGS after reset.
const RFLAGS_RESET: u64 = 0x2;

/// One guest CPU under AMD SVM (`SvmVcpu<H>`, the SVM counterpart of the
/// seed's `VmxVcpu`). `H` is the host's [`AxVCpuHal`].
pub struct SvmVcpu<H: AxVCpuHal> {
    pub(super) frame: SvmRunFrame,
    pub(super) vmcb: PhysFrame<H>,
    host_save: PhysFrame<H>,
    iopm: SvmIoPermissionMap<ContiguousFrames<H, 3>>,
    msrpm: SvmMsrPermissionMap<ContiguousFrames<H, 2>>,
    pub(super) fp: FpState<H>,
    guest_msrs: MsrValues<1>,
    host_msrs: MsrValues<1>,
    pub(super) vm_id: VMId,
    pub(super) vcpu_id: VCpuId,
    start_mode: StartMode,
    entry: Option<GuestPhysAddr>,
    pub(super) npt_root: Option<HostPhysAddr>,
    reset_pending: bool,
    pub(super) events: PendingEvents,
    pub(super) event_in_flight: bool,
    pub(super) last: LastExit,
    pub(super) exit_rip: u64,
    _hal: PhantomData<fn() -> H>,
}

impl<H: AxVCpuHal> core::fmt::Debug for SvmVcpu<H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SvmVcpu")
            .field("vm_id", &self.vm_id)
            .field("vcpu_id", &self.vcpu_id)
            .finish()
    }
}

impl<H: AxVCpuHal> SvmVcpu<H> {
    /// Creates vCPU `vcpu_id` of VM `vm_id` (starting in real mode): its
    /// VMCB, permission maps and FP save area.
    pub fn new(vm_id: VMId, vcpu_id: VCpuId) -> AxResult<Self> {
        Self::with_config(vm_id, vcpu_id, X86VCpuCreateConfig::default())
    }

    fn with_config(vm_id: VMId, vcpu_id: VCpuId, config: X86VCpuCreateConfig) -> AxResult<Self> {
        if !super::has_hardware_support() {
            return Err(AxError::Unsupported);
        }
        let iopm = SvmIoPermissionMap::new(ContiguousFrames::alloc_zero()?)?;
        let mut msrpm = SvmMsrPermissionMap::new(ContiguousFrames::alloc_zero()?)?;
        for m in msr::PASSTHROUGH {
            msrpm.set_intercept(m.number(), false, false)?;
            msrpm.set_intercept(m.number(), true, false)?;
        }
        let mut vcpu = Self {
            frame: SvmRunFrame::default(),
            vmcb: PhysFrame::alloc_zero()?,
            host_save: PhysFrame::alloc_zero()?,
            iopm,
            msrpm,
            fp: FpState::new()?,
            guest_msrs: MsrValues::new(msr::SVM_SWITCHED),
            host_msrs: MsrValues::new(msr::SVM_SWITCHED),
            vm_id,
            vcpu_id,
            start_mode: config.start_mode,
            entry: None,
            npt_root: None,
            reset_pending: false,
            events: PendingEvents::new(),
            event_in_flight: false,
            last: LastExit::None,
            exit_rip: 0,
            _hal: PhantomData,
        };
        vcpu.frame.vmcb_pa = vcpu.vmcb.paddr().as_usize() as u64;
        vcpu.frame.host_save_pa = vcpu.host_save.paddr().as_usize() as u64;
        vcpu.setup_controls();
        Ok(vcpu)
    }

    /// The VMCB.
    pub fn vmcb(&mut self) -> &mut Vmcb {
        // SAFETY: the frame is ours, 4 KiB (the size and alignment of
        // `Vmcb`), and `Vmcb` is plain integers.
        unsafe { self.vmcb.view_mut::<Vmcb>() }
    }

    pub(super) fn vmcb_ref(&self) -> &Vmcb {
        let bytes: &[u8] = self.vmcb.as_ref();
        // SAFETY: as in `vmcb`, shared.
        unsafe { &*bytes.as_ptr().cast::<Vmcb>() }
    }

    fn setup_controls(&mut self) {
        let iopm = self.iopm.storage().paddr().as_usize() as u64;
        let msrpm = self.msrpm.storage().paddr().as_usize() as u64;
        let c = &mut self.vmcb().control;
        c.intercept_vec3 = (InterceptVec3::INTR
            | InterceptVec3::NMI
            | InterceptVec3::CPUID
            | InterceptVec3::INVD
            | InterceptVec3::HLT
            | InterceptVec3::INVLPGA
            | InterceptVec3::IOIO_PROT
            | InterceptVec3::MSR_PROT
            | InterceptVec3::SHUTDOWN)
            .bits();
        c.intercept_vec4 = (InterceptVec4::VMRUN
            | InterceptVec4::VMMCALL
            | InterceptVec4::VMLOAD
            | InterceptVec4::VMSAVE
            | InterceptVec4::STGI
            | InterceptVec4::CLGI
            | InterceptVec4::SKINIT
            | InterceptVec4::MONITOR
            | InterceptVec4::MWAIT
            | InterceptVec4::MWAIT_CONDITIONAL
            | InterceptVec4::XSETBV)
            .bits();
        c.iopm_base_pa = iopm;
        c.msrpm_base_pa = msrpm;
        c.guest_asid = GUEST_ASID;
        c.int_control = def::vintr_control(false);
        c.nested_ctl = def::NP_ENABLE;
    }

    /// The guest's state at the entry, as after INIT.
    fn reset_guest(&mut self, entry: u64) {
        let s = self.start_mode.segments(entry);
        let seg = |selector: u16, base: u64, access: u32| VmcbSegment {
            selector,
            attrib: vmx_ar_to_svm_attrib(access),
            limit: s.limit,
            base,
        };
        let data = seg(s.data_selector, 0, s.data_ar);
        let v = &mut self.vmcb().save;
        v.cs = seg(s.cs_selector, s.cs_base, s.code_ar);
        v.ds = data;
        v.es = data;
        v.ss = data;
        v.fs = data;
        v.gs = data;
        v.ldtr = VmcbSegment {
            attrib: vmx_ar_to_svm_attrib(ar::LDT),
            ..Default::default()
        };
        v.tr = VmcbSegment {
            attrib: vmx_ar_to_svm_attrib(ar::TSS_BUSY),
            limit: 0xffff,
            ..Default::default()
        };
        v.gdtr = VmcbSegment {
            limit: 0xffff,
            ..Default::default()
        };
        v.idtr = v.gdtr;
        v.cpl = 0;
        v.efer = efer::SVME;
        v.cr0 = s.cr0;
        v.cr3 = 0;
        v.cr4 = 0;
        v.cr2 = 0;
        v.dr6 = DR6_RESET;
        v.dr7 = DR7_RESET;
        v.rflags = RFLAGS_RESET;
        v.rip = s.rip;
        v.rsp = 0;
        v.rax = 0;
        v.g_pat = PAT_RESET;
        self.vmcb().control.event_inj = 0;
    }

    /// The guest's general-purpose registers (`rax` included; not `rsp`).
    pub fn regs(&self) -> &GeneralRegisters {
        &self.frame.regs
    }

    /// The guest's general-purpose registers, to change.
    pub fn regs_mut(&mut self) -> &mut GeneralRegisters {
        &mut self.frame.regs
    }

    /// The guest's RSP.
    pub fn stack_pointer(&self) -> usize {
        self.vmcb_ref().save.rsp as usize
    }

    /// Sets the guest's RSP.
    pub fn set_stack_pointer(&mut self, rsp: usize) {
        self.vmcb().save.rsp = rsp as u64;
    }

    /// The guest's RIP.
    pub fn rip(&self) -> usize {
        self.vmcb_ref().save.rip as usize
    }

    /// Moves RIP past `len` bytes (wrapping at 4 GiB outside 64-bit mode).
    pub fn advance_rip(&mut self, len: u8) {
        let long = self.get_cpu_mode() == VmCpuMode::Mode64;
        let v = &mut self.vmcb().save;
        let rip = v.rip.wrapping_add(u64::from(len));
        v.rip = if long { rip } else { rip & 0xffff_ffff };
    }

    /// The guest's operating mode.
    pub fn get_cpu_mode(&self) -> VmCpuMode {
        let v = &self.vmcb_ref().save;
        crate::mode::cpu_mode(v.cr0, v.efer, super::code_segment(v.cs.attrib))
    }

    /// Writes operand `g` with the x86 rule for its width.
    pub(super) fn write_gpr(&mut self, g: Gpr, value: u64) {
        let mut rsp = self.vmcb_ref().save.rsp;
        self.frame.regs.write_gpr(g, value, &mut rsp);
        self.vmcb().save.rsp = rsp;
    }

    fn finish_pending_alu(&mut self, write_back: bool) -> Option<AxVCpuExitReason> {
        let LastExit::MmioAlu(p) = self.last else { return None };
        self.last = LastExit::None;
        let (rflags, write) = complete_alu(&p, self.vmcb_ref().save.rflags, write_back)?;
        self.vmcb().save.rflags = rflags;
        write
    }

    /// One VMRUN; the exit fields.
    fn enter(&mut self) -> SvmRawExit {
        let rax = self.frame.regs.rax;
        self.vmcb().save.rax = rax;
        // SAFETY: SVM is on (the host enabled it on this CPU before binding
        // the vCPU), the VMCB is complete (controls at creation, state at
        // the first run), the host save page is ours, and the caller runs
        // vCPUs with interrupts disabled.
        unsafe { svm_run(&mut self.frame) };
        let v = self.vmcb();
        let rax = v.save.rax;
        v.control.tlb_control = 0;
        let raw = SvmRawExit {
            exit_code: v.control.exit_code,
            exit_info_1: v.control.exit_info_1,
            exit_info_2: v.control.exit_info_2,
            rip: v.save.rip,
        };
        self.frame.regs.rax = rax;
        raw
    }
}

impl<H: AxVCpuHal> AxArchVCpu for SvmVcpu<H> {
    type CreateConfig = X86VCpuCreateConfig;
    type SetupConfig = ();

    fn new(vm_id: VMId, vcpu_id: VCpuId, config: Self::CreateConfig) -> AxResult<Self> {
        Self::with_config(vm_id, vcpu_id, config)
    }

    /// Records the entry and clears the registers and pending events; the
    /// rest of the state is reset to the entry (as after INIT) before the
    /// next run.
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
        self.npt_root = Some(ept_root);
        let c = &mut self.vmcb().control;
        c.n_cr3 = ept_root.as_usize() as u64;
        c.tlb_control = def::TLB_CONTROL_FLUSH_ALL;
        Ok(())
    }

    fn setup(&mut self, _config: ()) -> AxResult {
        if self.entry.is_none() || self.npt_root.is_none() {
            return Err(AxError::BadState);
        }
        Ok(())
    }

    fn run(&mut self) -> AxResult<AxVCpuExitReason> {
        if let Some(write) = self.finish_pending_alu(true) {
            return Ok(write);
        }
        self.last = LastExit::None;
        if core::mem::take(&mut self.reset_pending) {
            let entry = self.entry.ok_or(AxError::BadState)?;
            self.reset_guest(entry.as_usize() as u64);
        }
        loop {
            self.inject_events();
            let raw = self.enter();
            self.exit_rip = raw.rip;
            self.reinject_exit_int_info();
            if let Some(reason) = self.handle_exit(&raw) {
                return Ok(reason);
            }
        }
    }

    /// Loads the guest's FP state and TSC_AUX, and flushes the TLB on the
    /// next VMRUN (another vCPU may have run here).
    fn bind(&mut self) -> AxResult {
        self.vmcb().control.tlb_control = def::TLB_CONTROL_FLUSH_ALL;
        self.host_msrs.save();
        // SAFETY: values saved at unbind on this CPU model, or zero.
        unsafe { self.guest_msrs.load() };
        self.fp.load();
        Ok(())
    }

    fn unbind(&mut self) -> AxResult {
        self.fp.save();
        self.guest_msrs.save();
        // SAFETY: the host's values, saved at bind on this CPU.
        unsafe { self.host_msrs.load() };
        Ok(())
    }

    /// `reg` is a [`RegTarget`](crate::RegTarget) number: 0..15 the whole
    /// register; after an `IoRead` exit, 0 is the accumulator of its width.
    fn set_gpr(&mut self, reg: usize, val: usize) {
        match route_set_gpr(&mut self.last, reg, val as u64) {
            Some(RegWrite::Gpr(g, v)) => self.write_gpr(g, v),
            Some(RegWrite::EdxEax(v)) => self.frame.regs.set_edx_eax(v),
            None => {}
        }
    }

    /// Queues external interrupt `vector` (0..=255), injected when the
    /// guest can take it (through a virtual interrupt request).
    fn inject_interrupt(&mut self, vector: usize) -> AxResult {
        let v = u8::try_from(vector).map_err(|_| AxError::InvalidInput)?;
        self.events.push_interrupt(v);
        Ok(())
    }

    fn set_return_value(&mut self, val: usize) {
        self.frame.regs.rax = val as u64;
    }

    /// As on VMX: `Access` reads all ones / drops the write, an unmodelled
    /// MSR takes #GP(0), `Undefined` is #UD.
    fn inject_fault_for_last_exit(&mut self, fault: LastExitFault) -> AxResult {
        match fault_for_last_exit(&self.last, fault) {
            FaultAction::WriteReg { dst, value } => {
                self.last = LastExit::None;
                self.write_gpr(dst, value);
            }
            FaultAction::AluFromNothing => {
                if let LastExit::MmioAlu(p) = &mut self.last {
                    p.value = Some(u64::MAX);
                }
                self.finish_pending_alu(false);
            }
            FaultAction::Drop => self.last = LastExit::None,
            FaultAction::Inject(e) => {
                self.last = LastExit::None;
                let rip = self.exit_rip;
                self.vmcb().save.rip = rip;
                self.events.set_exception(e);
            }
        }
        Ok(())
    }
}
