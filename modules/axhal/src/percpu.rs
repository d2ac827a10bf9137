//! Per-CPU data of the host kernel, on the `percpu` crate (TPIDR_EL2 on
//! aarch64, the GS base on x86_64).

#[percpu::def_percpu]
static CPU_ID: usize = 0;

#[percpu::def_percpu]
static IS_BSP: bool = false;

/// Sets up the per-CPU areas (boot CPU, once, before the others start).
/// Returns the number of areas, or `None` if they could not be set up.
pub(crate) fn init_areas() -> Option<usize> {
    percpu::init_in_place().ok()
}

/// Points this CPU's per-CPU register at its area and records its id.
pub(crate) fn init_this_cpu(cpu_id: usize, is_bsp: bool) {
    percpu::init_percpu_reg(cpu_id);
    CPU_ID.write_current(cpu_id);
    IS_BSP.write_current(is_bsp);
}

/// Logical id of the calling CPU (0 = the boot CPU).
pub fn cpu_id() -> usize {
    CPU_ID.read_current()
}

/// Whether the calling CPU is the boot CPU.
pub fn is_bsp() -> bool {
    IS_BSP.read_current()
}
