//! [`AxVM`]: the VM object and its exit loop.

use crate::arch::{self, ArchVCpu, NoSyndrome};
use crate::exit_count::ExitCount;
use crate::fast_path::InLoop;
use crate::irq::{VmIrqs, sgi1r_value};
use crate::memory::{GPA_BITS, GuestMemory};
use crate::pc::PcIrqs;
use crate::{AxVMConfig, AxVMHal, MAX_VCPUS};
use alloc::{boxed::Box, format, string::String, sync::Arc, vec::Vec};
use axaddrspace::GuestPhysAddr as AsGpa;
use axdevice::{AxVmDevices, ConsoleSink, DeviceContext, PowerRequest, Vgic};
use axerrno::{AxError, AxResult};
use axvcpu::{
    AxVCpu, AxVCpuExitReason, AxVCpuHal, GuestPhysAddr, HostPhysAddr, LastExitFault, TimerDeadlines, VCpuState,
};
use axvmconfig::EmulatedDeviceType;
use core::cell::Cell;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use cpumask::CpuMask;
use kspin::SpinNoIrq;
use memory_addr::PhysAddr;

/// A vCPU of a VM, behind the lock its runner holds while it runs.
pub type VCpuRef<U> = Arc<SpinNoIrq<AxVCpu<ArchVCpu<U>>>>;
/// A shared VM.
pub type AxVMRef<H, U> = Arc<AxVM<H, U>>;

/// A virtual machine (seed 001). `H`: the host's VM services; `U`: the
/// host's vCPU services.
pub struct AxVM<H: AxVMHal, U: AxVCpuHal> {
    id: usize,
    name: String,
    config: AxVMConfig,
    vcpus: Box<[VCpuRef<U>]>,
    devices: AxVmDevices,
    irqs: Option<VmIrqs<H>>,
    /// The local APICs of an x86 VM.
    pc: Option<PcIrqs<H>>,
    memory: SpinNoIrq<GuestMemory<H>>,
    running: AtomicBool,
    shutting_down: AtomicBool,
    /// Exits its vCPUs took (handled here or returned), per vCPU.
    exits: Box<[ExitCount]>,
}

/// The next VM key: a number that tells one built VM from every other,
/// for the arch layer (the aarch64 vCPUs of one VM share a VMID by it).
static NEXT_VM_KEY: AtomicU64 = AtomicU64::new(1);

impl<H: AxVMHal, U: AxVCpuHal> AxVM<H, U> {
    /// Builds the VM: stage-2 address space from the memory regions and
    /// passthrough devices, the emulated devices, and the vCPUs (set up,
    /// not yet bound). `console` receives the output of the VM's UARTs.
    ///
    /// Errors: `InvalidInput` for a config that cannot be built (zero or
    /// too many vCPUs, unsupported device, bad region), `NoMemory`, or the
    /// arch layer's error.
    pub fn new(config: AxVMConfig, console: Arc<dyn ConsoleSink>) -> AxResult<AxVMRef<H, U>> {
        let id = config.id();
        let name = config.name();
        if config.cpu_num() == 0 || config.cpu_num() > MAX_VCPUS {
            log::error!(
                "VM {id} ({name}): {} vCPUs (1 to {MAX_VCPUS} supported)",
                config.cpu_num()
            );
            return Err(AxError::InvalidInput);
        }
        for default in config.applied_defaults() {
            log::info!("VM {id} ({name}): {default}");
        }
        let memory = GuestMemory::<H>::new(&config)?;
        let ctx = DeviceContext::new(name.clone(), console);
        // The interrupt controller entries only place the virtual GIC.
        let models: Vec<_> = config
            .emu_devices()
            .iter()
            .filter(|d| !is_gic_entry(d.emu_type))
            .cloned()
            .collect();
        let mut devices = AxVmDevices::from_config(&models, &ctx).map_err(|e| {
            log::error!("VM {id} ({name}): {e}");
            AxError::from(e)
        })?;
        if arch::PC_DEVICES {
            devices.add_power_ports().inspect_err(|_| {
                log::error!("VM {id} ({name}): a device overlaps the power ports (0x604, 0xcf9)");
            })?;
        }
        let pc = arch::PC_DEVICES.then(|| PcIrqs::<H>::new(id, config.cpu_num()));
        let layout = if arch::HAS_GIC {
            crate::layout::gic_layout(&config)
        } else {
            None
        };
        let irqs = match layout {
            Some(layout) => {
                let irqs = VmIrqs::<H>::new(id, layout).inspect_err(|e| {
                    log::error!(
                        "VM {id} ({name}): cannot build its virtual GIC: {}",
                        axvcpu::ErrorName(*e)
                    );
                })?;
                let vgic = irqs.vgic();
                for dev in [vgic.distributor(), vgic.redistributors()] {
                    devices.add_mmio_dev(dev).inspect_err(|_| {
                        log::error!("VM {id} ({name}): the virtual GIC overlaps another device");
                    })?;
                }
                for uart in devices.pl011s() {
                    uart.connect_irq(vgic.clone());
                }
                Some(irqs)
            }
            None => None,
        };
        let cntvoff = arch::counter_offset();
        // One number per AxVM ever built: a restarted VM is a new one.
        let vm_key = NEXT_VM_KEY.fetch_add(1, Ordering::Relaxed);
        let root = HostPhysAddr::from(memory.aspace.page_table_root().as_usize());

        let mut vcpus = Vec::with_capacity(config.cpu_num());
        for (vcpu_id, affinity, phys_id) in config.get_vcpu_affinities_pcpu_ids() {
            let create = arch::create_config(&config, vcpu_id, phys_id, cntvoff, vm_key);
            let mut vcpu = AxVCpu::new(id, vcpu_id, phys_id, affinity, create)?;
            let entry = if vcpu_id == 0 {
                config.bsp_entry()
            } else {
                config.ap_entry()
            };
            vcpu.setup(GuestPhysAddr::from(entry), root, arch::setup_config(&config))?;
            vcpus.push(Arc::new(SpinNoIrq::new(vcpu)));
        }
        log::info!(
            "VM {id} ({name}) created: {} vCPUs, {} devices",
            vcpus.len(),
            devices.len()
        );
        Ok(Arc::new(Self {
            id,
            name,
            config,
            exits: vcpus.iter().map(|_| ExitCount::default()).collect(),
            vcpus: vcpus.into_boxed_slice(),
            devices,
            irqs,
            pc,
            memory: SpinNoIrq::new(memory),
            running: AtomicBool::new(false),
            shutting_down: AtomicBool::new(false),
        }))
    }

    /// The VM id.
    pub fn id(&self) -> usize {
        self.id
    }

    /// The VM name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The config the VM was built from.
    pub fn config(&self) -> &AxVMConfig {
        &self.config
    }

    /// `(vcpu id, affinity mask, physical CPU id)` of each vCPU.
    pub fn get_vcpu_affinities_pcpu_ids(&self) -> Vec<(usize, Option<usize>, usize)> {
        self.config.get_vcpu_affinities_pcpu_ids()
    }

    /// Load addresses of the images.
    pub fn image_config(&self) -> &axvmconfig::VMImageConfig {
        self.config.image_config()
    }

    /// Entry of the boot vCPU.
    pub fn bsp_entry(&self) -> GuestPhysAddr {
        GuestPhysAddr::from(self.config.bsp_entry())
    }

    /// Entry of the other vCPUs.
    pub fn ap_entry(&self) -> GuestPhysAddr {
        GuestPhysAddr::from(self.config.ap_entry())
    }

    /// Number of vCPUs.
    pub fn vcpu_num(&self) -> usize {
        self.vcpus.len()
    }

    /// vCPU `vcpu_id`, or `None`.
    pub fn vcpu(&self, vcpu_id: usize) -> Option<&VCpuRef<U>> {
        self.vcpus.get(vcpu_id)
    }

    /// The emulated devices.
    pub fn devices(&self) -> &AxVmDevices {
        &self.devices
    }

    /// Marks the VM running. `BadState` if it already runs or is stopping.
    pub fn boot(&self) -> AxResult {
        if self.shutting_down.load(Ordering::Acquire) {
            return Err(AxError::BadState);
        }
        self.running
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(|_| AxError::BadState)
    }

    /// Whether [`Self::boot`] succeeded and the VM has not been shut down.
    pub fn running(&self) -> bool {
        self.running.load(Ordering::Acquire) && !self.shutting_down()
    }

    /// Starts stopping the VM (one-way). `BadState` on a second call.
    pub fn shutdown(&self) -> AxResult {
        self.shutting_down
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(|_| AxError::BadState)
    }

    /// Whether [`Self::shutdown`] was called.
    pub fn shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }

    /// Exits its vCPUs have taken (handled inside the VM or returned).
    pub fn exits(&self) -> u64 {
        self.exits.iter().map(ExitCount::get).sum()
    }

    /// Maps host range `[hpa, hpa + size)` at `gpa`.
    pub fn map_region(
        &self,
        gpa: GuestPhysAddr,
        hpa: HostPhysAddr,
        size: usize,
        flags: axaddrspace::MappingFlags,
    ) -> AxResult {
        self.memory
            .lock()
            .aspace
            .map_linear(AsGpa::from(gpa.as_usize()), PhysAddr::from(hpa.as_usize()), size, flags)
    }

    /// Unmaps `[gpa, gpa + size)`.
    pub fn unmap_region(&self, gpa: GuestPhysAddr, size: usize) -> AxResult {
        self.memory.lock().aspace.unmap(AsGpa::from(gpa.as_usize()), size)
    }

    /// Copies `data` into guest memory at `gpa` (all of it must be mapped).
    pub fn write_guest(&self, gpa: GuestPhysAddr, data: &[u8]) -> AxResult {
        self.memory.lock().write(gpa.as_usize(), data)
    }

    /// Reads guest memory at `gpa` into `buf` (all of it must be mapped).
    pub fn read_guest(&self, gpa: GuestPhysAddr, buf: &mut [u8]) -> AxResult {
        self.memory.lock().read(gpa.as_usize(), buf)
    }

    /// Makes interrupt `irq` pending (edge) in the VM's virtual GIC: an SGI
    /// or PPI for every vCPU in `targets` (vCPU ids of this VM), an SPI once
    /// (the guest's routing picks its vCPU; `targets` is ignored). The
    /// vCPUs that can take it are notified through the host.
    /// `Unsupported` for a VM without interrupts, `InvalidInput` for an
    /// INTID out of range.
    pub fn inject_interrupt_to_vcpu(&self, targets: CpuMask<MAX_VCPUS>, irq: usize) -> AxResult {
        let irqs = self.irqs.as_ref().ok_or(AxError::Unsupported)?;
        let intid = u32::try_from(irq).map_err(|_| AxError::InvalidInput)?;
        if intid >= 32 {
            irqs.vgic().set_pending(0, intid);
        } else {
            for vcpu_id in (0..self.vcpus.len()).filter(|&i| targets.get(i)) {
                irqs.vgic().set_pending(vcpu_id, intid);
            }
        }
        irqs.deliver_kicks(None);
        Ok(())
    }

    /// Sets the level of SPI `intid`, an interrupt line of a device outside
    /// the VM (a forwarded physical interrupt), and notifies the vCPU that
    /// can take it.
    pub fn set_irq_level(&self, intid: u32, level: bool) {
        if let Some(irqs) = &self.irqs {
            irqs.vgic().set_level(0, intid, level);
            irqs.deliver_kicks(None);
        }
    }

    /// Notifies the vCPUs that got a deliverable interrupt from outside a
    /// vCPU run (the host fed a device, like console input to a UART).
    pub fn deliver_pending_irqs(&self) {
        if let Some(irqs) = &self.irqs {
            irqs.deliver_kicks(None);
        }
    }

    /// Whether vCPU `vcpu_id` has an interrupt it can take: a vCPU halted in
    /// WFI is woken for it.
    pub fn vcpu_has_pending_irq(&self, vcpu_id: usize) -> bool {
        self.irqs.as_ref().is_some_and(|i| i.vgic().has_deliverable(vcpu_id))
            || self.pc.as_ref().is_some_and(|p| p.has_pending(vcpu_id))
    }

    /// When vCPU `vcpu_id`, if it is not loaded on a CPU, has timers
    /// armed: the physical counter value at which each fires (the host
    /// wakes up then for a vCPU halted in WFI), all `None` if it has none.
    /// An x86 vCPU's timer is its emulated local APIC's, loaded or not.
    pub fn vcpu_timer_deadlines(&self, vcpu_id: usize) -> TimerDeadlines {
        const NONE: TimerDeadlines = [None; axvcpu::LOCAL_TIMERS];
        if let Some(pc) = &self.pc {
            return [pc.timer_deadline(vcpu_id), None];
        }
        let Some(cell) = self.vcpus.get(vcpu_id) else {
            return NONE;
        };
        let mut vcpu = cell.lock();
        if vcpu.state() != VCpuState::Free {
            return NONE;
        }
        axvcpu::AxArchVCpu::saved_timer_deadlines(vcpu.get_arch_vcpu())
    }

    /// Whether vCPU `vcpu_id`'s wait-for-interrupt instruction exits (see
    /// `AxArchVCpu::set_wfi_exits`); from its next run on.
    pub fn set_vcpu_wfi_exits(&self, vcpu_id: usize, exits: bool) {
        if let Some(cell) = self.vcpus.get(vcpu_id) {
            axvcpu::AxArchVCpu::set_wfi_exits(cell.lock().get_arch_vcpu(), exits);
        }
    }

    /// The VM's virtual GIC, if it has interrupts.
    pub fn vgic(&self) -> Option<&Arc<Vgic>> {
        self.irqs.as_ref().map(|i| i.vgic())
    }

    /// The host physical address guest address `gpa` maps to, for the unit
    /// tests.
    #[cfg(test)]
    pub(crate) fn host_address_of(&self, gpa: usize) -> Option<usize> {
        self.memory
            .lock()
            .aspace
            .translate(axaddrspace::GuestPhysAddr::from(gpa))
            .map(|hpa| hpa.as_usize())
    }

    /// The interrupt state, for the unit tests.
    #[cfg(test)]
    pub(crate) fn irqs_for_tests(&self) -> &VmIrqs<H> {
        self.irqs.as_ref().expect("a VM with a virtual GIC")
    }

    /// Runs vCPU `vcpu_id` on the calling physical CPU (binding it on first
    /// use) until an exit the VM does not handle itself, and returns it;
    /// `answer`, if any, is first set as the value of the hypercall it
    /// made last. MMIO, system-register and nested page fault exits are
    /// handled here;
    /// an access nothing answers becomes a fault in the guest.
    ///
    /// Errors: `InvalidInput` for a bad id; `BadState` when the vCPU cannot
    /// run (not bound here, broken) or the guest cannot take a fault it
    /// caused; the caller stops the VM on any error.
    pub fn run_vcpu(&self, vcpu_id: usize, answer: Option<u64>) -> AxResult<AxVCpuExitReason> {
        self.run_vcpu_with(vcpu_id, answer, &mut || false)
    }

    /// [`Self::run_vcpu`], and when a host interrupt (one the guest does
    /// not own) ends a guest run, `on_interrupt` says whether the vCPU
    /// goes on at once (true) instead of returning that exit: the caller's
    /// scheduling decision, made without leaving the VM's loop (a vCPU
    /// alone on its CPU, its slice not over). The interrupt's handler has
    /// run by then.
    pub fn run_vcpu_with(
        &self,
        vcpu_id: usize,
        answer: Option<u64>,
        on_interrupt: &mut dyn FnMut() -> bool,
    ) -> AxResult<AxVCpuExitReason> {
        let cell = self.vcpus.get(vcpu_id).ok_or(AxError::InvalidInput)?;
        let exits = self.exits.get(vcpu_id).ok_or(AxError::InvalidInput)?;
        let mut vcpu = cell.lock();
        if vcpu.state() == VCpuState::Free {
            vcpu.bind()?;
        }
        if let Some(value) = answer {
            vcpu.set_return_value(value as usize)?;
        }
        if let Some(exit) = self.pc.as_ref().and_then(|p| p.take_pending_exit(vcpu_id)) {
            return Ok(exit);
        }
        // The last exit was a device or system-register access handled
        // below (the fast way back into the guest may skip the vGIC work).
        let mut access_exit = false;
        let fast = InLoop {
            devices: &self.devices,
            irqs: self.irqs.as_ref(),
            has_apics: self.pc.is_some(),
            vcpu_id,
            exits,
            handed_back: Cell::new(false),
        };
        loop {
            if let Some(irqs) = &self.irqs
                && !irqs.entry_is_quiet(vcpu_id, access_exit)
            {
                irqs.before_entry::<U, _>(vcpu_id, vcpu.get_arch_vcpu());
            }
            if let Some(pc) = &self.pc {
                pc.before_entry(vcpu_id, vcpu.get_arch_vcpu());
            }
            let exit = vcpu.run_with(&fast);
            exits.add_one();
            if let Some(irqs) = &self.irqs {
                let halted = matches!(exit, Ok(AxVCpuExitReason::Halt));
                irqs.after_exit::<U, _>(vcpu_id, vcpu.get_arch_vcpu(), halted);
            }
            let exit = exit?;
            let handled = if fast.handed_back.take() && exit == AxVCpuExitReason::Nothing {
                // An access the fast path finished: only the interrupt
                // work is left (not the guest's yield).
                Ok(Handled::Done)
            } else {
                match self.handle_exit(&mut vcpu, &exit) {
                    Ok(Handled::Return)
                        if matches!(exit, AxVCpuExitReason::ExternalInterrupt { .. }) && on_interrupt() =>
                    {
                        Ok(Handled::Done)
                    }
                    other => other,
                }
            };
            if let Some(irqs) = &self.irqs {
                irqs.deliver_kicks(Some(vcpu_id));
            }
            access_exit = matches!(
                exit,
                AxVCpuExitReason::MmioRead { .. }
                    | AxVCpuExitReason::MmioWrite { .. }
                    | AxVCpuExitReason::SysRegRead { .. }
                    | AxVCpuExitReason::SysRegWrite { .. }
            );
            match handled? {
                Handled::Done => {}
                Handled::Return => return Ok(exit),
                Handled::Instead(other) => return Ok(other),
            }
        }
    }

    /// Handles an exit inside the VM: done (run again), or what to return
    /// to the caller.
    fn handle_exit(&self, vcpu: &mut AxVCpu<ArchVCpu<U>>, exit: &AxVCpuExitReason) -> AxResult<Handled> {
        let vcpu_id = vcpu.id();
        if let Some(pc) = &self.pc
            && let Some(handled) = Self::handle_lapic(pc, vcpu, exit)?
        {
            return Ok(handled);
        }
        match *exit {
            AxVCpuExitReason::Halt => match &self.pc {
                Some(pc) if pc.halt_is_over(vcpu_id) => {}
                _ => return Ok(Handled::Return),
            },
            AxVCpuExitReason::ExternalInterrupt { vector } if arch::is_guest_owned_irq(vector as usize) => {}
            AxVCpuExitReason::SendIPI {
                target_cpu,
                target_cpu_aux,
                send_to_all,
                vector,
                ..
            } => match &self.irqs {
                Some(irqs) => {
                    let value = sgi1r_value(target_cpu, target_cpu_aux, send_to_all, vector);
                    irqs.vgic().send_sgi(vcpu.id(), value);
                }
                // No interrupt controller: the host decides.
                None => return Ok(Handled::Return),
            },
            AxVCpuExitReason::MmioRead {
                addr,
                width,
                reg,
                reg_width,
                signed_ext,
            } => match self.devices.handle_mmio_read(addr, width) {
                Ok(v) => {
                    let v = arch::mmio_read_value(v, width, signed_ext, reg_width);
                    vcpu.set_gpr(reg, v as usize)?;
                }
                Err(e) => self.fail_access(vcpu, addr.as_usize(), e)?,
            },
            AxVCpuExitReason::MmioWrite { addr, width, data } => {
                if let Err(e) = self.devices.handle_mmio_write(addr, width, data) {
                    self.fail_access(vcpu, addr.as_usize(), e)?;
                }
            }
            AxVCpuExitReason::SysRegRead { addr, reg } => match self.devices.handle_sys_reg_read(addr) {
                Ok(v) => vcpu.set_gpr(reg, v as usize)?,
                Err(_) => self.fault(vcpu, LastExitFault::Undefined)?,
            },
            AxVCpuExitReason::SysRegWrite { addr, value } => {
                if self.devices.handle_sys_reg_write(addr, value).is_err() {
                    self.fault(vcpu, LastExitFault::Undefined)?;
                }
            }
            AxVCpuExitReason::IoRead { port, width } => match self.devices.handle_port_read(port, width) {
                Ok(v) => vcpu.set_gpr(0, v as usize)?,
                Err(_) => vcpu.set_gpr(0, usize::MAX)?,
            },
            AxVCpuExitReason::IoWrite { port, width, data } => {
                let _ = self.devices.handle_port_write(port, width, data);
                match self.devices.take_power_request() {
                    Some(PowerRequest::Off) => return Ok(Handled::Instead(AxVCpuExitReason::SystemDown)),
                    Some(PowerRequest::Reset) => return Ok(Handled::Instead(AxVCpuExitReason::SystemReset)),
                    None => {}
                }
            }
            AxVCpuExitReason::NestedPageFault { addr, access_flags } => {
                let gpa = addr.as_usize();
                if gpa >> GPA_BITS != 0 {
                    self.fail_access(vcpu, gpa, AxError::InvalidInput)?;
                } else if self.devices.find_mmio_dev(addr).is_some() {
                    // A device access whose instruction gave no syndrome
                    // (aarch64: LDP, a write-back form, a SIMD&FP
                    // register, ...; the vCPU decodes it) or could not be
                    // decoded (x86: a string instruction).
                    match arch::emulate_without_syndrome(vcpu.get_arch_vcpu(), &self.devices, &self.memory) {
                        NoSyndrome::Emulated => {}
                        NoSyndrome::Refused => self.fail_access(vcpu, gpa, AxError::Unsupported)?,
                        NoSyndrome::Unsupported => {
                            log::warn!(
                                "VM {}: access to device at {gpa:#x} that cannot be emulated (undecodable instruction); stopping the VM",
                                self.id
                            );
                            return Err(AxError::Unsupported);
                        }
                    }
                } else {
                    let flags = to_mapping_flags(access_flags);
                    if !self.memory.lock().aspace.handle_page_fault(AsGpa::from(gpa), flags) {
                        self.fail_access(vcpu, gpa, AxError::NotFound)?;
                    }
                }
            }
            _ => return Ok(Handled::Return),
        }
        Ok(Handled::Done)
    }

    /// An access to the local APIC page of an x86 VM, if `exit` is one.
    fn handle_lapic(
        pc: &PcIrqs<H>,
        vcpu: &mut AxVCpu<ArchVCpu<U>>,
        exit: &AxVCpuExitReason,
    ) -> AxResult<Option<Handled>> {
        let vcpu_id = vcpu.id();
        match *exit {
            AxVCpuExitReason::MmioRead { addr, width, reg, .. } => {
                let Some(off) = PcIrqs::<H>::lapic_offset(addr) else {
                    return Ok(None);
                };
                vcpu.set_gpr(reg, pc.read(vcpu_id, off, width) as usize)?;
            }
            AxVCpuExitReason::MmioWrite { addr, width, data } => {
                let Some(off) = PcIrqs::<H>::lapic_offset(addr) else {
                    return Ok(None);
                };
                if let Some(other) = pc.write(vcpu_id, off, width, data) {
                    return Ok(Some(Handled::Instead(other)));
                }
            }
            _ => return Ok(None),
        }
        Ok(Some(Handled::Done))
    }

    fn fail_access(&self, vcpu: &mut AxVCpu<ArchVCpu<U>>, gpa: usize, e: AxError) -> AxResult {
        log::debug!(
            "VM {} vCPU {}: access at {gpa:#x} failed ({}); abort injected",
            self.id,
            vcpu.id(),
            axvcpu::ErrorName(e)
        );
        self.fault(vcpu, LastExitFault::Access)
    }

    fn fault(&self, vcpu: &mut AxVCpu<ArchVCpu<U>>, fault: LastExitFault) -> AxResult {
        vcpu.inject_fault_for_last_exit(fault).inspect_err(|e| {
            log::warn!(
                "VM {} ({}) vCPU {}: cannot take {fault:?}: {}",
                self.id,
                self.name,
                vcpu.id(),
                axvcpu::ErrorName(*e)
            );
        })
    }

    /// A short description for logs.
    pub fn describe(&self) -> String {
        format!("VM {} ({})", self.id, self.name)
    }
}

/// What became of an exit handled inside the VM.
enum Handled {
    /// Done: enter the guest again.
    Done,
    /// The caller's: return it.
    Return,
    /// Return this exit instead (a power-port write, a STARTUP IPI).
    Instead(AxVCpuExitReason),
}

fn to_mapping_flags(a: axvcpu::AccessFlags) -> axaddrspace::MappingFlags {
    use axaddrspace::MappingFlags as M;
    let mut f = M::empty();
    if a.contains(axvcpu::AccessFlags::READ) {
        f |= M::READ;
    }
    if a.contains(axvcpu::AccessFlags::WRITE) {
        f |= M::WRITE;
    }
    if a.contains(axvcpu::AccessFlags::EXECUTE) {
        f |= M::EXECUTE;
    }
    f
}

/// Whether an emulated device entry places the interrupt controller.
fn is_gic_entry(t: EmulatedDeviceType) -> bool {
    matches!(
        t,
        EmulatedDeviceType::GicdV3
            | EmulatedDeviceType::GicrV3
            | EmulatedDeviceType::InterruptController
            | EmulatedDeviceType::GPPTDistributor
            | EmulatedDeviceType::GPPTRedistributor
    )
}
