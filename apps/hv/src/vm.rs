//! A VM of this hypervisor as the VM manager drives it ([`HvVm`]), and
//! building one from a config built into the image ([`build`]).

use crate::EmbeddedVm;
use crate::hal::{AxVCpuHalImpl, AxVMHalImpl};
use alloc::{format, string::String, sync::Arc};
use axdevice::ConsoleSink;
use axerrno::AxResult;
use axvcpu::{AxVCpuExitReason, GuestPhysAddr, TimerDeadlines, VCpuState};
use axvm::AxVMConfig;
use axvmm::{ManagedVm, VmImage};

/// A VM of this hypervisor.
pub type Vm = axvm::AxVM<AxVMHalImpl, AxVCpuHalImpl>;
/// A shared VM.
pub type VmRef = Arc<Vm>;

/// [`ManagedVm`] over an `axvm` VM.
pub struct HvVm(pub VmRef);

impl ManagedVm for HvVm {
    fn id(&self) -> usize {
        self.0.id()
    }

    fn name(&self) -> &str {
        self.0.name()
    }

    fn vcpu_num(&self) -> usize {
        self.0.vcpu_num()
    }

    fn run_vcpu(
        &self,
        vcpu: usize,
        answer: Option<u64>,
        on_interrupt: &mut dyn FnMut() -> bool,
    ) -> AxResult<AxVCpuExitReason> {
        self.0.run_vcpu_with(vcpu, answer, on_interrupt)
    }

    fn unbind_vcpu(&self, vcpu: usize) {
        if let Some(v) = self.0.vcpu(vcpu) {
            let mut v = v.lock();
            if v.state() == VCpuState::Ready {
                let _ = v.unbind();
            }
        }
    }

    fn prepare_vcpu(&self, vcpu: usize, entry: usize, arg: u64) -> AxResult {
        let v = self.0.vcpu(vcpu).ok_or(axerrno::AxError::InvalidInput)?;
        let mut v = v.lock();
        v.set_entry(GuestPhysAddr::from(entry))?;
        v.set_gpr(0, arg as usize)
    }

    fn set_return_value(&self, vcpu: usize, value: u64) {
        if let Some(v) = self.0.vcpu(vcpu) {
            let _ = v.lock().set_return_value(value as usize);
        }
    }

    fn vcpu_has_pending_irq(&self, vcpu: usize) -> bool {
        self.0.vcpu_has_pending_irq(vcpu)
    }

    fn vcpu_timer_deadlines(&self, vcpu: usize) -> TimerDeadlines {
        self.0.vcpu_timer_deadlines(vcpu)
    }

    fn set_wfi_exits(&self, vcpu: usize, exits: bool) {
        self.0.set_vcpu_wfi_exits(vcpu, exits);
    }

    /// A PSCI CPU_ON names the target by its MPIDR affinity, an x86
    /// STARTUP IPI by its APIC ID.
    fn vcpu_by_arch_id(&self, arch_id: u64) -> Option<usize> {
        crate::arch::vcpu_by_arch_id(&self.0, arch_id)
    }

    fn shutdown(&self) {
        let _ = self.0.shutdown();
    }

    fn shutting_down(&self) -> bool {
        self.0.shutting_down()
    }

    fn push_console_input(&self, byte: u8) -> bool {
        let Some(uart) = self.0.devices().console_uart().cloned() else {
            return true; // no UART: dropped
        };
        let taken = uart.push_rx(byte);
        // The byte may have raised the UART's interrupt line.
        self.0.deliver_pending_irqs();
        taken
    }

    fn exits(&self) -> u64 {
        self.0.exits()
    }
}

/// What the manager needs to know of an embedded config.
pub fn image_of(e: &EmbeddedVm) -> VmImage {
    let config = (e.config)();
    let memory_bytes = config.kernel.memory_regions.iter().map(|r| r.size).sum();
    let autostart = config.base.autostart;
    let config = AxVMConfig::from(config);
    let vcpus = config
        .get_vcpu_affinities_pcpu_ids()
        .into_iter()
        .map(|(_, set, pcpu)| match (config.phys_cpu_ids().is_some(), set) {
            (true, _) => axvmm::CpuChoice::Fixed(pcpu),
            (false, Some(mask)) => axvmm::CpuChoice::Set(mask as u64),
            (false, None) => axvmm::CpuChoice::Any,
        })
        .collect();
    VmImage {
        file: String::from(e.file),
        name: config.name(),
        id: config.id(),
        memory_bytes,
        vcpus,
        autostart,
    }
}

/// Builds VM `id` from embedded config `e`: memory, devices and vCPUs, its
/// images loaded, its device interrupts routed to vCPU 0's CPU. Logs (info)
/// how long that took, from reading the config to the vCPUs being ready
/// for their first instruction (`scripts/bench-linux.py` records it).
pub fn build(e: &EmbeddedVm, id: usize, pcpus: &[usize], console: Arc<dyn ConsoleSink>) -> Result<VmRef, String> {
    let started = axhal::time::current_time_nanos();
    let mut crate_config = (e.config)();
    // An arm64 Image that leaves its load and entry addresses out gets them
    // from its header (the build checked that it can).
    let from_header = crate_config
        .apply_kernel_placement(e.kernel, crate::arch::TARGET)
        .map_err(|errors| {
            let lines: alloc::vec::Vec<_> = errors.iter().map(|err| format!("{}: {err}", e.file)).collect();
            lines.join("\n")
        })?;
    let mut config = AxVMConfig::from(crate_config);
    config.set_id(id);
    let name = config.name();
    // What the config left out and the VM gets anyway (a device tree place,
    // a console, the kernel's place), on the console whatever the log level.
    for default in config.applied_defaults() {
        axlog::ax_println!("hv: VM {id} ({name}): {default}");
    }
    if let Some(placement) = from_header {
        axlog::ax_println!("hv: VM {id} ({name}): {placement}");
    }
    // Devices named by host device-tree node: resolved now, against the
    // tree this machine booted with.
    let nodes =
        crate::arch::resolve_host_nodes(&mut config).map_err(|err| format!("{}: VM {id} ({name}): {err}", e.file))?;
    if nodes > 0 {
        axlog::ax_println!("hv: VM {id} ({name}): {nodes} host device(s) passed through by node path");
    }
    let vm = Vm::new(config, console).map_err(|err| {
        format!(
            "{}: VM {id} ({name}): cannot create it: {}",
            e.file,
            axvcpu::ErrorName(err)
        )
    })?;
    if crate::images::load(&vm, e).is_err() || vm.boot().is_err() {
        let _ = vm.shutdown();
        return Err(format!("{}: images could not be loaded", vm.describe()));
    }
    crate::arch::forward_device_irqs(&vm, pcpus.first().copied().unwrap_or(0));
    let took_us = axhal::time::current_time_nanos().saturating_sub(started) / 1000;
    log::info!("VM {id} ({name}): built in {}.{:03} ms", took_us / 1000, took_us % 1000);
    Ok(vm)
}
