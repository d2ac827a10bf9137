//! x86_64: the hypercall ABI (`VMMCALL`/`VMCALL` with the aarch64 numbers,
//! result in RAX), APIC-ID vCPU names, SVM or VMX turned on per CPU, and
//! host interrupts taken through the IDT after an exit. No host interrupt
//! belongs to a guest (the local APIC and its timer are emulated), so there
//! is nothing to mask, unmask or forward; there is no device tree.

use crate::vm::{Vm, VmRef};
use axerrno::AxResult;
use axvmm::{CpuOnResult, GuestServices};

/// The hypercall numbers (the aarch64 ABI's, `arm_vcpu::hypercall`).
mod hc {
    /// The ABI version: `major << 16 | minor`.
    pub const VERSION: u64 = 0xC600_0000;
    /// The calling VM's id.
    pub const VM_ID: u64 = 0xC600_0001;
    /// Writes the byte in RBX to the VM's console.
    pub const PUTCHAR: u64 = 0xC600_0002;
    /// The calling vCPU's id.
    pub const CPU_ID: u64 = 0xC600_0003;
    /// ABI 1.0.
    pub const ABI_VERSION: u64 = 1 << 16;
    /// Done.
    pub const SUCCESS: u64 = 0;
    /// Not a hypercall of this ABI: -1.
    pub const NOT_SUPPORTED: u64 = u64::MAX;
    /// A bad argument: -2.
    pub const INVALID_PARAMETERS: u64 = (-2i64) as u64;
}

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
    match nr {
        hc::VERSION => hc::ABI_VERSION,
        hc::VM_ID => guest.vm_id() as u64,
        hc::CPU_ID => guest.vcpu_id() as u64,
        hc::PUTCHAR => match u8::try_from(args[0]) {
            Ok(b) => {
                guest.console_write(&[b]);
                hc::SUCCESS
            }
            Err(_) => hc::INVALID_PARAMETERS,
        },
        _ => hc::NOT_SUPPORTED,
    }
}

/// A STARTUP IPI is a register write: nothing is returned to the sender.
pub fn cpu_on_status(_result: CpuOnResult) -> Option<u64> {
    None
}

/// An IPI names its target by APIC ID, which is the vCPU id.
pub fn vcpu_by_arch_id(vm: &Vm, arch_id: u64) -> Option<usize> {
    usize::try_from(arch_id).ok().filter(|&i| i < vm.vcpu_num())
}

/// No device tree on x86.
pub fn load_device_tree(_vm: &Vm, _dtb: Option<&[u8]>, _initrd: Option<(u64, u64)>) -> AxResult {
    Ok(())
}
