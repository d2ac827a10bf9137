//! [`AxVM`]: the VM object and its exit loop.

use crate::arch::{self, ArchVCpu};
use crate::memory::{GPA_BITS, GuestMemory};
use crate::{AxVMConfig, AxVMHal, MAX_VCPUS};
use alloc::{boxed::Box, format, string::String, sync::Arc, vec::Vec};
use axaddrspace::GuestPhysAddr as AsGpa;
use axdevice::{AxVmDevices, ConsoleSink, DeviceContext};
use axerrno::{AxError, AxResult};
use axvcpu::{AxVCpu, AxVCpuExitReason, AxVCpuHal, GuestPhysAddr, HostPhysAddr, LastExitFault, VCpuState};
use core::sync::atomic::{AtomicBool, Ordering};
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
    memory: SpinNoIrq<GuestMemory<H>>,
    running: AtomicBool,
    shutting_down: AtomicBool,
}

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
        let memory = GuestMemory::<H>::new(&config)?;
        let ctx = DeviceContext::new(name.clone(), console);
        let devices = AxVmDevices::from_config(config.emu_devices(), &ctx).map_err(|e| {
            log::error!("VM {id} ({name}): {e}");
            AxError::from(e)
        })?;
        let root = HostPhysAddr::from(memory.aspace.page_table_root().as_usize());

        let mut vcpus = Vec::with_capacity(config.cpu_num());
        for (vcpu_id, affinity, phys_id) in config.get_vcpu_affinities_pcpu_ids() {
            let create = arch::create_config(&config, vcpu_id, phys_id);
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
            vcpus: vcpus.into_boxed_slice(),
            devices,
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

    /// Makes `irq` pending for every vCPU in `targets` (vCPU ids of this
    /// VM), through the host, which delivers it on each vCPU's CPU.
    pub fn inject_interrupt_to_vcpu(&self, targets: CpuMask<MAX_VCPUS>, irq: usize) -> AxResult {
        for vcpu_id in 0..self.vcpus.len() {
            if targets.get(vcpu_id) {
                H::inject_irq_to_vcpu(self.id, vcpu_id, irq)?;
            }
        }
        Ok(())
    }

    /// Runs vCPU `vcpu_id` on the calling physical CPU (binding it on first
    /// use) until an exit the VM does not handle itself, and returns it.
    /// MMIO, system-register and nested page fault exits are handled here;
    /// an access nothing answers becomes a fault in the guest.
    ///
    /// Errors: `InvalidInput` for a bad id; `BadState` when the vCPU cannot
    /// run (not bound here, broken) or the guest cannot take a fault it
    /// caused; the caller stops the VM on any error.
    pub fn run_vcpu(&self, vcpu_id: usize) -> AxResult<AxVCpuExitReason> {
        let cell = self.vcpus.get(vcpu_id).ok_or(AxError::InvalidInput)?;
        let mut vcpu = cell.lock();
        if vcpu.state() == VCpuState::Free {
            vcpu.bind()?;
        }
        loop {
            let exit = vcpu.run()?;
            if !self.handle_exit(&mut vcpu, &exit)? {
                return Ok(exit);
            }
        }
    }

    /// Handles an exit inside the VM. `Ok(true)`: done, run again;
    /// `Ok(false)`: the caller's.
    fn handle_exit(&self, vcpu: &mut AxVCpu<ArchVCpu<U>>, exit: &AxVCpuExitReason) -> AxResult<bool> {
        match *exit {
            AxVCpuExitReason::MmioRead {
                addr,
                width,
                reg,
                reg_width,
                signed_ext,
            } => match self.devices.handle_mmio_read(addr, width) {
                Ok(v) => {
                    let v = arm_vcpu::mmio_read_result(v, width, signed_ext, reg_width);
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
            }
            AxVCpuExitReason::NestedPageFault { addr, access_flags } => {
                let gpa = addr.as_usize();
                if gpa >> GPA_BITS != 0 {
                    self.fail_access(vcpu, gpa, AxError::InvalidInput)?;
                } else if self.devices.find_mmio_dev(addr).is_some() {
                    // A device access whose instruction gave no syndrome
                    // (e.g. LDP, or a post-indexed load): not emulated.
                    log::warn!(
                        "VM {}: access to device at {gpa:#x} without syndrome; stopping the VM",
                        self.id
                    );
                    return Err(AxError::Unsupported);
                } else {
                    let flags = to_mapping_flags(access_flags);
                    if !self.memory.lock().aspace.handle_page_fault(AsGpa::from(gpa), flags) {
                        self.fail_access(vcpu, gpa, AxError::NotFound)?;
                    }
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn fail_access(&self, vcpu: &mut AxVCpu<ArchVCpu<U>>, gpa: usize, e: AxError) -> AxResult {
        log::debug!(
            "VM {} vCPU {}: access at {gpa:#x} failed ({e:?}); abort injected",
            self.id,
            vcpu.id()
        );
        self.fault(vcpu, LastExitFault::Access)
    }

    fn fault(&self, vcpu: &mut AxVCpu<ArchVCpu<U>>, fault: LastExitFault) -> AxResult {
        vcpu.inject_fault_for_last_exit(fault).inspect_err(|e| {
            log::warn!(
                "VM {} ({}) vCPU {}: cannot take {fault:?}: {e:?}",
                self.id,
                self.name,
                vcpu.id()
            );
        })
    }

    /// A short description for logs.
    pub fn describe(&self) -> String {
        format!("VM {} ({})", self.id, self.name)
    }
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
