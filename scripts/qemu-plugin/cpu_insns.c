/*
 * A QEMU TCG plugin (QEMU 7.2, plugin API version 1) that counts the
 * instructions each emulated CPU executes, split into those inside an
 * address range (the hypervisor's text) and the others (guests), and
 * prints the counts at two executions of a marker address: the 1st and
 * the Nth. Used by scripts/bench-noisy-icount.py to measure what a noisy
 * neighbour costs a well-behaved VM's CPUs, per iteration of its timer
 * benchmark, without the emulator's turn-taking in the figure.
 *
 * Arguments (-plugin ./cpu_insns.so,lo=0x..,hi=0x..,mark=0x..,marks=N):
 *   lo, hi  the range counted as hypervisor (hi exclusive)
 *   mark    the address whose executions delimit the window
 *   marks   N, the execution that ends the window
 *   skip    optional: K executions of the mark before the window's 1st
 *           are left out (a marker that earlier code runs too)
 *   profile optional: a CPU whose hypervisor instructions in the window
 *           are also printed per block start address (`cpu_insns: pc`)
 *
 *   whole   optional, 1: no window (mark and marks are not needed); the
 *           profile covers the whole run
 *
 * When QEMU exits normally, each CPU's counts over the whole run are
 * printed too (`cpu_insns: total cpu N guest G hv H`), and with whole=1
 * the profile.
 *
 * Debian ships no qemu-plugin.h, so the few declarations used are written
 * out below from the plugin API's documentation.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
enum qemu_plugin_cb_flags {
    QEMU_PLUGIN_CB_NO_REGS,
    QEMU_PLUGIN_CB_R_REGS,
    QEMU_PLUGIN_CB_RW_REGS,
};
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_outs(const char *string);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

#define MAX_CPUS 16
/* Userdata of a block: its instruction count, two flags, and its start
 * address from bit 18 on (the hypervisor's text is below 2^46). */
#define HV_FLAG (1u << 16)
#define MARK_FLAG (1u << 17)
#define PC_SHIFT 18

static uint64_t lo, hi, mark, marks = 1000, skip;
static uint64_t counts[MAX_CPUS][2]; /* [cpu][0: guest, 1: hypervisor] */
static uint64_t first[MAX_CPUS][2];
static uint64_t seen;
static int64_t profile = -1;
static uint64_t whole;
/* The profile: block start address -> instructions, open addressing. */
#define PROFILE_SLOTS (1u << 16)
static uint64_t profile_pc[PROFILE_SLOTS];
static uint64_t profile_n[PROFILE_SLOTS];

static void profile_add(uint64_t pc, uint64_t n)
{
    uint32_t slot = (uint32_t)((pc >> 2) * 2654435761u) & (PROFILE_SLOTS - 1);
    for (uint32_t i = 0; i < PROFILE_SLOTS; i++, slot = (slot + 1) & (PROFILE_SLOTS - 1)) {
        if (profile_pc[slot] == pc || profile_pc[slot] == 0) {
            profile_pc[slot] = pc;
            profile_n[slot] += n;
            return;
        }
    }
}

static void print_profile(void)
{
    char line[96];
    for (uint32_t i = 0; i < PROFILE_SLOTS; i++) {
        if (profile_n[i] != 0) {
            snprintf(line, sizeof line, "cpu_insns: pc %#" PRIx64 " %" PRIu64 "\n", profile_pc[i], profile_n[i]);
            qemu_plugin_outs(line);
        }
    }
}

static void print_counts(const char *what, uint64_t (*c)[2])
{
    char line[128];
    for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
        if (c[cpu][0] == 0 && c[cpu][1] == 0) {
            continue;
        }
        snprintf(line, sizeof line, "cpu_insns: %s cpu %d guest %" PRIu64 " hv %" PRIu64 "\n", what, cpu,
                 c[cpu][0], c[cpu][1]);
        qemu_plugin_outs(line);
    }
}

static void on_exec(unsigned int cpu, void *userdata)
{
    uintptr_t data = (uintptr_t)userdata;
    if (cpu < MAX_CPUS) {
        counts[cpu][(data & HV_FLAG) ? 1 : 0] += data & 0xffff;
    }
    if ((int64_t)cpu == profile && (data & HV_FLAG) && (whole || (seen >= skip + 1 && seen < skip + marks))) {
        profile_add(data >> PC_SHIFT, data & 0xffff);
    }
    if (!(data & MARK_FLAG)) {
        return;
    }
    seen++;
    if (seen == skip + 1) {
        memcpy(first, counts, sizeof first);
    } else if (seen == skip + marks) {
        uint64_t delta[MAX_CPUS][2];
        for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
            delta[cpu][0] = counts[cpu][0] - first[cpu][0];
            delta[cpu][1] = counts[cpu][1] - first[cpu][1];
        }
        char line[96];
        snprintf(line, sizeof line, "cpu_insns: window of %" PRIu64 " marks\n", marks - 1);
        qemu_plugin_outs(line);
        print_counts("window", delta);
        if (profile >= 0) {
            print_profile();
        }
    }
}

static void on_exit_qemu(qemu_plugin_id_t id, void *userdata)
{
    (void)id;
    (void)userdata;
    print_counts("total", counts);
    if (whole && profile >= 0) {
        print_profile();
    }
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    uint64_t pc = qemu_plugin_tb_vaddr(tb);
    size_t n = qemu_plugin_tb_n_insns(tb);
    uintptr_t data = n > 0xffff ? 0xffff : n;
    if (pc >= lo && pc < hi) {
        data |= HV_FLAG | (uintptr_t)pc << PC_SHIFT;
    }
    if (pc == mark) {
        data |= MARK_FLAG;
    }
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_exec, QEMU_PLUGIN_CB_NO_REGS, (void *)data);
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                                               int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "cpu_insns: argument %s is not key=value\n", argv[i]);
            return -1;
        }
        uint64_t v = strtoull(eq + 1, NULL, 0);
        if (!strncmp(argv[i], "lo=", 3)) {
            lo = v;
        } else if (!strncmp(argv[i], "hi=", 3)) {
            hi = v;
        } else if (!strncmp(argv[i], "mark=", 5)) {
            mark = v;
        } else if (!strncmp(argv[i], "marks=", 6)) {
            marks = v;
        } else if (!strncmp(argv[i], "skip=", 5)) {
            skip = v;
        } else if (!strncmp(argv[i], "whole=", 6)) {
            whole = v;
        } else if (!strncmp(argv[i], "profile=", 8)) {
            profile = (int64_t)v;
        } else {
            fprintf(stderr, "cpu_insns: unknown argument %s\n", argv[i]);
            return -1;
        }
    }
    if (hi <= lo || (!whole && (mark == 0 || marks < 2))) {
        fprintf(stderr, "cpu_insns: needs lo < hi, and mark and marks >= 2 unless whole=1\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_exit_qemu, NULL);
    return 0;
}
