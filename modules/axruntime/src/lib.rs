//! The host kernel's runtime: what happens between the boot code and the
//! app.
//!
//! Owns: the init order on the boot CPU (per-CPU data, console, boot
//! information (device tree; PVH start info and ACPI on x86_64), logger,
//! memory (the free RAM and the part of it the platform knows is zero,
//! from `axhal` to `axalloc`), interrupt controller, timer tick, secondary CPUs,
//! then the app's `main`), the same for each secondary CPU (ending in the
//! app's `secondary_main`), the periodic timer tick and its per-CPU count
//! (and that of wake-up interrupts),
//! the panic handler, and powering off when `main` returns.
//!
//! Does not own: hardware access (`axhal`), allocation (`axalloc`), the log
//! format (`axlog`).
//!
//! An app is a `#![no_std] #![no_main]` binary that defines
//! `#[unsafe(no_mangle)] fn main()` (boot CPU) and
//! `#[unsafe(no_mangle)] fn secondary_main(cpu_id: usize)` (every other CPU)
//! and links this crate.

#![cfg_attr(not(test), no_std)]

#[cfg(target_os = "none")]
mod boot;
#[cfg(target_os = "none")]
mod log_if;
#[cfg(target_os = "none")]
mod panic;
mod tick;

#[cfg(target_os = "none")]
pub use boot::cpu_count;
pub use tick::{TickCounts, ticks_on, wakeups_on};
