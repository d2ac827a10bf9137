//! Each CPU's virtualization state (`hardware_enable`: EL2 on aarch64, SVM
//! or VMX on x86_64), turned on once per CPU before it runs vCPUs.

use crate::hal::AxVCpuHalImpl;
use axvcpu::AxArchPerCpu;
use axvm::ArchPerCpu;
use kspin::SpinNoIrq;

const MAX_CPUS: usize = axconfig::cpu::MAX_NUM;

/// Each CPU's virtualization state.
static PER_CPU: [SpinNoIrq<Option<ArchPerCpu<AxVCpuHalImpl>>>; MAX_CPUS] = [const { SpinNoIrq::new(None) }; MAX_CPUS];

/// Turns on the virtualization support of this CPU, then lets the
/// architecture do what follows it ([`crate::arch::virtualization_enabled`]).
pub fn enable_virtualization_on_this_cpu() {
    let cpu = axhal::percpu::cpu_id();
    let Some(cell) = PER_CPU.get(cpu) else { return };
    let result = ArchPerCpu::<AxVCpuHalImpl>::new(cpu).and_then(|mut p| {
        p.hardware_enable()?;
        Ok(p)
    });
    match result {
        Ok(p) => {
            *cell.lock() = Some(p);
            crate::arch::virtualization_enabled(cpu);
        }
        Err(e) => log::error!(
            "CPU {cpu}: cannot enable virtualization ({}): {}",
            axvm::backend_name(),
            axvcpu::ErrorName(e)
        ),
    }
}
