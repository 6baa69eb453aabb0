/* A 512-byte guest for QEMU's i440fx machine (`pc`) that obeys the ACPI
 * power button: it writes 'R' to COM1 once it runs, arms the PIIX4 power
 * button event, idles until the button is pressed (QMP `system_powerdown`),
 * writes 'P' and switches the machine off (S5). QEMU then reports
 * SHUTDOWN {"guest": true, "reason": "guest-shutdown"}.
 *
 * Built by tests/drivers/qemu/CMakeLists.txt (as, ld, qemu-img). */
        .code16
        .text
        .globl start
start:
        cli
        xorw    %ax, %ax
        movw    %ax, %ds
        movw    %ax, %ss
        movw    $0x7c00, %sp

        movw    $0x3f8, %dx             /* COM1 data port */
        movb    $'R', %al
        outb    %al, %dx

        /* Read PMBA (config register 0x40) of the PIIX4 power-management
         * function, PCI 00:01.3, through configuration mechanism #1. */
        movl    $0x80000b40, %eax
        movw    $0xcf8, %dx
        outl    %eax, %dx
        movw    $0xcfc, %dx
        inl     %dx, %eax
        andw    $0xffc0, %ax            /* I/O base of the PM1a event block */
        movw    %ax, %bx

        leaw    2(%bx), %dx             /* PM1a_EN */
        movw    $0x0100, %ax            /* PWRBTN_EN */
        outw    %ax, %dx
        sti

idle:   hlt                             /* the BIOS timer tick wakes us */
        movw    %bx, %dx                /* PM1a_STS */
        inw     %dx, %ax
        testw   $0x0100, %ax            /* PWRBTN_STS */
        jz      idle

        movw    $0x0100, %ax            /* status bits clear when written 1 */
        outw    %ax, %dx
        movw    $0x3f8, %dx
        movb    $'P', %al
        outb    %al, %dx

        leaw    4(%bx), %dx             /* PM1a_CNT: SLP_EN with SLP_TYP 0 */
        movw    $0x2000, %ax            /* is S5 on QEMU's PIIX4 */
        outw    %ax, %dx
        cli
stop:   hlt
        jmp     stop

        .org    510
        .byte   0x55, 0xaa
