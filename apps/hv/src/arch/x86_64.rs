//! x86_64: the hypercall ABI (`axvcpu::hypercall` by `VMMCALL`/`VMCALL`,
//! result in RAX), APIC-ID vCPU names, SVM or VMX turned on per CPU, and
//! host interrupts taken through the IDT after an exit. No host interrupt
//! belongs to a guest (the local APIC and its timer are emulated), so there
//! is nothing to mask, unmask or forward; there is no device tree.

use crate::vm::{Vm, VmRef};
use axerrno::AxResult;
use axvmm::{CpuOnResult, GuestServices};

/// No vector is known at the exit: the interrupt is taken through the IDT.
const UNKNOWN: usize = usize::MAX;

/// The interrupt that ended a guest run stays pending at the local APIC.
pub fn irq_fetch() -> usize {
    UNKNOWN
}

/// Takes the pending host interrupts through the IDT (their handlers run
/// and end them).
pub fn handle_host_irq(_irq: usize) {
    axhal::cpu::take_pending_irqs();
}

/// No guest-owned host interrupts on x86.
pub fn unmask_guest_irq(_irq: usize) {}

/// No guest-owned host interrupts on x86.
pub fn register_guest_irqs() {}

/// The vLAPIC timer is emulated: it never fires a host interrupt of its own.
pub fn timer_fired(_cpu: usize) -> bool {
    false
}

/// See [`timer_fired`].
pub fn take_timer_fired(_cpu: usize) -> bool {
    false
}

/// No passthrough devices on x86 yet.
pub fn forward_device_irqs(_vm: &VmRef, _cpu: usize) {}

/// See [`forward_device_irqs`].
pub fn release_device_irqs(_vm_id: usize) {}

/// SVM or VMX is on on `cpu`: the boot CPU says which.
pub fn virtualization_enabled(cpu: usize) {
    if cpu == 0 {
        axlog::ax_println!("hv: x86 virtualization: {}", axvm::backend_name());
    }
}

/// The hypercall ABI: number in RAX, arguments in RBX, RCX, RDX, RSI;
/// result in RAX.
pub fn hypercall(guest: &dyn GuestServices, nr: u64, args: [u64; 6]) -> u64 {
    super::answer_hypercall(guest, axvcpu::hypercall::decode_hypercall_whole(nr, &args))
}

/// A STARTUP IPI is a register write: nothing is returned to the sender.
pub fn cpu_on_status(_result: CpuOnResult) -> Option<u64> {
    None
}

/// An IPI names its target by APIC ID, which is the vCPU id.
pub fn vcpu_by_arch_id(vm: &Vm, arch_id: u64) -> Option<usize> {
    usize::try_from(arch_id).ok().filter(|&i| i < vm.vcpu_num())
}

/// The architecture VM configs are checked for.
pub const TARGET: axvm::config::TargetArch = axvm::config::TargetArch::X86_64;

/// No device tree on x86: the build refuses node-path passthrough there.
pub fn resolve_host_nodes(config: &mut axvm::AxVMConfig) -> Result<usize, alloc::string::String> {
    if config.pass_through_nodes().is_empty() {
        Ok(0)
    } else {
        Err("devices.passthrough_devices: host device-tree nodes do not exist on x86_64".into())
    }
}

/// No device tree on x86.
pub fn load_device_tree(_vm: &Vm, _dtb: Option<&[u8]>, _initrd: Option<(u64, u64)>) -> AxResult {
    Ok(())
}
