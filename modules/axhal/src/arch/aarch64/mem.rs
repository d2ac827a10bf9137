//! `memcpy` for the kernel: 64 bytes a round with paired loads and stores.
//!
//! compiler_builtins' generic `memcpy` (the one `-Zbuild-std-features=
//! compiler-builtins-mem` provides, a weak symbol) copies a word per loop
//! round; this strong definition replaces it at link time. It matters in
//! two places: loading guest images (tens of MiB, page aligned), and the
//! exit path, where LLVM calls `memcpy` for every move of more than 32
//! bytes (the target's strict alignment halves its inline limit), such as
//! an exit reason.
//!
//! When the two addresses are equally aligned modulo 8, the copy first
//! moves single bytes up to an 8-byte boundary, then 64-byte rounds
//! (`ldp`/`stp`, aligned, so also safe with the MMU off), then words, then
//! the last bytes. Differently aligned buffers are copied byte by byte:
//! the kernel has no large copies of that kind.
//!
//! `apps/helloworld` checks it against a byte loop for every length up to
//! 200 and every alignment pair of source and destination.

use core::arch::global_asm;

global_asm!(
    r#"
    .pushsection .text.memcpy, "ax"
    .global memcpy
    .type   memcpy, %function
    .p2align 4
memcpy:
    mov     x3, x0
    eor     x4, x0, x1
    tst     x4, #7
    b.ne    7f
    // Equally aligned: bytes up to the 8-byte boundary.
1:  tst     x3, #7
    b.eq    2f
    cbz     x2, 9f
    ldrb    w4, [x1], #1
    strb    w4, [x3], #1
    sub     x2, x2, #1
    b       1b
2:  cmp     x2, #64
    b.lo    4f
3:  ldp     x4, x5, [x1]
    ldp     x6, x7, [x1, #16]
    ldp     x8, x9, [x1, #32]
    ldp     x10, x11, [x1, #48]
    add     x1, x1, #64
    sub     x2, x2, #64
    stp     x4, x5, [x3]
    stp     x6, x7, [x3, #16]
    stp     x8, x9, [x3, #32]
    stp     x10, x11, [x3, #48]
    add     x3, x3, #64
    cmp     x2, #64
    b.hs    3b
4:  cmp     x2, #8
    b.lo    7f
5:  ldr     x4, [x1], #8
    str     x4, [x3], #8
    sub     x2, x2, #8
    cmp     x2, #8
    b.hs    5b
    // The rest (or everything, when differently aligned): bytes.
7:  cbz     x2, 9f
8:  ldrb    w4, [x1], #1
    strb    w4, [x3], #1
    subs    x2, x2, #1
    b.ne    8b
9:  ret
    .size   memcpy, . - memcpy
    .popsection
"#
);
