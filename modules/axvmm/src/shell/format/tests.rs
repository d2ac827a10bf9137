use super::*;
use crate::lifecycle::VmState;
use crate::shell::Manager;
use crate::shell::tests::{MockManager, ODD_NAME};
use serde_json::{Value, json};

#[test]
fn sizes() {
    let cases = [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1 KiB"),
        (512 << 10, "512 KiB"),
        ((1 << 20) - 1, "1023 KiB"),
        (1 << 20, "1 MiB"),
        (3 << 19, "1.5 MiB"),
        ((1 << 20) + 1, "1.0 MiB"),
        (128 << 20, "128 MiB"),
        (4 << 30, "4096 MiB"),
    ];
    for (bytes, text) in cases {
        assert_eq!(size(bytes), text, "{bytes}");
    }
}

#[test]
fn uptimes() {
    let s = 1_000_000_000u64;
    let cases = [
        (0, "0.0s"),
        (99_999_999, "0.0s"),
        (12_345_000_000, "12.3s"),
        (60 * s - 1, "59.9s"),
        (60 * s, "1m00s"),
        (754 * s, "12m34s"),
        (3723 * s + 400_000_000, "1h02m03s"),
        (86_399 * s, "23h59m59s"),
        (90_061 * s, "1d01h01m01s"),
        (u64::MAX, "213503d23h34m33s"),
    ];
    for (ns, text) in cases {
        assert_eq!(uptime(ns), text, "{ns}");
    }
}

#[test]
fn power_names() {
    assert_eq!(power_name(Power::On), "on");
    assert_eq!(power_name(Power::Off), "off");
    assert_eq!(power_name(Power::OnPending), "on-pending");
}

/// The table's cells, cut at the columns the header's words start at.
fn cells(table: &str) -> Vec<Vec<String>> {
    let lines: Vec<&str> = table.lines().collect();
    let header = lines[0];
    let starts: Vec<usize> = (0..header.len())
        .filter(|&i| header.as_bytes()[i] != b' ' && (i == 0 || header.as_bytes()[i - 1] == b' '))
        .collect();
    lines
        .iter()
        .map(|line| {
            let chars: Vec<char> = line.chars().collect();
            starts
                .iter()
                .enumerate()
                .map(|(n, &start)| {
                    // The cell begins at the column, after a blank.
                    assert!(start == 0 || chars[start - 1] == ' ', "{line:?} at column {start}");
                    assert!(
                        chars.get(start).is_some_and(|c| *c != ' '),
                        "{line:?} at column {start}"
                    );
                    let end = starts.get(n + 1).map_or(chars.len(), |&e| e.min(chars.len()));
                    chars[start..end].iter().collect::<String>().trim_end().to_string()
                })
                .collect()
        })
        .collect()
}

#[test]
fn the_table_has_a_header_and_its_columns_line_up() {
    let vms = MockManager::new().list();
    let table = vm_table(&vms);
    assert!(table.ends_with('\n'));
    assert!(table.lines().all(|l| !l.ends_with(' ')), "{table}");
    let want = [
        ["ID", "NAME", "STATE", "VCPUS", "MEMORY", "UPTIME", "EXITS"],
        ["1", "linux", "running", "0@0,1@1", "128 MiB", "1h02m03s", "123456"],
        ["2", "testguest", "paused", "0@2,1@3", "512 KiB", "12.3s", "7"],
        ["5", "odd \"one\"\\??é", "stopped", "-", "1.5 MiB", "-", "0"],
    ];
    assert_eq!(cells(&table), want.map(|row| row.map(String::from).to_vec()));
    // Columns are exactly as wide as their widest cell, two spaces apart.
    let header = table.lines().next().unwrap();
    assert_eq!(header, "ID  NAME           STATE    VCPUS    MEMORY   UPTIME    EXITS");
}

#[test]
fn the_table_widens_for_long_cells_and_says_when_there_is_no_vm() {
    let mut vms = MockManager::new().list();
    vms[0].name = "a-very-long-virtual-machine-name".to_string();
    vms[0].id = 123_456;
    vms[0].exits = u64::MAX;
    let table = vm_table(&vms);
    let rows = cells(&table);
    assert_eq!(rows[1][0], "123456");
    assert_eq!(rows[1][1], "a-very-long-virtual-machine-name");
    assert_eq!(rows[1][6], u64::MAX.to_string());
    assert_eq!(rows[2][1], "testguest");
    assert_eq!(
        vm_table(&[]),
        "ID  NAME  STATE  VCPUS  MEMORY  UPTIME  EXITS\n(no VMs; \"vm create NAME\" builds one)\n"
    );
}

#[test]
fn info_has_a_line_per_field_and_per_vcpu() {
    let vms = MockManager::new().list();
    assert_eq!(
        vm_info(&vms[1]),
        "id: 2\nname: testguest\nstate: paused\nfile: configs/testguest.toml\nmemory: 512 KiB (524288 bytes)\n\
         uptime: 12.3s\nexits: 7\nconsole lines dropped: 0\nvcpus: 2\nvcpu 0: pcpu 2, on, not halted\nvcpu 1: pcpu 3, off, not halted\n"
    );
    let linux = vm_info(&vms[0]);
    assert!(linux.contains("\nvcpu 1: pcpu 1, on, halted\n"), "{linux}");
    let odd = vm_info(&vms[2]);
    assert!(
        odd.contains("\nname: odd \"one\"\\??é\n") && odd.contains("\nfile: configs/odd?tab.toml\n"),
        "{odd}"
    );
    assert!(
        odd.contains("\nuptime: -\nexits: 0\nconsole lines dropped: 0\nvcpus: 0\n"),
        "{odd}"
    );
    let mut pending = vms[1].clone();
    pending.vcpus[1].power = Power::OnPending;
    assert!(vm_info(&pending).contains("vcpu 1: pcpu 3, on-pending, not halted"));
}

#[test]
fn mem_in_kib_and_mib() {
    let mem = MockManager::new().memory();
    assert_eq!(
        memory(&mem),
        "free: 1572864 KiB (1536.0 MiB)\nused: 205312 KiB (200.5 MiB)\nheld by VMs: 133120 KiB (130.0 MiB)\n"
    );
}

#[test]
fn json_strings_are_escaped() {
    let mut out = String::new();
    json_string(&mut out, "a\"b\\c\u{1}\n\u{7f}\u{9b}é/");
    assert_eq!(out, "\"a\\\"b\\\\c\\u0001\\u000a\\u007f\\u009bé/\"");
    let back: String = serde_json::from_str(&out).unwrap();
    assert_eq!(back, "a\"b\\c\u{1}\n\u{7f}\u{9b}é/");
}

fn expected_json() -> Value {
    json!([
        {"id": 1, "name": "linux", "state": "running",
         "vcpus": [{"id": 0, "pcpu": 0, "power": "on", "halted": false},
                   {"id": 1, "pcpu": 1, "power": "on", "halted": true}],
         "memory_bytes": 134_217_728, "uptime_ns": 3_723_400_000_000u64, "exits": 123_456,
         "file": "configs/linux.toml"},
        {"id": 2, "name": "testguest", "state": "paused",
         "vcpus": [{"id": 0, "pcpu": 2, "power": "on", "halted": false},
                   {"id": 1, "pcpu": 3, "power": "off", "halted": false}],
         "memory_bytes": 524_288, "uptime_ns": 12_345_000_000u64, "exits": 7,
         "file": "configs/testguest.toml"},
        {"id": 5, "name": ODD_NAME, "state": "stopped", "vcpus": [],
         "memory_bytes": 1_572_864, "uptime_ns": 0, "exits": 0, "file": "configs/odd\ttab.toml"},
    ])
}

#[test]
fn the_list_as_json_parses_to_the_vms() {
    let mgr = MockManager::new();
    let text = vms_json(&mgr.list());
    assert!(text.ends_with("]\n") && text.matches('\n').count() == 1, "{text}");
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "raw control character in {text:?}"
    );
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value, expected_json());
    assert_eq!(vms_json(&[]), "[]\n");
}

#[test]
fn one_vm_as_json_is_its_object() {
    let mgr = MockManager::new();
    let vms = mgr.list();
    let expected = expected_json();
    for (i, vm) in vms.iter().enumerate() {
        let value: Value = serde_json::from_str(&vm_json(vm)).unwrap();
        assert_eq!(value, expected[i]);
    }
    let mut big = vms[0].clone();
    big.state = VmState::Created;
    big.exits = u64::MAX;
    let value: Value = serde_json::from_str(&vm_json(&big)).unwrap();
    assert_eq!(value["exits"], json!(u64::MAX));
    assert_eq!(value["state"], "created");
    assert_eq!(value["vcpus"][1]["halted"], json!(true));
}
