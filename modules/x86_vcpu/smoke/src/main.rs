//! A bare-metal smoke test of the SVM backend: two guests run under
//! `SvmVcpu` on QEMU's software emulation, every exit checked (see
//! `run.sh`). Frames come from a bump arena, identity-mapped; guest memory
//! is one 2 MiB page mapped by a hand-built nested table.

#![no_std]
#![no_main]

mod boot;

use core::arch::asm;
use core::fmt::Write;
use core::sync::atomic::{AtomicUsize, Ordering};

use axvcpu::*;
use x86_vcpu::{StartMode, SvmPerCpuState, SvmVcpu, X86VCpuCreateConfig};

fn outb(port: u16, v: u8) {
    // SAFETY: the test kernel owns the machine; the ports used are the
    // serial port, the PICs' masks and QEMU's debug-exit device.
    unsafe { asm!("out dx, al", in("dx") port, in("al") v) };
}

struct Serial;
impl Write for Serial {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for b in s.bytes() {
            outb(0x3f8, b);
        }
        Ok(())
    }
}

macro_rules! say {
    ($($t:tt)*) => { let _ = writeln!(Serial, $($t)*); };
}

fn exit(code: u8) -> ! {
    outb(0xf4, code);
    loop {
        // SAFETY: waiting; QEMU has exited already.
        unsafe { asm!("hlt") };
    }
}

#[repr(C, align(4096))]
struct Arena([u8; 4 << 20]);
static mut ARENA: Arena = Arena([0; 4 << 20]);
static NEXT: AtomicUsize = AtomicUsize::new(0);

#[repr(C, align(2097152))]
struct GuestMem([u8; 2 << 20]);
static mut GUEST: GuestMem = GuestMem([0; 2 << 20]);

struct Hal;
impl AxVCpuHal for Hal {
    fn alloc_frame() -> Option<HostPhysAddr> {
        let off = NEXT.fetch_add(4096, Ordering::Relaxed);
        if off >= 4 << 20 {
            return None;
        }
        Some(HostPhysAddr::from(core::ptr::addr_of!(ARENA) as usize + off))
    }
    fn dealloc_frame(_: HostPhysAddr) {}
    fn phys_to_virt(p: HostPhysAddr) -> HostVirtAddr {
        HostVirtAddr::from(p.as_usize())
    }
    fn virt_to_phys(v: HostVirtAddr) -> HostPhysAddr {
        HostPhysAddr::from(v.as_usize())
    }
    fn irq_fetch() -> usize {
        0
    }
    fn handle_host_irq(_: usize) {}
    fn current_time_nanos() -> u64 {
        0
    }
}

fn check(what: &str, ok: bool) {
    say!("smoke: {what}: {}", if ok { "ok" } else { "FAILED" });
    if !ok {
        exit(1);
    }
}

/// The guests, assembled by `run.sh`: flat 32-bit code at 0x1000, and
/// real-mode code at 0x7c00.
static GUEST_BIN: &[u8] = include_bytes!(concat!(env!("SMOKE_OUT"), "/guest32.bin"));
static GUEST16: &[u8] = include_bytes!(concat!(env!("SMOKE_OUT"), "/guest16.bin"));

#[unsafe(no_mangle)]
extern "C" fn rust_main() -> ! {
    // Mask the legacy PICs: nothing acknowledges their interrupts here.
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    say!("smoke: start, backend {:?}", x86_vcpu::Backend::detect());
    let mut pc = <SvmPerCpuState<Hal> as AxArchPerCpu>::new(0).unwrap();
    check("hardware_enable", pc.hardware_enable().is_ok());
    check("is_enabled", pc.is_enabled());

    let guest = core::ptr::addr_of_mut!(GUEST) as usize;
    // SAFETY: the guest area is a static 2 MiB this kernel owns.
    unsafe { core::ptr::copy_nonoverlapping(GUEST_BIN.as_ptr(), (guest + 0x1000) as *mut u8, GUEST_BIN.len()) };
    // NPT: GPA 0..2 MiB -> the guest area (P, RW, US, PS); tables P|RW|US.
    let pml4 = Hal::alloc_frame().unwrap().as_usize();
    let pdpt = Hal::alloc_frame().unwrap().as_usize();
    let pd = Hal::alloc_frame().unwrap().as_usize();
    // SAFETY: three fresh, zeroed frames of the arena (identity-mapped).
    unsafe {
        *(pml4 as *mut u64) = pdpt as u64 | 7;
        *(pdpt as *mut u64) = pd as u64 | 7;
        *(pd as *mut u64) = guest as u64 | 0x87;
    }

    let cfg = X86VCpuCreateConfig {
        start_mode: StartMode::Protected32,
    };
    let mut v = <SvmVcpu<Hal> as AxArchVCpu>::new(0, 0, cfg).unwrap();
    v.set_entry(GuestPhysAddr::from(0x1000)).unwrap();
    v.set_ept_root(HostPhysAddr::from(pml4)).unwrap();
    v.setup(()).unwrap();
    v.bind().unwrap();

    let mut out = [0u8; 8];
    let mut n_out = 0;
    let mut halts = 0;
    let mut seen_write = 0;
    for _ in 0..100 {
        let r = v.run();
        say!("smoke: exit {r:?}");
        let Ok(r) = r else { exit(1) };
        match r {
            AxVCpuExitReason::IoWrite {
                port: Port(0x3f8),
                data,
                ..
            } => {
                out[n_out % 8] = data as u8;
                n_out += 1;
            }
            AxVCpuExitReason::MmioWrite { addr, data, width } => {
                if addr.as_usize() == 0xfee0_0000 {
                    check("mov [m], eax", data == 0x1234_5678 && width == AccessWidth::Dword);
                } else {
                    check(
                        "or [m], 0x80 write-back",
                        addr.as_usize() == 0xfee0_0020 && data == 0x81,
                    );
                }
                seen_write += 1;
            }
            AxVCpuExitReason::MmioRead { addr, reg, .. } => {
                let value = if addr.as_usize() == 0xfee0_0010 { 0xabcd } else { 0x1 };
                v.set_gpr(reg, value);
            }
            AxVCpuExitReason::IoRead {
                port: Port(0x60),
                width,
            } => {
                check("in al, 0x60", width == AccessWidth::Byte);
                v.set_gpr(0, 0x41);
            }
            AxVCpuExitReason::Hypercall { nr: 0x1234, args } => {
                check("vmmcall args", args[0] == 1);
                v.set_return_value(0x77);
            }
            AxVCpuExitReason::Hypercall { nr: 0xdead, .. } => break,
            AxVCpuExitReason::Halt => {
                halts += 1;
                v.inject_interrupt(0x20).unwrap();
            }
            AxVCpuExitReason::Nothing => {}
            other => {
                say!("smoke: unexpected {other:?}");
                exit(1);
            }
        }
    }
    // SAFETY: reads of the guest area, which no guest runs on now.
    let rd = |off: usize| unsafe { ((guest + off) as *const u32).read_volatile() };
    check("mov ebx, [m] = 0xabcd", rd(0x7000) == 0xabcd);
    check("al = 0x41", rd(0x7004) & 0xff == 0x41);
    check("cpuid signature", rd(0x7008) == u32::from_le_bytes(*b"Arce"));
    check("vmmcall return value", rd(0x700c) == 0x77);
    check("serial 'G' then 'I' (interrupt handler)", &out[..n_out.min(8)] == b"GI");
    check("one hlt", halts == 1);
    check("two MMIO writes", seen_write == 2);
    v.unbind().unwrap();

    // A second vCPU on the same CPU, starting in real mode at 0x7c00.
    // SAFETY: as for the first guest.
    unsafe { core::ptr::copy_nonoverlapping(GUEST16.as_ptr(), (guest + 0x7c00) as *mut u8, GUEST16.len()) };
    let mut r = <SvmVcpu<Hal> as AxArchVCpu>::new(0, 1, X86VCpuCreateConfig::default()).unwrap();
    r.set_entry(GuestPhysAddr::from(0x7c00)).unwrap();
    r.set_ept_root(HostPhysAddr::from(pml4)).unwrap();
    r.setup(()).unwrap();
    r.bind().unwrap();
    let mut n_out = 0;
    let mut done = false;
    for _ in 0..20 {
        let e = r.run();
        say!("smoke: real-mode exit {e:?}");
        match e {
            Ok(AxVCpuExitReason::IoWrite { data, .. }) => {
                out[n_out % 8] = data as u8;
                n_out += 1;
            }
            Ok(AxVCpuExitReason::SysRegRead { addr, .. }) => {
                check("unknown MSR reaches the host", addr.addr() == 0x12345);
                r.inject_fault_for_last_exit(LastExitFault::Undefined).unwrap();
            }
            Ok(AxVCpuExitReason::Hypercall { nr: 0xdead, .. }) => {
                done = true;
                break;
            }
            _ => exit(1),
        }
    }
    check("real mode ran to the end", done);
    check("serial 'R' then 'E' (#GP handler)", &out[..n_out.min(8)] == b"RE");
    check("EFER read without SVME", rd(0x6000) == 0);
    r.unbind().unwrap();
    check("hardware_disable", pc.hardware_disable().is_ok());
    say!("smoke: all passed");
    exit(0x10);
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    say!("smoke: panic {info}");
    exit(1)
}
