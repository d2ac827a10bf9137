# The smallest x86 guest of the hypervisor's QEMU tests (beside
# guests/testguest-x86, which checks everything): flat 32-bit code loaded and entered at
# 1 MiB (the x86 VM contract), paging off. Prints one line per check on
# COM1 ("x86-mini: PASS ..." / "x86-mini: FAIL ..."), then powers the VM
# off through port 0x604. As VM 66 it makes an MMIO access the hypervisor
# cannot emulate (REP MOVSB from the test device) instead.
.intel_syntax noprefix
.code32
.set COM1, 0x3f8
.set TESTDEV, 0xd0000000
.set LAPIC, 0xfee00000
.set AP_FLAG, 0x7000
.set TRAMPOLINE, 0x8000
.set TICKS, 0x7004

.global _start
_start:
    cli
    mov esp, 0x90000
    lgdt [gdt_desc]
    ljmp 0x08, offset reload
reload:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    lidt [idt_desc]
    # IDT entry 0x40 -> timer_handler.
    mov eax, offset timer_handler
    mov edi, offset idt + 0x40 * 8
    mov word ptr [edi], ax
    mov word ptr [edi + 2], 0x08
    mov word ptr [edi + 4], 0x8e00
    shr eax, 16
    mov word ptr [edi + 6], ax

    lea esi, [msg_hello]
    call puts

    # Hypercalls: version, VM id, putchar.
    mov eax, 0xc6000000
    vmmcall
    cmp eax, 0x10000
    lea esi, [msg_hc_version]
    call check
    mov eax, 0xc6000001
    vmmcall
    mov [vm_id], eax
    cmp eax, 0
    setne al
    cmp al, 1
    lea esi, [msg_hc_vmid]
    call check
    mov eax, 0xc6000002
    mov ebx, '+'
    vmmcall
    cmp eax, 0
    lea esi, [msg_hc_putchar]
    call check
    mov eax, 0xc600ffff
    vmmcall
    cmp eax, 0xffffffff
    lea esi, [msg_hc_unknown]
    call check

    # VM 66 crashes on purpose: a string copy from the test device, which
    # the hypervisor does not emulate (it stops this VM, not the others).
    cmp dword ptr [vm_id], 66
    jne 6f
    lea esi, [msg_crash]
    call puts
    mov esi, TESTDEV
    mov edi, 0x9000
    mov ecx, 4
    rep movsb
    lea esi, [msg_survived]
    call puts
7:  hlt
    jmp 7b
6:
    # The test device: magic, scratch.
    mov eax, dword ptr [TESTDEV]
    cmp eax, 0x44455631
    lea esi, [msg_testdev_magic]
    call check
    mov dword ptr [TESTDEV + 8], 0x12345678
    mov eax, dword ptr [TESTDEV + 8]
    cmp eax, 0x12345678
    lea esi, [msg_testdev_scratch]
    call check

    # Nothing above the RAM: all ones.
    mov eax, dword ptr [0x8000000]
    cmp eax, 0xffffffff
    lea esi, [msg_outside]
    call check

    # The local APIC: ID 0, version, periodic timer at vector 0x40.
    mov eax, dword ptr [LAPIC + 0x20]
    cmp eax, 0
    lea esi, [msg_lapic_id]
    call check
    mov eax, dword ptr [LAPIC + 0x30]
    and eax, 0xff
    cmp eax, 0x14
    lea esi, [msg_lapic_version]
    call check
    mov dword ptr [LAPIC + 0xf0], 0x1ff
    mov dword ptr [LAPIC + 0x3e0], 0xb
    mov dword ptr [LAPIC + 0x320], 0x20040
    mov dword ptr [LAPIC + 0x380], 2000000
    sti
1:  hlt
    cmp dword ptr [TICKS], 5
    jb 1b
    cli
    mov dword ptr [LAPIC + 0x380], 0
    cmp eax, eax
    lea esi, [msg_timer]
    call check

    # Only VM 1 has a second vCPU: start it with INIT, STARTUP.
    cmp dword ptr [vm_id], 1
    jne 3f
    mov esi, offset ap_start
    mov edi, TRAMPOLINE
    mov ecx, offset ap_end
    sub ecx, offset ap_start
    rep movsb
    mov dword ptr [LAPIC + 0x310], 1 << 24
    mov dword ptr [LAPIC + 0x300], 0x4500
    mov dword ptr [LAPIC + 0x300], 0x4608
    mov ecx, 100000000
2:  cmp byte ptr [AP_FLAG], 2
    je 4f
    pause
    loop 2b
4:  cmp byte ptr [AP_FLAG], 2
    lea esi, [msg_ap]
    call check
3:
    lea esi, [msg_done]
    call puts
    mov dx, 0x604
    mov ax, 0x2000
    out dx, ax
    lea esi, [msg_still_on]
    call puts
5:  hlt
    jmp 5b

timer_handler:
    push eax
    inc dword ptr [TICKS]
    mov dword ptr [LAPIC + 0xb0], 0
    pop eax
    iret

# check: ZF set = pass. Prints "x86-mini: PASS <esi>" or FAIL.
check:
    pushf
    push esi
    lea esi, [msg_prefix]
    call puts
    pop esi
    popf
    jne 1f
    push esi
    lea esi, [msg_pass]
    call puts
    pop esi
    jmp 2f
1:  push esi
    lea esi, [msg_fail]
    call puts
    pop esi
2:  call puts
    ret

# puts: the NUL-terminated string at esi, to COM1 (waits for THRE).
puts:
    push eax
    push edx
1:  mov al, [esi]
    test al, al
    jz 3f
    mov dx, COM1 + 5
2:  in al, dx
    test al, 0x20
    jz 2b
    mov al, [esi]
    mov dx, COM1
    out dx, al
    inc esi
    jmp 1b
3:  pop edx
    pop eax
    ret

# The AP's real-mode code, copied to 0x8000 (STARTUP vector 8: CS = 0x800,
# IP = 0). It sets the flag to 1, to 2 when the vCPU-id hypercall says 1,
# and halts.
.code16
ap_start:
    mov ax, cs
    cmp ax, 0x800
    jne 1f
    xor ax, ax
    mov ds, ax
    mov byte ptr [AP_FLAG], 1
    mov eax, 0xc6000003
    vmmcall
    cmp eax, 1
    jne 1f
    mov byte ptr [AP_FLAG], 2
1:  cli
    hlt
    jmp 1b
ap_end:
.code32

.balign 8
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff
    .quad 0x00cf92000000ffff
gdt_desc:
    .word gdt_desc - gdt - 1
    .long gdt
.balign 8
idt_desc:
    .word 256 * 8 - 1
    .long idt
vm_id:
    .long 0

msg_hello: .asciz "x86-mini: hello from 32-bit protected mode\n"
msg_prefix: .asciz "x86-mini: "
msg_pass: .asciz "PASS "
msg_fail: .asciz "FAIL "
msg_hc_version: .asciz "hypercall version\n"
msg_hc_vmid: .asciz "hypercall vm id\n"
msg_hc_putchar: .asciz "hypercall putchar\n"
msg_hc_unknown: .asciz "hypercall unknown returns -1\n"
msg_testdev_magic: .asciz "test device magic\n"
msg_testdev_scratch: .asciz "test device scratch\n"
msg_outside: .asciz "read outside RAM is all ones\n"
msg_lapic_id: .asciz "local APIC id\n"
msg_lapic_version: .asciz "local APIC version\n"
msg_timer: .asciz "local APIC periodic timer (5 interrupts)\n"
msg_ap: .asciz "second vCPU started by INIT/STARTUP (CS 0x800, vCPU id 1)\n"
msg_crash: .asciz "x86-mini: VM 66 crashes on purpose\n"
msg_survived: .asciz "x86-mini: FAIL survived an access the hypervisor cannot emulate\n"
msg_done: .asciz "x86-mini: done, powering off\n"
msg_still_on: .asciz "x86-mini: FAIL still running after power-off\n"

.balign 8
idt:
    .fill 256 * 8, 1, 0
