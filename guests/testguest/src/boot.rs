//! Entry points: the boot vCPU's `_start` and the `CPU_ON` target
//! `_secondary_start`.
//!
//! Both run with the MMU off at EL1h and interrupts masked. Each vCPU takes
//! the stack of its MPIDR affinity 0 (vCPUs beyond [`NUM_VCPUS`] park),
//! installs the exception vectors, lets EL1 use FP/SIMD (`CPACR_EL1.FPEN`;
//! only the isolation check does, the target being soft-float), and calls
//! into Rust with `X0` as it came:
//! the DTB address for `_start`, the `CPU_ON` context id for
//! `_secondary_start`. Only `_start` zeroes `.bss` (the stacks included), so
//! it must run before any `CPU_ON`.

use core::arch::global_asm;

use crate::platform::{NUM_VCPUS, STACK_SIZE};

/// `MPIDR_EL1.Aff0`, the vCPU index in this VM.
const MPIDR_AFF0_MASK: u64 = 0xff;
/// `CPACR_EL1.FPEN` (bits \[21:20\]) = 0b11: FP/SIMD instructions are not
/// trapped at EL1 (nor EL0).
const CPACR_EL1_FPEN_NO_TRAP: u64 = 0b11 << 20;

unsafe extern "C" {
    /// The `CPU_ON` entry point defined below; never called from Rust.
    fn _secondary_start();
}

/// The physical address to give `CPU_ON` (the MMU is off, so it is the
/// link address).
pub fn secondary_entry() -> u64 {
    _secondary_start as *const () as usize as u64
}

global_asm!(
    r#"
    .section .text.boot, "ax"
    .global _start
_start:
    msr     daifset, #0xf
    mov     x19, x0                     // DTB address
    mrs     x20, mpidr_el1
    and     x20, x20, #{aff0_mask}
    cmp     x20, #{num_vcpus}
    b.hs    .Lboot_park

    adrp    x1, __bss_start
    add     x1, x1, :lo12:__bss_start
    adrp    x2, __bss_end
    add     x2, x2, :lo12:__bss_end
0:  cmp     x1, x2
    b.hs    1f
    stp     xzr, xzr, [x1], #16
    b       0b
1:
    mov     x0, x20
    bl      .Lboot_setup_vcpu
    mov     x0, x19
    bl      {primary_main}
    b       .Lboot_park

    .global _secondary_start
_secondary_start:
    msr     daifset, #0xf
    mov     x19, x0                     // CPU_ON context id
    mrs     x20, mpidr_el1
    and     x20, x20, #{aff0_mask}
    cmp     x20, #{num_vcpus}
    b.hs    .Lboot_park
    mov     x0, x20
    bl      .Lboot_setup_vcpu
    mov     x0, x19
    bl      {secondary_main}

.Lboot_park:
    wfe
    b       .Lboot_park

// x0 = vCPU index. Sets SP to the top of its stack and VBAR_EL1 to the
// vectors, enables FP/SIMD at EL1; clobbers x1..x3 and the frame pointer.
.Lboot_setup_vcpu:
    mov     x1, #{stack_size}
    madd    x2, x0, x1, x1              // (index + 1) * STACK_SIZE
    adrp    x3, testguest_stacks
    add     x3, x3, :lo12:testguest_stacks
    add     sp, x3, x2
    mov     x29, xzr
    adrp    x1, testguest_vectors
    add     x1, x1, :lo12:testguest_vectors
    msr     vbar_el1, x1
    mrs     x1, cpacr_el1
    orr     x1, x1, #{cpacr_fpen}
    msr     cpacr_el1, x1
    isb
    ret

    .section .bss.stacks, "aw", %nobits
    .balign 16
testguest_stacks:
    .space  {stacks_size}
    "#,
    aff0_mask = const MPIDR_AFF0_MASK,
    cpacr_fpen = const CPACR_EL1_FPEN_NO_TRAP,
    num_vcpus = const NUM_VCPUS,
    stack_size = const STACK_SIZE,
    stacks_size = const STACK_SIZE * NUM_VCPUS,
    primary_main = sym crate::primary_main,
    secondary_main = sym crate::checks::secondary_main,
);
