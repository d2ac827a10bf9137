//! The logger's view of the host: console, clock, CPU id.

struct LogIfImpl;

#[crate_interface::impl_interface]
impl axlog::LogIf for LogIfImpl {
    fn console_write_str(s: &str) {
        axhal::console::write_str(s);
    }

    fn current_time_nanos() -> u64 {
        axhal::time::current_time_nanos()
    }

    fn current_cpu_id() -> Option<usize> {
        Some(axhal::percpu::cpu_id())
    }
}
