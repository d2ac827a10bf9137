//! Entry points: the PVH note and 32-bit entry, the switch to long mode,
//! the boot page tables, the 64-bit entries of the boot CPU and of the
//! secondary CPUs, and their stacks.
//!
//! QEMU (`-kernel`, PVH boot) loads the ELF's segments at their physical
//! addresses and enters at the address in the `XEN_ELFNOTE_PHYS32_ENTRY`
//! note, in 32-bit protected mode with paging off and the start info's
//! address in EBX. Secondary CPUs arrive at [`ap_entry32`] from the
//! real-mode trampoline (`trampoline.rs`), also in 32-bit protected mode.
//!
//! Both switch to long mode the same way: PAE, CR3, EFER.LME and NXE,
//! CR0.PG and WP. CR3 is [`BOOT_CR3`]: while it is 0 (the boot CPU) the
//! boot page tables below, an identity map of the first GiB with 2 MiB
//! pages, used only until `mmu::init_boot_cpu` switches to the kernel's
//! own tables and stores their address there for the secondary CPUs.

use axconfig::cpu;
use core::arch::global_asm;
use core::sync::atomic::{AtomicU32, AtomicU64};

/// Boot stacks of every CPU, one after the other (page aligned, so every
/// top is 16-byte aligned as the ABI wants).
#[repr(C, align(4096))]
struct Stacks([u8; cpu::STACK_SIZE * cpu::MAX_NUM]);

#[unsafe(link_section = ".bss.stack")]
static mut BOOT_STACKS: Stacks = Stacks([0; cpu::STACK_SIZE * cpu::MAX_NUM]);

/// Top of logical CPU `cpu_id`'s boot stack.
pub(super) fn stack_top(cpu_id: usize) -> usize {
    core::ptr::addr_of!(BOOT_STACKS) as usize + (cpu_id + 1) * cpu::STACK_SIZE
}

/// The page tables every CPU enters long mode with (physical address,
/// below 4 GiB); 0 selects the boot page tables.
pub(super) static BOOT_CR3: AtomicU32 = AtomicU32::new(0);

/// What a starting secondary CPU needs, written by the boot CPU before the
/// SIPI; the new CPU sets `taken` once it holds its copy.
#[repr(C)]
pub(super) struct ApStart {
    /// Top of the CPU's stack.
    pub stack_top: AtomicU64,
    /// Its logical id.
    pub cpu_id: AtomicU64,
    /// Set to 1 by the CPU once it read the two above.
    pub taken: AtomicU64,
}

pub(super) static AP_START: ApStart = ApStart {
    stack_top: AtomicU64::new(0),
    cpu_id: AtomicU64::new(0),
    taken: AtomicU64::new(0),
};

/// CPUID 0x8000_0001 EDX: long mode (bit 29) and NX (bit 20).
const CPUID_LM_NX: u32 = (1 << 29) | (1 << 20);
/// CR4.PAE.
const CR4_PAE: u32 = 1 << 5;
/// CR0.PE, CR0.WP (read-only pages hold in ring 0), CR0.PG.
const CR0_PE_WP_PG: u32 = (1 << 0) | (1 << 16) | (1 << 31);
/// The EFER MSR and its LME and NXE bits.
const MSR_EFER: u32 = 0xc000_0080;
const EFER_LME_NXE: u32 = (1 << 8) | (1 << 11);
/// Boot GDT selectors: 64-bit code and data.
const BOOT_CS: u16 = 0x08;
const BOOT_DS: u16 = 0x10;
/// Leaf flags of the boot tables' 2 MiB pages: present, writable, huge.
const BOOT_PAGE_FLAGS: u64 = 0x83;
/// Table entry flags: present, writable.
const BOOT_TABLE_FLAGS: u64 = 0x3;

global_asm!(
    r#"
// The PVH entry note (Xen's x86/HVM direct boot ABI): type 18,
// XEN_ELFNOTE_PHYS32_ENTRY, the 32-bit physical entry address. QEMU reads
// the descriptor as a pointer-sized value in an ELF64 file.
.pushsection .note.Xen, "a", @note
.p2align 2
.long 4
.long 8
.long 18
.asciz "Xen"
.p2align 2
.quad pvh_entry32
.popsection

// The boot page tables: PML4[0] -> PDPT[0] -> PD, 512 x 2 MiB = 1 GiB.
.pushsection .data.boot_page_table, "aw"
.p2align 12
boot_pml4:
    .quad boot_pdpt + {table_flags}
    .fill 511, 8, 0
boot_pdpt:
    .quad boot_pd + {table_flags}
    .fill 511, 8, 0
boot_pd:
    .set boot_pd_i, 0
    .rept 512
    .quad (boot_pd_i << 21) | {page_flags}
    .set boot_pd_i, boot_pd_i + 1
    .endr
.popsection

// The boot GDT: null, 64-bit code (0x08), data (0x10); accessed bits set,
// so loading a selector never writes to the (read-only) table.
.pushsection .rodata
.p2align 3
boot_gdt:
    .quad 0
    .quad 0x00af9b000000ffff
    .quad 0x00cf93000000ffff
boot_gdt_ptr:
    .word boot_gdt_ptr - boot_gdt - 1
    .quad boot_gdt
no_long_mode_msg:
    .asciz "FATAL: the hypervisor needs a 64-bit CPU with NX, and this one lacks long mode or NX\n"
.popsection

.pushsection .text.boot, "ax"
.code32
.global pvh_entry32
pvh_entry32:
    cli
    cld
    mov     %ebx, %ebp                  // the start info (CPUID clobbers EBX)
    mov     $0x80000000, %eax
    cpuid
    cmp     $0x80000001, %eax
    jb      no_long_mode
    mov     $0x80000001, %eax
    cpuid
    and     ${cpuid_lm_nx}, %edx
    cmp     ${cpuid_lm_nx}, %edx
    jne     no_long_mode
    mov     $boot_entry64, %esi
    jmp     enter_long_mode

.global ap_entry32
ap_entry32:
    cli
    cld
    mov     $ap_entry64, %esi

// Long mode on, then a far jump to 64-bit code, which continues at ESI.
enter_long_mode:
    lgdt    boot_gdt_ptr
    mov     %cr4, %eax
    or      ${cr4_pae}, %eax
    mov     %eax, %cr4
    mov     {boot_cr3}, %eax
    test    %eax, %eax
    jnz     1f
    mov     $boot_pml4, %eax
1:  mov     %eax, %cr3
    mov     ${msr_efer}, %ecx
    rdmsr
    or      ${efer_lme_nxe}, %eax
    wrmsr
    mov     %cr0, %eax
    or      ${cr0_bits}, %eax
    mov     %eax, %cr0
    ljmp    ${boot_cs}, $long_mode_entry

// No long mode: say so on COM1 and exit QEMU through isa-debug-exit
// (status 1); on a machine without that device, halt.
no_long_mode:
    mov     $no_long_mode_msg, %esi
    mov     ${uart}, %dx
2:  lodsb
    test    %al, %al
    jz      3f
    out     %al, %dx
    jmp     2b
3:  xor     %eax, %eax
    mov     ${debug_exit}, %dx
    out     %eax, %dx
4:  hlt
    jmp     4b

.code64
long_mode_entry:
    mov     ${boot_ds}, %eax
    mov     %eax, %ds
    mov     %eax, %es
    mov     %eax, %ss
    mov     %esi, %esi                  // zero-extend the target
    jmp     *%rsi

// The boot CPU: stack 0, clear .bss (the stack is in it, still unused),
// then Rust with the start info as its argument.
boot_entry64:
    mov     %ebp, %ebp
    mov     ${stacks} + {stack_size}, %rsp
    mov     $_sbss, %edi
    mov     $_ebss, %ecx
    sub     %edi, %ecx
    shr     $3, %ecx
    xor     %eax, %eax
    rep stosq
    mov     %rbp, %rdi
    call    {primary_main}
    ud2

// A secondary CPU: its stack and id from AP_START, then tell the boot CPU
// it may reuse AP_START.
ap_entry64:
    mov     {ap_start}(%rip), %rsp
    mov     {ap_start} + 8(%rip), %rdi
    movq    $1, {ap_start} + 16(%rip)
    call    {secondary_main}
    ud2
.popsection
"#,
    table_flags = const BOOT_TABLE_FLAGS,
    page_flags = const BOOT_PAGE_FLAGS,
    cpuid_lm_nx = const CPUID_LM_NX,
    cr4_pae = const CR4_PAE,
    boot_cr3 = sym BOOT_CR3,
    msr_efer = const MSR_EFER,
    efer_lme_nxe = const EFER_LME_NXE,
    cr0_bits = const CR0_PE_WP_PG,
    boot_cs = const BOOT_CS,
    boot_ds = const BOOT_DS,
    uart = const axconfig::devices::UART_BASE,
    debug_exit = const super::power::DEBUG_EXIT_PORT,
    stacks = sym BOOT_STACKS,
    stack_size = const cpu::STACK_SIZE,
    primary_main = sym super::primary_main,
    ap_start = sym AP_START,
    secondary_main = sym super::secondary_main,
    options(att_syntax)
);
