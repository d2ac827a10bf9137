//! aarch64: the hypercall ABI and PSCI answers (`arm_vcpu`), MPIDR vCPU
//! names, the guest-owned PPIs and forwarded SPIs, the device tree.

use crate::vm::Vm;
use arm_vcpu::{decode_hypercall, psci};
use axerrno::{AxError, AxResult};
use axvcpu::GuestPhysAddr;
use axvmm::{CpuOnResult, GuestServices, Power};

pub use crate::guest_irqs::{
    register as register_guest_irqs, take_timer_fired, timer_fired, unmask as unmask_guest_irq,
};

/// EL2 is set up on `cpu`: the guest-owned PPIs are enabled there.
pub fn virtualization_enabled(_cpu: usize) {
    crate::guest_irqs::enable_on_this_cpu();
}
pub use crate::passthrough_irqs::{forward as forward_device_irqs, release as release_device_irqs};

/// INTID the GIC returns when nothing is pending.
const SPURIOUS: usize = arm_vcpu::irqs::SPURIOUS as usize;

/// Acknowledges the interrupt that ended a guest run.
pub fn irq_fetch() -> usize {
    axhal::irq::fetch().map_or(SPURIOUS, |i| i as usize)
}

/// Runs the handler of an interrupt [`irq_fetch`] took.
pub fn handle_host_irq(irq: usize) {
    if irq != SPURIOUS {
        axhal::irq::handle(irq as u32);
    }
}

/// PSCI AFFINITY_INFO, and the hypercall ABI (`axvcpu::hypercall`; the
/// function id is `W0`).
pub fn hypercall(guest: &dyn GuestServices, nr: u64, args: [u64; 6]) -> u64 {
    let id = nr as u32;
    if id == psci::PSCI_AFFINITY_INFO_32 || id == psci::PSCI_AFFINITY_INFO_64 {
        return match (guest.vcpu_power(args[0]), args[1]) {
            (Some(Power::On), 0) => psci::AFFINITY_ON,
            (Some(Power::Off), 0) => psci::AFFINITY_OFF,
            (Some(Power::OnPending), 0) => psci::AFFINITY_ON_PENDING,
            _ => psci::ret(psci::INVALID_PARAMETERS),
        };
    }
    super::answer_hypercall(guest, decode_hypercall(nr, &args))
}

/// PSCI CPU_ON's return value.
pub fn cpu_on_status(result: CpuOnResult) -> Option<u64> {
    Some(psci::ret(match result {
        CpuOnResult::Started => psci::SUCCESS,
        CpuOnResult::AlreadyOn => psci::ALREADY_ON,
        CpuOnResult::OnPending => psci::ON_PENDING,
        CpuOnResult::NoSuchCpu => psci::INVALID_PARAMETERS,
    }))
}

/// A PSCI CPU_ON names the target by its MPIDR affinity.
pub fn vcpu_by_arch_id(vm: &Vm, arch_id: u64) -> Option<usize> {
    /// MPIDR affinity bits (Aff3, Aff2, Aff1, Aff0).
    const MPIDR_AFF_MASK: u64 = 0xff_00ff_ffff;
    let id = arch_id & MPIDR_AFF_MASK;
    (0..vm.vcpu_num()).find(|&i| axvm::fdt::vcpu_mpidr(i) == id)
}

/// The architecture VM configs are checked for.
pub const TARGET: axvm::config::TargetArch = axvm::config::TargetArch::Aarch64;

/// Resolves the VM's passthrough devices named by host device-tree node
/// (see `axvm::fdt::host_nodes`); returns how many nodes it got. The
/// hypervisor's own devices are its console UART and the GIC distributor
/// and redistributors, as the host tree gives them.
pub fn resolve_host_nodes(config: &mut axvm::AxVMConfig) -> Result<usize, alloc::string::String> {
    if config.pass_through_nodes().is_empty() {
        return Ok(0);
    }
    let Some(blob) = axhal::device_tree() else {
        return Err(
            "devices.passthrough_devices: names host device-tree nodes, but the hypervisor has no host device tree"
                .into(),
        );
    };
    let info = axhal::platform_info();
    let own: alloc::vec::Vec<_> = [info.uart, info.gicd, info.gicr]
        .into_iter()
        .flatten()
        .map(|r| r.base..r.base.saturating_add(r.size))
        .collect();
    let nodes = axvm::fdt::host_nodes::resolve_blob(blob, config, &own).map_err(|e| alloc::format!("{e}"))?;
    let count = nodes.len();
    axvm::fdt::host_nodes::apply(config, nodes);
    Ok(count)
}

/// Writes the VM's device tree (the config's, fixed up, or a generated
/// one) at its load address, if it has one.
pub fn load_device_tree(vm: &Vm, dtb: Option<&[u8]>, initrd: Option<(u64, u64)>) -> AxResult {
    let Some(dtb_gpa) = vm.image_config().dtb_load_gpa else {
        return Ok(());
    };
    let tree = match dtb {
        Some(dtb) => axvm::fdt::fixup(dtb, vm.config(), initrd).map_err(|e| {
            log::error!("{}: cannot fix up its device tree: {e}", vm.describe());
            AxError::InvalidInput
        })?,
        None => axvm::fdt::generate(vm.config(), initrd, axhal::device_tree()).map_err(|e| {
            log::error!("{}: cannot generate its device tree: {e}", vm.describe());
            AxError::InvalidInput
        })?,
    };
    vm.write_guest(GuestPhysAddr::from(dtb_gpa), &tree)
}
