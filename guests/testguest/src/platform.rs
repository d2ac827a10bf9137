//! The VM this guest is written for: where things are in guest physical
//! memory and how many vCPUs there are. The hypervisor's VM config for the
//! test guest must match these values.

/// First byte of guest RAM.
pub const RAM_BASE: u64 = 0x4000_0000;
/// Size of guest RAM in bytes (64 MiB).
pub const RAM_SIZE: u64 = 64 << 20;
/// One past the last byte of guest RAM.
pub const RAM_END: u64 = RAM_BASE + RAM_SIZE;

/// Base of the emulated PL011 UART.
pub const UART_BASE: usize = 0x0900_0000;
/// Base of the hypervisor's test device page.
pub const TEST_DEVICE_BASE: usize = 0x0A00_0000;
/// Base of the virtual GICv3 distributor (a [`GICD_SIZE`] frame).
pub const GICD_BASE: usize = 0x0800_0000;
/// Size of the distributor frame (64 KiB).
pub const GICD_SIZE: usize = 0x1_0000;
/// Base of the virtual GICv3 redistributors: vCPU `n`'s is at
/// `GICR_BASE + n * GICR_STRIDE` (an `RD_base` frame, then its `SGI_base`
/// frame 64 KiB up).
pub const GICR_BASE: usize = 0x080A_0000;
/// Distance between two vCPUs' redistributors (two 64 KiB frames).
pub const GICR_STRIDE: usize = 0x2_0000;
/// The INTID of the EL1 virtual timer (`CNTV_*`), a PPI.
pub const VTIMER_INTID: u32 = 27;
/// The INTID of the EL1 physical timer (`CNTP_*`), a PPI.
pub const PTIMER_INTID: u32 = 30;

/// An address with nothing mapped at it: a load from it must come back as an
/// injected synchronous external abort.
pub const UNMAPPED_ADDR: usize = 0x2000_0000;

/// Just past guest RAM, with nothing mapped: a branch to it (from EL1, or
/// to the next page from EL0) must come back as an injected instruction
/// abort.
pub const UNMAPPED_CODE_ADDR: u64 = RAM_END;

/// Guest RAM that only the isolation check uses: its marker word here and
/// its second marker one page up. Inside RAM, far above the image, `.bss`
/// and stacks (`linker.ld` asserts that they end below it) and the DTB at
/// [`RAM_BASE`]; the same address in every VM running this guest.
pub const ISOLATION_MARKER_ADDR: usize = 0x4300_0000;
/// The isolation check's second marker word, in the page after
/// [`ISOLATION_MARKER_ADDR`].
pub const ISOLATION_SECOND_MARKER_ADDR: usize = ISOLATION_MARKER_ADDR + 0x1000;

const _: () = assert!(
    ISOLATION_MARKER_ADDR as u64 >= RAM_BASE
        && ISOLATION_SECOND_MARKER_ADDR as u64 + 8 <= RAM_END
        && ISOLATION_MARKER_ADDR.is_multiple_of(8)
        && ISOLATION_SECOND_MARKER_ADDR.is_multiple_of(8),
    "the isolation markers must be aligned words of guest RAM"
);

/// Base of the PL031 real-time clock that the VMs of the passthrough checks
/// get from the host (mapped at its host address).
pub const RTC_BASE: usize = 0x0901_0000;
/// The RTC's interrupt: SPI 2, level-sensitive, forwarded from the host.
pub const RTC_INTID: u32 = 34;

/// The VM ids that run the passthrough checks (the `CPU_ON` race, the RTC
/// interrupt, bad input to the GIC) after the interrupt checks: the
/// test configs `testguest-pt` (interrupt mode `passthrough`) and
/// `testguest-ptemu` (mode `emu`), each with 4 vCPUs and the RTC.
pub const PASSTHROUGH_VM_IDS: [u64; 2] = [4, 5];

/// The VM id at which the guest crashes on purpose right after its first
/// check (see the crate doc).
pub const CRASH_VM_ID: u64 = 66;

/// The VM id at which the guest, right after its first check, spins
/// forever with every interrupt masked and never exits (see the crate doc):
/// a vCPU that only the host's timer can take off its CPU.
pub const SPIN_VM_ID: u64 = 77;

/// The VM id at which the guest, right after its first check, prints a tick
/// every 100 ms of virtual time, forever, sleeping in `WFI` in between (see
/// the crate doc).
pub const TICKER_VM_ID: u64 = 88;

/// The VM ids at which the guest, right after its first check, runs the
/// timer stress (both vCPUs sleep on short, random timer deadlines many
/// times) and powers off (see the crate doc). Two ids, so that two such
/// VMs can share CPUs.
pub const TIMER_STRESS_VM_IDS: [u64; 2] = [55, 56];

/// The VM id at which the guest, right after its first check, floods its
/// other vCPU with SGIs, the console with lines and the hypervisor with
/// trapping exits, forever (see the crate doc): the noisy neighbour.
pub const FLOOD_VM_ID: u64 = 44;

/// The VM id at which the guest, right after its first check, runs the
/// fuzzer instead of the checks (see the crate doc and `fuzz/mod.rs`).
pub const FUZZ_VM_ID: u64 = 99;

/// The most vCPUs a VM running this guest has (the VMs of the usual checks
/// have 2, those of the passthrough checks 4); vCPU `n` has MPIDR affinity
/// 0 `n`. A vCPU beyond them parks at boot.
pub const NUM_VCPUS: usize = 4;
/// The vCPU the checks start with PSCI `CPU_ON` (its MPIDR affinity).
pub const SECONDARY_VCPU: u64 = 1;
/// Size of each vCPU's boot stack in bytes.
pub const STACK_SIZE: usize = 64 << 10;
