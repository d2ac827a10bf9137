//! The panic handler: message and location on the console, then a failure
//! exit (QEMU exits non-zero).

use core::panic::PanicInfo;

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    axhal::cpu::disable_irqs();
    let cpu = axhal::percpu::cpu_id();
    match info.location() {
        Some(l) => axhal::console::print_fmt_emergency(format_args!(
            "\nPANIC on CPU {cpu}: panicked at {}:{}:{}: {}\n",
            l.file(),
            l.line(),
            l.column(),
            info.message()
        )),
        None => axhal::console::print_fmt_emergency(format_args!("\nPANIC on CPU {cpu}: {}\n", info.message())),
    }
    axhal::power::fail_exit()
}
