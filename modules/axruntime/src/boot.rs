//! Init order of the boot CPU and the secondary CPUs.

use crate::tick::{TICKS, WAKEUPS};
use core::sync::atomic::{AtomicUsize, Ordering};

/// CPUs the runtime brings up: `SMP` of the build, at most what the device
/// tree reports.
static CPU_COUNT: AtomicUsize = AtomicUsize::new(1);
/// CPUs that finished their init.
static CPUS_ONLINE: AtomicUsize = AtomicUsize::new(0);
/// How long the boot CPU waits for the others, in nanoseconds.
const SECONDARY_TIMEOUT_NS: u64 = 5_000_000_000;

unsafe extern "Rust" {
    /// The app's entry on the boot CPU.
    fn main();
    /// The app's entry on every other CPU.
    fn secondary_main(cpu_id: usize);
}

/// CPUs brought up by the runtime (online or about to be).
pub fn cpu_count() -> usize {
    CPU_COUNT.load(Ordering::Acquire)
}

fn tick_period_ns() -> u64 {
    1_000_000_000 / axconfig::timer::TICKS_PER_SEC as u64
}

fn on_timer(_intid: u32) {
    TICKS.tick(axhal::percpu::cpu_id());
    axhal::time::set_oneshot_in_nanos(tick_period_ns());
}

/// The wake-up interrupt only has to end a `wait_for_irq`; it is counted.
fn on_wakeup(_intid: u32) {
    WAKEUPS.tick(axhal::percpu::cpu_id());
}

fn start_tick_on_this_cpu() {
    axhal::time::set_oneshot_in_nanos(tick_period_ns());
    axhal::irq::enable_on_this_cpu(axhal::time::timer_irq());
    axhal::irq::enable_on_this_cpu(axhal::irq::WAKEUP_SGI);
}

fn fatal(msg: core::fmt::Arguments) -> ! {
    log::error!("{msg}");
    axhal::power::fail_exit()
}

/// `boot_info` is what the boot loader passed: the device tree (aarch64) or
/// the PVH start info (x86_64).
#[unsafe(no_mangle)]
fn rust_main(cpu_id: usize, boot_info: usize) -> ! {
    let boot_info_result = axhal::init_early(cpu_id, boot_info);
    axlog::init();
    let level = option_env!("AX_LOG").unwrap_or("warn");
    if axlog::set_max_level(level).is_none() {
        axlog::set_max_level("warn");
        log::warn!("LOG={level} is not a level (off, error, warn, info, debug, trace); using warn");
    }
    axlog::ax_println!(
        "\nhost kernel: {} on {}, {} build, {}",
        axconfig::ARCH,
        axconfig::PLATFORM,
        if cfg!(debug_assertions) { "debug" } else { "release" },
        axhal::cpu::MODE
    );
    if let Err(e) = boot_info_result {
        log::warn!(
            "{} at {boot_info:#x}: {e}; using the platform constants",
            axhal::BOOT_INFO_NAME
        );
    }
    let info = axhal::platform_info();
    for r in info.ram.as_slice() {
        log::info!("RAM {:#x}..{:#x} ({} MiB)", r.base, r.base + r.size, r.size >> 20);
    }
    let cpus = info.cpus.as_slice();
    let count = axconfig::SMP.min(cpus.len()).min(axconfig::cpu::MAX_NUM);
    if axconfig::SMP > cpus.len() {
        log::warn!(
            "built for {} CPUs, the {} has {}",
            axconfig::SMP,
            axhal::BOOT_INFO_NAME,
            cpus.len()
        );
    }
    CPU_COUNT.store(count, Ordering::Release);

    let free = axhal::init_memory();
    let mut regions = [(0usize, 0usize); 16];
    for (slot, r) in regions.iter_mut().zip(free.as_slice()) {
        *slot = (r.base, r.size);
    }
    if let Err(e) = axalloc::init(&regions[..free.len()], axhal::boot_ram_zero_from()) {
        fatal(format_args!("memory: {e}"));
    }
    let total: usize = free.as_slice().iter().map(|r| r.size).sum();
    let known_zero = axalloc::GLOBAL.stats().known_zero_frames * axalloc::PAGE_SIZE;
    log::info!(
        "free memory: {} MiB in {} ranges, {} MiB of it known zero",
        total >> 20,
        free.len(),
        known_zero >> 20
    );

    if !axhal::init_irq_primary(count) {
        fatal(format_args!("no usable interrupt controller"));
    }
    if !axhal::irq::HANDLERS.register(axhal::time::timer_irq(), on_timer) {
        fatal(format_args!(
            "timer IRQ {} cannot be registered",
            axhal::time::timer_irq()
        ));
    }
    if !axhal::irq::HANDLERS.register(axhal::irq::WAKEUP_SGI, on_wakeup) {
        fatal(format_args!("wake-up SGI cannot be registered"));
    }
    start_tick_on_this_cpu();
    axhal::cpu::enable_irqs();
    CPUS_ONLINE.fetch_add(1, Ordering::AcqRel);

    for (id, &hw_id) in cpus.iter().enumerate().take(count).skip(1) {
        if let Err(e) = axhal::mp::start_secondary_cpu(id, hw_id) {
            log::error!("CPU {id} ({} {hw_id:#x}) did not start: {e:?}", axhal::cpu::HW_ID_NAME);
        }
    }
    let deadline = axhal::time::current_time_nanos() + SECONDARY_TIMEOUT_NS;
    while CPUS_ONLINE.load(Ordering::Acquire) < count && axhal::time::current_time_nanos() < deadline {
        core::hint::spin_loop();
    }
    let online = CPUS_ONLINE.load(Ordering::Acquire);
    if online < count {
        log::error!("only {online} of {count} CPUs came online");
        CPU_COUNT.store(online, Ordering::Release);
    }
    log::info!("{online} CPUs online; entering main");

    // SAFETY: `main` is the app's entry point, defined by the app binary.
    unsafe { main() };
    axhal::power::system_off()
}

#[unsafe(no_mangle)]
fn rust_main_secondary(cpu_id: usize) -> ! {
    axhal::init_secondary(cpu_id);
    start_tick_on_this_cpu();
    axhal::cpu::enable_irqs();
    log::debug!(
        "CPU {cpu_id} online, {} {:#x}",
        axhal::cpu::HW_ID_NAME,
        axhal::cpu::hw_id()
    );
    CPUS_ONLINE.fetch_add(1, Ordering::AcqRel);
    // SAFETY: `secondary_main` is the app's entry point, defined by the app.
    unsafe { secondary_main(cpu_id) };
    loop {
        axhal::cpu::wait_for_irq();
    }
}
