//! [`Aarch64VCpu`]: one guest CPU at EL1, run from EL2.

use super::context::GuestSystemRegisters;
use super::entry::{ExitKind, VmRegs, run_guest};
use super::no_syndrome::{GuestBus, GuestMode, GuestRegs, big_endian_data, guest_ipa, zva_block};
use super::regs::{read_sysreg, write_sysreg};
use super::vgic_cpuif::VgicCpuIf;
use super::{hw_ids, vmid_hw};
use crate::a64::{FaultContext, NotEmulated, VmBus};
use crate::debug::{DebugRegs, MDSCR_GUEST_BITS};
use crate::emulate::{EmulatedSysRegs, SysRegAccess, SysRegAction, emulate, may_emulate};
use crate::esr::{MmioAccess, SyncException};
use crate::exit::{
    ExitDecision, access_abort, exit_from_sync, instruction_len, mmio_exit, mmio_read_result, mmio_write_data,
};
use crate::fields::{HW_ID_AA64MMFR1, HW_ID_AA64PFR1, VTCR_EL2};
use crate::inject::{GuestFault, GuestState, inject_fault};
use crate::irqs::{PTIMER_PPI, VTIMER_PPI};
use crate::sysreg::SysRegEncoding;
use crate::vmid::Vmid;
use axerrno::{AxError, AxResult};
use axvcpu::hypercall::decode_hypercall;
use axvcpu::{
    AxArchVCpu, AxVCpuExitReason, AxVCpuHal, ExitFastPath, FastExit, GuestPhysAddr, HostPhysAddr, LastExitFault,
    ListRegs, LocalIrqLine, TimerDeadlines, VCpuId, VMId,
};
use core::marker::PhantomData;

/// What the VM's fast path did with an exit the vCPU offered it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Offered {
    /// Nothing: the exit goes to the caller.
    Left,
    /// Finished: the guest runs again at once.
    Resume,
    /// Finished, but the caller has interrupt work before the guest runs
    /// again.
    HandedBack,
}

/// Creation parameters (seed 000).
#[derive(Clone, Copy, Debug, Default)]
pub struct Aarch64VCpuCreateConfig {
    /// MPIDR_EL1 the guest reads (affinity fields; bit 31 is set for it).
    pub mpidr_el1: u64,
    /// Guest physical address of the device tree, passed in x0 (Linux boot
    /// protocol).
    pub dtb_addr: usize,
    /// CNTVOFF_EL2: subtracted from the physical count for the guest's
    /// virtual count; every vCPU of a VM has the same. The VM gives
    /// [`crate::VIRTUAL_COUNTER_OFFSET`] (zero; see there why).
    pub cntvoff: u64,
    /// A number unique to this boot of the VM, the same for all its vCPUs
    /// (a restarted VM gets a new one): they share one VMID
    /// ([`crate::vmid`]).
    pub vm_key: u64,
}

/// Setup parameters (seed 000).
#[derive(Clone, Copy, Debug, Default)]
pub struct Aarch64VCpuSetupConfig {
    /// Physical IRQs go straight to the guest (HCR_EL2.IMO/FMO clear): for a
    /// VM that owns the interrupt controller. The host then gets no
    /// interrupt while this vCPU runs.
    pub passthrough_interrupt: bool,
    /// The guest owns the EL1 physical timer and counter (no traps; the
    /// default here as well, since the host uses the EL2 timer).
    pub passthrough_timer: bool,
}

/// PSTATE a guest starts with: EL1h, D, A, I, F masked.
const SPSR_EL1H_MASKED: u64 = 0x3c5;
/// The length of an A64 instruction.
const A64_INSN_LEN: u64 = 4;
/// MPIDR_EL1 bit 31 is RES1.
const MPIDR_RES1: u64 = 1 << 31;

/// HCR_EL2 bits (ARM ARM D23.2.48).
mod hcr {
    pub const VM: u64 = 1 << 0;
    pub const SWIO: u64 = 1 << 1;
    pub const FMO: u64 = 1 << 3;
    pub const IMO: u64 = 1 << 4;
    pub const AMO: u64 = 1 << 5;
    pub const FB: u64 = 1 << 9;
    /// BSU = Inner Shareable (bits 11:10 = 0b01).
    pub const BSU_IS: u64 = 1 << 10;
    pub const TWI: u64 = 1 << 13;
    pub const TSC: u64 = 1 << 19;
    pub const RW: u64 = 1 << 31;
}

/// HCR_EL2 of the host between guests (as `axhal` sets it): physical
/// interrupts to EL2, EL1 is AArch64.
const HOST_HCR: u64 = hcr::IMO | hcr::FMO | hcr::AMO | hcr::RW;

/// VTCR_EL2 (ARM ARM D23.2.199): 39-bit IPA (T0SZ = 25) walked from level 1
/// (SL0 = 1), 4 KiB granule, inner-shareable write-back tables, 40-bit PA,
/// RES1 bit 31. Matches axaddrspace's 3-level stage-2 table.
const VTCR_EL2_VALUE: u64 = 25 | (1 << 6) | (1 << 8) | (1 << 10) | (3 << 12) | (0b010 << 16) | (1 << 31);

use vmid_hw::VTTBR_VMID_SHIFT;

/// The AArch64 vCPU (seeds 000, 003). `H` is the host's [`AxVCpuHal`].
pub struct Aarch64VCpu<H: AxVCpuHal> {
    regs: VmRegs,
    sys: GuestSystemRegisters,
    vm_id: VMId,
    vcpu_id: VCpuId,
    mpidr: u64,
    hcr: u64,
    vttbr: u64,
    /// ELR_EL2 at the last synchronous exit, for a fault the host asks to
    /// inject after `run` returned.
    exit_pc: u64,
    /// The abort the guest takes if the host finds nothing behind the
    /// access of the last synchronous exit ([`access_abort`]: an
    /// instruction abort for a fetch).
    exit_abort: GuestFault,
    /// The faulting IPA and virtual address of the last exit when it was a
    /// data abort without syndrome, for [`Self::emulate_no_syndrome`].
    no_syndrome: Option<(u64, u64)>,
    has_pan: bool,
    has_ssbs: bool,
    vif: VgicCpuIf,
    cntvoff: u64,
    /// The VM's VMID, held from `new` until the vCPU is dropped.
    vmid: Vmid,
    /// Whose VMID it is.
    vm_key: u64,
    /// VTCR_EL2 (16-bit VMIDs where the CPU has them).
    vtcr: u64,
    /// HCR_EL2 bits that hide features from the guest (`crate::traps`).
    feature_traps: u64,
    /// The ID and debug registers the vCPU answers itself.
    emul: EmulatedSysRegs,
    /// `set_entry` restarted the vCPU: its live EL1 state must be put back
    /// to reset before it runs (a CPU_ON after CPU_OFF starts with the MMU
    /// off).
    reset_pending: bool,
    /// `hcr` changed while the vCPU may be bound ([`AxArchVCpu::set_wfi_exits`]):
    /// `run` writes it to HCR_EL2 first.
    hcr_stale: bool,
    _hal: PhantomData<fn() -> H>,
}

impl<H: AxVCpuHal> core::fmt::Debug for Aarch64VCpu<H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Aarch64VCpu")
            .field("vm_id", &self.vm_id)
            .field("vcpu_id", &self.vcpu_id)
            .field("pc", &format_args!("{:#x}", self.regs.frame.elr))
            .finish()
    }
}

impl<H: AxVCpuHal> Aarch64VCpu<H> {
    /// The guest's registers as of the last exit.
    pub fn frame(&self) -> &super::TrapFrame {
        &self.regs.frame
    }

    /// Makes the guest take `fault` at its EL1 vector (the registers are
    /// live: this vCPU is bound to the calling CPU). Fails when the guest
    /// cannot take it: it faulted inside its own vector table, or it has
    /// none (VBAR_EL1 = 0) — the VM must then be stopped.
    // Out of line: rare, and inlined it makes the exit loop around it
    // slower (measured: the HVC and MMIO round trips).
    #[inline(never)]
    fn inject_fault(&mut self, fault: GuestFault) -> AxResult {
        let vbar = read_sysreg!(vbar_el1);
        let in_vectors = (vbar..vbar.saturating_add(0x800)).contains(&self.exit_pc);
        if vbar == 0 || in_vectors {
            log::warn!(
                "VM {} vCPU {}: cannot take {fault:?} at pc {:#x} (VBAR_EL1 {vbar:#x})",
                self.vm_id,
                self.vcpu_id,
                self.exit_pc
            );
            return Err(AxError::BadState);
        }
        let state = GuestState {
            pstate: self.regs.frame.spsr,
            pc: self.exit_pc,
            vbar_el1: vbar,
            sctlr_el1: read_sysreg!(sctlr_el1),
            has_pan: self.has_pan,
            has_ssbs: self.has_ssbs,
        };
        let e = inject_fault(fault, &state);
        write_sysreg!(esr_el1, e.esr_el1);
        if let Some(far) = e.far_el1 {
            write_sysreg!(far_el1, far);
        }
        write_sysreg!(elr_el1, e.elr_el1);
        write_sysreg!(spsr_el1, e.spsr_el1);
        self.regs.frame.elr = e.pc;
        self.regs.frame.spsr = e.pstate;
        Ok(())
    }

    /// Emulates the access of the last exit, a data abort without
    /// syndrome on an emulated device (reported as a `NestedPageFault`):
    /// reads the instruction at the guest PC from guest RAM, decodes it and
    /// performs its accesses through `bus` ([`crate::a64`]); on success
    /// the guest continues after the instruction. On failure nothing of
    /// the guest changed (except stores already performed) and the caller
    /// makes it take the access abort (`inject_fault_for_last_exit`).
    /// Must run while this vCPU is bound (its registers are live).
    pub fn emulate_no_syndrome(&mut self, bus: &mut dyn VmBus) -> Result<(), NotEmulated> {
        let (ipa, far) = self.no_syndrome.take().ok_or(NotEmulated::NoDataAbort)?;
        let mode = GuestMode::of(self.regs.frame.spsr);
        if mode.aarch32 {
            return Err(NotEmulated::Aarch32);
        }
        if big_endian_data(mode) {
            return Err(NotEmulated::BigEndian);
        }
        let pc = self.exit_pc;
        // A64 instructions are word aligned (else the fetch had faulted).
        // The fetch is translated as an EL1 read whatever level the guest
        // ran at: EL1 may read every page EL0 can execute, and AT S1E1R
        // does not apply PAN.
        let insn = pc
            .is_multiple_of(4)
            .then(|| guest_ipa(pc, false, false))
            .flatten()
            .and_then(|insn_ipa| bus.read_insn(insn_ipa))
            .ok_or(NotEmulated::Fetch { pc })?;
        let op = crate::a64::decode(insn).map_err(|refusal| NotEmulated::Decode { insn, refusal })?;
        let ctx = FaultContext {
            pc,
            far,
            ipa,
            zva_block: zva_block(),
        };
        let mut regs = GuestRegs::new(&mut self.regs.frame, mode);
        let mut mem = GuestBus { bus, el0: mode.el0 };
        let result = crate::a64::execute(&op, &ctx, &mut regs, &mut mem);
        regs.finish();
        result.map_err(NotEmulated::Exec)?;
        self.regs.frame.elr = pc.wrapping_add(A64_INSN_LEN);
        Ok(())
    }

    /// A trapped `MRS`/`MSR` the vCPU answers itself ([`emulate`]):
    /// `Some` with what `handle_sync` returns, `None` for the host's.
    // Out of line, as `inject_fault`.
    #[inline(never)]
    fn emulate_sysreg(
        &mut self,
        esr: u64,
        enc: SysRegEncoding,
        reg: usize,
        read: bool,
    ) -> Option<Option<AxResult<AxVCpuExitReason>>> {
        let value = self.regs.frame.x.get(reg).copied().unwrap_or(0);
        let access = if read {
            SysRegAccess::Read
        } else {
            SysRegAccess::Write(value)
        };
        match emulate(&mut self.emul, enc, access) {
            SysRegAction::Host => return None,
            SysRegAction::Undef => {
                log::debug!("VM {} vCPU {}: {enc} is UNDEFINED", self.vm_id, self.vcpu_id);
                return Some(match self.inject_fault(GuestFault::Undef) {
                    Ok(()) => None,
                    Err(_) => Some(Ok(AxVCpuExitReason::Unsupported {
                        raw: esr,
                        detail: self.exit_pc,
                    })),
                });
            }
            SysRegAction::Read(v) => self.set_gpr(reg, v as usize),
            SysRegAction::Written => {}
            SysRegAction::LiveMdscr => {
                if read {
                    self.set_gpr(reg, (read_sysreg!(mdscr_el1) & MDSCR_GUEST_BITS) as usize);
                } else {
                    write_sysreg!(mdscr_el1, value & MDSCR_GUEST_BITS);
                }
            }
        }
        self.regs.frame.elr = self.regs.frame.elr.wrapping_add(instruction_len(esr));
        Some(None)
    }

    /// Offers the access (or sent IPI) `exit`, its instruction already
    /// skipped, to the VM's fast path, and writes a read's value to its
    /// destination register when the fast path did the access.
    #[inline(always)]
    fn offer<F: ExitFastPath>(&mut self, fast: &F, exit: &AxVCpuExitReason) -> Offered {
        let FastExit::Done { value, resume } = fast.finish(exit) else {
            return Offered::Left;
        };
        match *exit {
            AxVCpuExitReason::MmioRead {
                width,
                reg,
                reg_width,
                signed_ext,
                ..
            } => self.set_gpr(reg, mmio_read_result(value, width, signed_ext, reg_width) as usize),
            AxVCpuExitReason::SysRegRead { reg, .. } => self.set_gpr(reg, value as usize),
            _ => {}
        }
        if resume { Offered::Resume } else { Offered::HandedBack }
    }

    /// Most device accesses (a data abort with a valid syndrome on an
    /// unmapped address): the exit the general decode in `handle_sync`
    /// would make, without its steps, offered to the fast path.
    #[inline(always)]
    fn device_access<F: ExitFastPath>(
        &mut self,
        esr: u64,
        far: u64,
        gpa: GuestPhysAddr,
        access: MmioAccess,
        fast: &F,
    ) -> Option<AxResult<AxVCpuExitReason>> {
        self.exit_abort = GuestFault::DataAbort { far: Some(far) };
        self.regs.frame.elr = self.regs.frame.elr.wrapping_add(instruction_len(esr));
        let data = access.write.then(|| mmio_write_data(access, &self.regs.frame.x));
        match fast.mmio(gpa, access.width, data) {
            FastExit::Done { value, resume } => {
                if !access.write {
                    let loaded = mmio_read_result(value, access.width, access.sign_extend, access.reg_width);
                    self.set_gpr(access.reg, loaded as usize);
                }
                if resume {
                    None
                } else {
                    Some(Ok(AxVCpuExitReason::Nothing))
                }
            }
            FastExit::Slow => Some(Ok(mmio_exit(gpa, access, &self.regs.frame.x))),
        }
    }

    // Out of line, so that how the exit is decoded does not depend on how
    // much of the callers LLVM inlines around it (it did: the HVC and MMIO
    // round trips moved by 10 % with unrelated changes elsewhere).
    #[inline(never)]
    fn handle_sync<F: ExitFastPath>(
        &mut self,
        esr: u64,
        far: u64,
        hpfar: u64,
        fast: &F,
    ) -> Option<AxResult<AxVCpuExitReason>> {
        let sync = crate::esr::decode_sync(esr, far, hpfar);
        self.exit_abort = access_abort(&sync);
        // Most trapped accesses (the GIC's, `ICC_SGI1R_EL1` first) are the
        // host's: only those `emulate` may answer go through it.
        if let SyncException::SysReg { addr, reg, read } = sync {
            let enc = SysRegEncoding::of(addr);
            if may_emulate(enc)
                && let Some(done) = self.emulate_sysreg(esr, enc, reg, read)
            {
                return done;
            }
        }
        let decision = exit_from_sync(sync, &self.regs.frame.x);
        if let Some(fault) = decision.guest_fault() {
            return match self.inject_fault(fault) {
                Ok(()) => None,
                Err(_) => Some(Ok(AxVCpuExitReason::Unsupported {
                    raw: esr,
                    detail: self.exit_pc,
                })),
            };
        }
        match decision {
            ExitDecision::Exit {
                ref reason,
                x0,
                advance_pc,
            } => {
                if let Some(v) = x0 {
                    self.regs.frame.x[0] = v;
                }
                if advance_pc {
                    self.regs.frame.elr = self.regs.frame.elr.wrapping_add(instruction_len(esr));
                }
                match *reason {
                    AxVCpuExitReason::Nothing => None,
                    // The hypercalls this vCPU can answer by itself are
                    // answered here, in its own loop (the fast path).
                    AxVCpuExitReason::Hypercall { nr, ref args } => {
                        match decode_hypercall(nr, args).and_then(|c| c.vcpu_result(self.vm_id, self.vcpu_id)) {
                            Some(value) => {
                                self.regs.frame.x[0] = value;
                                None
                            }
                            None => Some(Ok(reason.clone())),
                        }
                    }
                    AxVCpuExitReason::MmioRead { .. }
                    | AxVCpuExitReason::MmioWrite { .. }
                    | AxVCpuExitReason::SysRegRead { .. }
                    | AxVCpuExitReason::SysRegWrite { .. }
                    | AxVCpuExitReason::SendIPI { .. } => match self.offer(fast, reason) {
                        Offered::Resume => None,
                        // Done; the caller has interrupt work first.
                        Offered::HandedBack => Some(Ok(AxVCpuExitReason::Nothing)),
                        Offered::Left => Some(Ok(reason.clone())),
                    },
                    // The exit is copied out only where it leaves the loop:
                    // a move out of `decision` on the ways above would cost a
                    // `memcpy` call each time.
                    _ => Some(Ok(reason.clone())),
                }
            }
            ExitDecision::DataAbortNoSyndrome { gpa, far, write } => {
                // The host decides: RAM to map, a device access to emulate
                // (`emulate_no_syndrome`), or nothing there (it then calls
                // `inject_fault_for_last_exit`).
                self.no_syndrome = Some((gpa.as_usize() as u64, far));
                let access_flags = if write {
                    axvcpu::AccessFlags::WRITE
                } else {
                    axvcpu::AccessFlags::READ
                };
                Some(Ok(AxVCpuExitReason::NestedPageFault {
                    addr: gpa,
                    access_flags,
                }))
            }
            ExitDecision::Unsupported { ec } => {
                log::warn!(
                    "VM {} vCPU {}: unhandled {ec:?}, ESR {esr:#x}",
                    self.vm_id,
                    self.vcpu_id
                );
                Some(Ok(AxVCpuExitReason::Unsupported { raw: esr, detail: far }))
            }
            _ => Some(Ok(AxVCpuExitReason::Unsupported { raw: esr, detail: far })),
        }
    }
}

impl<H: AxVCpuHal> AxArchVCpu for Aarch64VCpu<H> {
    type CreateConfig = Aarch64VCpuCreateConfig;
    type SetupConfig = Aarch64VCpuSetupConfig;

    fn new(vm_id: VMId, vcpu_id: VCpuId, config: Self::CreateConfig) -> AxResult<Self> {
        let mut regs = VmRegs::default();
        regs.frame.spsr = SPSR_EL1H_MASKED;
        regs.frame.x[0] = config.dtb_addr as u64;
        let mmfr1 = hw_ids::mmfr1();
        let vmid_bits = crate::traps::vmid_bits(mmfr1);
        let Some(vmid) = vmid_hw::acquire(config.vm_key, vm_id, vmid_bits) else {
            return Err(AxError::ResourceBusy);
        };
        let vtcr = if vmid_bits == 16 {
            VTCR_EL2_VALUE | VTCR_EL2::VS::SET.value
        } else {
            VTCR_EL2_VALUE
        };
        Ok(Self {
            regs,
            sys: GuestSystemRegisters::default(),
            vm_id,
            vcpu_id,
            mpidr: config.mpidr_el1 | MPIDR_RES1,
            hcr: 0,
            vttbr: 0,
            exit_pc: 0,
            exit_abort: GuestFault::DataAbort { far: None },
            no_syndrome: None,
            has_pan: HW_ID_AA64MMFR1::PAN.read(mmfr1) != 0,
            has_ssbs: HW_ID_AA64PFR1::SSBS.read(hw_ids::pfr1()) != 0,
            vif: VgicCpuIf::new(),
            cntvoff: config.cntvoff,
            vmid,
            vm_key: config.vm_key,
            vtcr,
            feature_traps: crate::traps::hcr_el2_feature_traps(hw_ids::pfr0(), mmfr1),
            emul: EmulatedSysRegs {
                id: hw_ids::guest_id_regs(),
                debug: DebugRegs::default(),
            },
            reset_pending: false,
            hcr_stale: false,
            _hal: PhantomData,
        })
    }

    /// Sets the PC and the reset PSTATE (EL1h, interrupts masked): also
    /// used to restart a vCPU that called CPU_OFF.
    /// Also puts SCTLR_EL1 back to its reset value (MMU and caches off),
    /// as PSCI CPU_ON requires of the core it starts.
    fn set_entry(&mut self, entry: GuestPhysAddr) -> AxResult {
        self.regs.frame.elr = entry.as_usize() as u64;
        self.regs.frame.spsr = SPSR_EL1H_MASKED;
        self.sys.sctlr_el1 = super::context::SCTLR_EL1_RESET;
        self.reset_pending = true;
        Ok(())
    }

    fn set_ept_root(&mut self, ept_root: HostPhysAddr) -> AxResult {
        let root = ept_root.as_usize() as u64;
        if !root.is_multiple_of(4096) {
            return Err(AxError::InvalidInput);
        }
        self.vttbr = root | (u64::from(self.vmid) << VTTBR_VMID_SHIFT);
        Ok(())
    }

    fn setup(&mut self, config: Self::SetupConfig) -> AxResult {
        let irq_route = if config.passthrough_interrupt {
            0
        } else {
            hcr::IMO | hcr::FMO
        };
        self.hcr = hcr::VM
            | hcr::SWIO
            | hcr::AMO
            | hcr::FB
            | hcr::BSU_IS
            | hcr::TWI
            | hcr::TSC
            | hcr::RW
            | irq_route
            | self.feature_traps;
        Ok(())
    }

    /// Runs the guest until an exit this vCPU does not finish by itself.
    /// The virtual CPU interface stays on across the exits it finishes
    /// (system registers, PSCI and SMCCC calls, the hypercalls it answers,
    /// faults it injects): they do not touch the list registers, and IRQs
    /// stay masked meanwhile, so an interrupt that comes in between ends
    /// the next guest run at once. It is turned off, and the list
    /// registers read back, only when the exit goes to the caller.
    fn run(&mut self) -> AxResult<AxVCpuExitReason> {
        self.run_with(&axvcpu::NoFastPath)
    }

    /// [`Self::run`], and the device and system-register accesses and
    /// sent IPIs that `fast` finishes are finished inside the same loop,
    /// the virtual CPU interface still on.
    fn run_with<F: ExitFastPath>(&mut self, fast: &F) -> AxResult<AxVCpuExitReason> {
        if core::mem::take(&mut self.hcr_stale) {
            // Bound here (AxVCpu only runs a bound vCPU).
            write_sysreg!(hcr_el2, self.hcr);
        }
        self.vif.enter();
        loop {
            if core::mem::take(&mut self.reset_pending) {
                // Bound here, so the live register is the guest's.
                write_sysreg!(sctlr_el1, super::context::SCTLR_EL1_RESET);
            }
            // SAFETY: `bind` loaded this vCPU's EL2 controls and EL1 state on
            // this CPU (AxVCpu only runs a bound vCPU), IRQs are masked by
            // the caller, and hardware_enable ran at boot.
            let kind = unsafe { run_guest(&mut self.regs) };
            let exit = match kind {
                ExitKind::Irq => {
                    // Acknowledge the interrupt that ended the run before
                    // turning the virtual CPU interface off: that deasserts
                    // a maintenance interrupt, which would then read as
                    // spurious.
                    let irq = H::irq_fetch();
                    self.vif.exit();
                    H::handle_host_irq(irq);
                    return Ok(AxVCpuExitReason::ExternalInterrupt { vector: irq as u64 });
                }
                ExitKind::Sync => {
                    let esr = read_sysreg!(esr_el2);
                    let far = read_sysreg!(far_el2);
                    let hpfar = read_sysreg!(hpfar_el2);
                    self.exit_pc = self.regs.frame.elr;
                    self.no_syndrome = None;
                    // Most device accesses are finished here, in this
                    // loop's own frame: no call to set up for them.
                    let done = match crate::esr::translation_fault_access(esr, far, hpfar) {
                        Some((gpa, access)) => self.device_access(esr, far, gpa, access, fast),
                        None => self.handle_sync(esr, far, hpfar, fast),
                    };
                    match done {
                        Some(exit) => exit,
                        None => continue,
                    }
                }
                ExitKind::Fiq | ExitKind::SError => {
                    let esr = read_sysreg!(esr_el2);
                    log::warn!(
                        "VM {} vCPU {}: {kind:?} while the guest ran, ESR {esr:#x}",
                        self.vm_id,
                        self.vcpu_id
                    );
                    Ok(AxVCpuExitReason::Unsupported {
                        raw: esr,
                        detail: self.regs.frame.elr,
                    })
                }
            };
            self.vif.exit();
            return exit;
        }
    }

    fn bind(&mut self) -> AxResult {
        write_sysreg!(vmpidr_el2, self.mpidr);
        write_sysreg!(vtcr_el2, self.vtcr);
        // The guest's MIDR_EL1 is the CPU's own.
        write_sysreg!(vpidr_el2, read_sysreg!(midr_el1));
        write_sysreg!(vttbr_el2, self.vttbr);
        write_sysreg!(hcr_el2, self.hcr);
        self.hcr_stale = false;
        write_sysreg!(cntvoff_el2, self.cntvoff);
        self.sys.restore();
        self.vif.restore();
        // SAFETY: drops this CPU's stage-1+2 TLB entries of the VMID just
        // loaded, so no stale translation of an earlier VM survives.
        unsafe { core::arch::asm!("isb", "tlbi vmalls12e1", "dsb nsh", "isb") };
        Ok(())
    }

    fn unbind(&mut self) -> AxResult {
        self.sys.save();
        self.vif.save();
        write_sysreg!(hcr_el2, HOST_HCR);
        // SAFETY: a barrier only.
        unsafe { core::arch::asm!("isb") };
        Ok(())
    }

    fn set_gpr(&mut self, reg: usize, val: usize) {
        // x31 is XZR for loads: writes to it vanish.
        if let Some(r) = self.regs.frame.x.get_mut(reg) {
            *r = val as u64;
        }
    }

    /// Puts `vector` into a free list register as a pending Group 1
    /// interrupt (for a VM without a virtual GIC model; with one, the model
    /// owns the list registers and rebuilds them before every entry).
    /// `ResourceBusy` when every list register is in use.
    fn inject_interrupt(&mut self, vector: usize) -> AxResult {
        use axvcpu::virq::lr;
        /// Highest INTID a list register can carry for an SGI/PPI/SPI.
        const MAX_INTID: usize = 1019;
        /// Priority given to an interrupt injected this way.
        const PRIORITY: u64 = 0xa0;
        if vector > MAX_INTID {
            return Err(AxError::InvalidInput);
        }
        let lrs = &mut self.vif.lrs;
        let count = lrs.count;
        let regs = &mut lrs.lr[..count];
        if regs
            .iter()
            .any(|&v| v & lr::STATE_MASK != 0 && v & lr::VINTID_MASK == vector as u64)
        {
            return Ok(());
        }
        let slot = regs
            .iter_mut()
            .find(|v| **v & lr::STATE_MASK == 0)
            .ok_or(AxError::ResourceBusy)?;
        *slot = lr::STATE_PENDING | lr::GROUP1 | (PRIORITY << lr::PRIORITY_SHIFT) | vector as u64;
        Ok(())
    }

    fn list_regs(&mut self) -> Option<&mut ListRegs> {
        Some(&mut self.vif.lrs)
    }

    /// From the EL1 timer registers saved at `unbind`: the virtual timer's
    /// compare value plus the VM's CNTVOFF_EL2 (the virtual timer first,
    /// as in [`Self::local_irq_lines`]), and the physical timer's.
    fn saved_timer_deadlines(&self) -> TimerDeadlines {
        /// CNTx_CTL_EL0: ENABLE, IMASK.
        const ENABLE: u64 = 1 << 0;
        const IMASK: u64 = 1 << 1;
        let armed = |ctl: u64| ctl & (ENABLE | IMASK) == ENABLE;
        [
            armed(self.sys.cntv_ctl_el0).then(|| self.sys.cntv_cval_el0.saturating_add(self.cntvoff)),
            armed(self.sys.cntp_ctl_el0).then_some(self.sys.cntp_cval_el0),
        ]
    }

    /// Clears or sets HCR_EL2.TWI: a WFI that does not trap waits on the
    /// physical CPU, and any physical interrupt (routed to EL2 while the
    /// guest runs) ends it with an exit.
    fn set_wfi_exits(&mut self, exits: bool) {
        let hcr = if exits {
            self.hcr | hcr::TWI
        } else {
            self.hcr & !hcr::TWI
        };
        if hcr != self.hcr {
            self.hcr = hcr;
            self.hcr_stale = true;
        }
    }

    /// The EL1 virtual timer (PPI 27) and physical timer (PPI 30), read from
    /// the live CNTV_CTL_EL0 / CNTP_CTL_EL0 (the vCPU is bound here).
    fn local_irq_lines(&self) -> [Option<LocalIrqLine>; axvcpu::LOCAL_TIMERS] {
        /// CNTx_CTL_EL0: ENABLE, IMASK, ISTATUS.
        const ENABLE: u64 = 1 << 0;
        const IMASK: u64 = 1 << 1;
        const ISTATUS: u64 = 1 << 2;
        let level = |ctl: u64| ctl & (ENABLE | IMASK | ISTATUS) == ENABLE | ISTATUS;
        [
            Some(LocalIrqLine {
                intid: VTIMER_PPI,
                level: level(read_sysreg!(cntv_ctl_el0)),
            }),
            Some(LocalIrqLine {
                intid: PTIMER_PPI,
                level: level(read_sysreg!(cntp_ctl_el0)),
            }),
        ]
    }

    fn set_return_value(&mut self, val: usize) {
        self.regs.frame.x[0] = val as u64;
    }

    fn inject_fault_for_last_exit(&mut self, fault: LastExitFault) -> AxResult {
        match fault {
            LastExitFault::Access => self.inject_fault(self.exit_abort),
            LastExitFault::Undefined => self.inject_fault(GuestFault::Undef),
        }
    }
}

impl<H: AxVCpuHal> Drop for Aarch64VCpu<H> {
    /// Gives the VM's VMID back (the VM's last vCPU frees it and
    /// invalidates its TLB entries).
    fn drop(&mut self) {
        vmid_hw::release(self.vm_key);
    }
}
