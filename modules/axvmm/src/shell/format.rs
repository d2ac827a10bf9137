//! What the shell prints: the `vm list` table, the `vm info` lines, the
//! `mem` lines, their JSON forms (`--json`, written by hand with full string
//! escaping, since names come from config files) and the `help` text.
//!
//! Text output ends each line with `\n` (the host console writes `\r\n`);
//! control characters in names are shown as `?` so a config cannot drive
//! the terminal.

use super::{MemorySummary, VcpuSummary, VmSummary};
use crate::hal::Power;
use alloc::{
    format,
    string::{String, ToString},
    vec::Vec,
};
use core::fmt::Write;

const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;
const NS_PER_SEC: u64 = 1_000_000_000;

/// The `help` text: every command, one line each, then the keys.
pub const HELP: &str = "\
commands:
  help                  this text
  vm list [--json]      every VM: id, name, state, vCPUs (vcpu@pcpu), memory, uptime, exits
  vm info ID [--json]   one VM in detail, each vCPU's power state included
  vm create NAME [ID]   builds a VM from a built-in config (not started)
  vm start ID           runs a created VM, or boots a stopped one again
  vm pause ID           keeps a running VM's vCPUs off the CPUs
  vm resume ID          runs a paused VM again
  vm stop ID            stops a VM (its memory is kept until restart or destroy)
  vm restart ID         boots a VM again from its images, with fresh memory
  vm destroy ID         stops a VM if needed and frees everything it holds
  vm console ID         sends console input to VM ID and leaves this shell
  mem                   host memory: free, used, held by VMs
  exit, quit            leaves this shell (Ctrl-D on an empty line too)
keys:
  Ctrl-A n              moves console input to the next VM
  Ctrl-A m              opens this shell, or leaves it
  (under QEMU -nographic type Ctrl-A twice: QEMU takes the first)
  Up, Down              earlier commands; Ctrl-U erases the line, Ctrl-C abandons it
";

/// The word for a vCPU power state (console and JSON).
pub fn power_name(power: Power) -> &'static str {
    match power {
        Power::Off => "off",
        Power::OnPending => "on-pending",
        Power::On => "on",
    }
}

/// A size: `N MiB` from 1 MiB up (one decimal unless whole), `N KiB` from
/// 1 KiB up, else `N B`.
pub fn size(bytes: usize) -> String {
    if bytes >= MIB {
        let (whole, rest) = (bytes / MIB, bytes % MIB);
        if rest == 0 {
            format!("{whole} MiB")
        } else {
            format!("{whole}.{} MiB", rest * 10 / MIB)
        }
    } else if bytes >= KIB {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} B")
    }
}

/// A duration: `12.3s` under a minute, `2m03s`, `1h02m03s`, `3d01h02m03s`.
pub fn uptime(ns: u64) -> String {
    let secs = ns / NS_PER_SEC;
    if secs < 60 {
        let tenths = ns % NS_PER_SEC / (NS_PER_SEC / 10);
        return format!("{secs}.{tenths}s");
    }
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, h) {
        (0, 0) => format!("{m}m{s:02}s"),
        (0, _) => format!("{h}h{m:02}m{s:02}s"),
        _ => format!("{d}d{h:02}h{m:02}m{s:02}s"),
    }
}

/// [`uptime`], or `-` for 0 (never started).
fn uptime_or_dash(ns: u64) -> String {
    if ns == 0 { "-".to_string() } else { uptime(ns) }
}

/// `text` with control characters replaced by `?`, for the terminal.
pub fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

/// The vCPUs as `vcpu@pcpu` joined by commas, `-` when there are none.
fn vcpu_list(vcpus: &[VcpuSummary]) -> String {
    if vcpus.is_empty() {
        return "-".to_string();
    }
    let cells: Vec<String> = vcpus.iter().map(|v| format!("{}@{}", v.id, v.pcpu)).collect();
    cells.join(",")
}

/// The `vm list` table: a header line, then one line per VM; each column as
/// wide as its widest cell, two spaces apart.
pub fn vm_table(vms: &[VmSummary]) -> String {
    const HEADER: [&str; 7] = ["ID", "NAME", "STATE", "VCPUS", "MEMORY", "UPTIME", "EXITS"];
    let mut rows: Vec<[String; 7]> = Vec::with_capacity(vms.len() + 1);
    rows.push(HEADER.map(String::from));
    for vm in vms {
        rows.push([
            vm.id.to_string(),
            printable(&vm.name),
            vm.state.name().to_string(),
            vcpu_list(&vm.vcpus),
            size(vm.memory_bytes),
            uptime_or_dash(vm.uptime_ns),
            vm.exits.to_string(),
        ]);
    }
    let mut widths = [0usize; 7];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let _ = write!(line, "{cell:<w$}");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if vms.is_empty() {
        out.push_str("(no VMs; \"vm create NAME\" builds one)\n");
    }
    out
}

/// `vm info`: one `key: value` line per field, then one per vCPU.
pub fn vm_info(vm: &VmSummary) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "id: {}", vm.id);
    let _ = writeln!(out, "name: {}", printable(&vm.name));
    let _ = writeln!(out, "state: {}", vm.state.name());
    let _ = writeln!(out, "file: {}", printable(&vm.file));
    let _ = writeln!(out, "memory: {} ({} bytes)", size(vm.memory_bytes), vm.memory_bytes);
    let _ = writeln!(out, "uptime: {}", uptime_or_dash(vm.uptime_ns));
    let _ = writeln!(out, "exits: {}", vm.exits);
    let _ = writeln!(out, "console lines dropped: {}", vm.console_dropped);
    let _ = writeln!(out, "vcpus: {}", vm.vcpus.len());
    for v in &vm.vcpus {
        let halted = if v.halted { "halted" } else { "not halted" };
        let _ = writeln!(
            out,
            "vcpu {}: pcpu {}, {}, {}",
            v.id,
            v.pcpu,
            power_name(v.power),
            halted
        );
    }
    out
}

/// `mem`: free, used and held by VMs, in KiB and MiB.
pub fn memory(mem: &MemorySummary) -> String {
    let mut out = String::new();
    for (key, bytes) in [
        ("free", mem.free_bytes),
        ("used", mem.used_bytes),
        ("held by VMs", mem.vm_bytes),
    ] {
        let tenths_mib = bytes % MIB * 10 / MIB;
        let _ = writeln!(out, "{key}: {} KiB ({}.{} MiB)", bytes / KIB, bytes / MIB, tenths_mib);
    }
    out
}

/// Writes `text` as a JSON string: quoted, with `"` and `\` escaped and
/// control characters (C0, DEL and C1) as `\u00XX`.
pub fn json_string(out: &mut String, text: &str) {
    let _ = write!(out, "{}", Quoted(text));
}

/// `text` quoted for a message or JSON (see [`json_string`]): a typed word
/// in an error message shows where it starts and ends, and control
/// characters in it cannot drive the terminal. (The shell's own quoting
/// rather than `{:?}`, whose escaping tables cost the image about 4 KiB.)
pub struct Quoted<'a>(pub &'a str);

impl core::fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_char('"')?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                c if c.is_control() => write!(f, "\\u{:04x}", u32::from(c))?,
                c => f.write_char(c)?,
            }
        }
        f.write_char('"')
    }
}

/// Writes one VM as a JSON object.
fn json_vm(out: &mut String, vm: &VmSummary) {
    let _ = write!(out, "{{\"id\":{},\"name\":", vm.id);
    json_string(out, &vm.name);
    let _ = write!(out, ",\"state\":\"{}\",\"vcpus\":[", vm.state.name());
    for (i, v) in vm.vcpus.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"id\":{},\"pcpu\":{},\"power\":\"{}\",\"halted\":{}}}",
            v.id,
            v.pcpu,
            power_name(v.power),
            v.halted
        );
    }
    let _ = write!(
        out,
        "],\"memory_bytes\":{},\"uptime_ns\":{},\"exits\":{},\"file\":",
        vm.memory_bytes, vm.uptime_ns, vm.exits
    );
    json_string(out, &vm.file);
    out.push('}');
}

/// `vm info ID --json`: the VM as one JSON object, on one line.
pub fn vm_json(vm: &VmSummary) -> String {
    let mut out = String::new();
    json_vm(&mut out, vm);
    out.push('\n');
    out
}

/// `vm list --json`: a JSON array of the VMs' objects, on one line.
pub fn vms_json(vms: &[VmSummary]) -> String {
    let mut out = String::from("[");
    for (i, vm) in vms.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_vm(&mut out, vm);
    }
    out.push_str("]\n");
    out
}

#[cfg(test)]
mod tests;
