//! Tests of the routing in [`AxVmDevices`] and of building devices from a
//! VM config, with shared test helpers.

use std::string::{String, ToString};
use std::sync::{Arc, Mutex};
use std::vec::Vec;
use std::{format, vec};

use axvcpu::{AccessWidth, AxVCpuExitReason, GuestPhysAddr, Port, SysRegAddr};
use axvmconfig::{EmulatedDeviceConfig, EmulatedDeviceType};

use crate::*;

/// A [`ConsoleSink`] that records every call.
#[derive(Default)]
pub(crate) struct RecordingSink {
    pub(crate) writes: Mutex<Vec<(String, Vec<u8>)>>,
}

impl RecordingSink {
    /// Every byte written so far, whatever the VM.
    pub(crate) fn bytes(&self) -> Vec<u8> {
        let writes = self.writes.lock().expect("test lock");
        writes.iter().flat_map(|(_, b)| b.iter().copied()).collect()
    }
}

impl ConsoleSink for RecordingSink {
    fn write_bytes(&self, vm_name: &str, bytes: &[u8]) {
        self.writes
            .lock()
            .expect("test lock")
            .push((vm_name.to_string(), bytes.to_vec()));
    }
}

/// The value every [`Probe`] read returns, wider than any access.
const PROBE_VALUE: u64 = 0xaaaa_bbbb_cccc_dddd;

/// A device that records its accesses and reads as [`PROBE_VALUE`].
struct Probe {
    name: String,
    range: DeviceRange,
    accesses: Mutex<Vec<(usize, AccessWidth, Option<u64>)>>,
}

impl Probe {
    fn new(name: &str, range: DeviceRange) -> Arc<Self> {
        Arc::new(Self {
            name: name.to_string(),
            range,
            accesses: Mutex::new(Vec::new()),
        })
    }

    fn mmio(name: &str, base: usize, size: usize) -> Arc<Self> {
        Self::new(name, mmio(base, size))
    }

    fn last(&self) -> Option<(usize, AccessWidth, Option<u64>)> {
        self.accesses.lock().expect("test lock").last().copied()
    }
}

impl BaseDeviceOps for Probe {
    fn name(&self) -> &str {
        &self.name
    }

    fn address_range(&self) -> DeviceRange {
        self.range
    }

    fn handle_read(&self, offset: usize, width: AccessWidth) -> AxResult<u64> {
        self.accesses.lock().expect("test lock").push((offset, width, None));
        Ok(PROBE_VALUE)
    }

    fn handle_write(&self, offset: usize, width: AccessWidth, value: u64) -> AxResult {
        self.accesses
            .lock()
            .expect("test lock")
            .push((offset, width, Some(value)));
        Ok(())
    }
}

fn mmio(base: usize, size: usize) -> DeviceRange {
    DeviceRange::Mmio {
        base: GuestPhysAddr::from(base),
        size,
    }
}

fn gpa(addr: usize) -> GuestPhysAddr {
    GuestPhysAddr::from(addr)
}

fn name_at(devs: &AxVmDevices, addr: usize) -> Option<String> {
    devs.find_mmio_dev(gpa(addr)).map(|d| d.name().to_string())
}

/// `a` at `[0x1000, 0x2000)`.
fn one_device() -> AxVmDevices {
    let mut devs = AxVmDevices::new();
    devs.add_mmio_dev(Probe::mmio("a", 0x1000, 0x1000))
        .expect("first device");
    devs
}

#[test]
fn every_overlap_shape_is_rejected() {
    let shapes = [
        ("same", 0x1000, 0x1000),
        ("inside", 0x1400, 0x400),
        ("one byte inside", 0x1800, 1),
        ("straddling left", 0x800, 0x1000),
        ("straddling right", 0x1800, 0x1000),
        ("last byte of new on first of old", 0x800, 0x801),
        ("first byte of new on last of old", 0x1fff, 0x100),
        ("same start, longer", 0x1000, 0x2000),
        ("same end, earlier start", 0x800, 0x1800),
        ("enclosing", 0x800, 0x2000),
    ];
    for (shape, base, size) in shapes {
        let mut devs = one_device();
        assert_eq!(
            devs.add_mmio_dev(Probe::mmio("b", base, size)),
            Err(AxError::AlreadyExists),
            "{shape}"
        );
        assert_eq!(devs.len(), 1, "{shape}: nothing added");
    }
}

#[test]
fn a_range_enclosing_several_devices_is_rejected() {
    let mut devs = one_device();
    devs.add_mmio_dev(Probe::mmio("c", 0x4000, 0x1000)).expect("disjoint");
    assert_eq!(
        devs.add_mmio_dev(Probe::mmio("big", 0, 0x10000)),
        Err(AxError::AlreadyExists)
    );
    assert_eq!(
        devs.add_mmio_dev(Probe::mmio("gap+c", 0x3000, 0x1001)),
        Err(AxError::AlreadyExists)
    );
}

#[test]
fn adjacent_ranges_are_accepted() {
    let mut devs = one_device();
    devs.add_mmio_dev(Probe::mmio("below", 0x800, 0x800))
        .expect("ends where a starts");
    devs.add_mmio_dev(Probe::mmio("above", 0x2000, 0x1000))
        .expect("starts where a ends");
    devs.add_mmio_dev(Probe::mmio("far", 0x10_0000, 0x10))
        .expect("far away");
    devs.add_mmio_dev(Probe::mmio("fills the gap", 0x3000, 0x10_0000 - 0x3000))
        .expect("exactly fills the hole between above and far");
    let names: Vec<_> = devs.mmio_devices().map(|d| d.name().to_string()).collect();
    assert_eq!(names, ["below", "a", "above", "fills the gap", "far"]);
    assert_eq!(name_at(&devs, 0x7ff), None);
    assert_eq!(name_at(&devs, 0x800).as_deref(), Some("below"));
    assert_eq!(name_at(&devs, 0xfff).as_deref(), Some("below"));
    assert_eq!(name_at(&devs, 0x1000).as_deref(), Some("a"));
    assert_eq!(name_at(&devs, 0x2000).as_deref(), Some("above"));
    assert_eq!(name_at(&devs, 0xf_ffff).as_deref(), Some("fills the gap"));
    assert_eq!(name_at(&devs, 0x10_000f).as_deref(), Some("far"));
    assert_eq!(name_at(&devs, 0x10_0010), None);
}

#[test]
fn empty_overflowing_and_misfiled_ranges_are_invalid() {
    let mut devs = AxVmDevices::new();
    let cases: [(&str, Arc<dyn BaseDeviceOps>); 4] = [
        ("zero size", Probe::mmio("z", 0x1000, 0)),
        ("overflow", Probe::mmio("o", usize::MAX - 0xfff, 0x1000)),
        ("huge", Probe::mmio("h", 0x1000, usize::MAX)),
        (
            "port range as mmio",
            Probe::new(
                "p",
                DeviceRange::Port {
                    first: Port::new(0x60),
                    last: Port::new(0x64),
                },
            ),
        ),
    ];
    for (case, dev) in cases {
        assert_eq!(devs.add_mmio_dev(dev), Err(AxError::InvalidInput), "{case}");
    }
    let reversed = Probe::new(
        "r",
        DeviceRange::SysReg {
            first: SysRegAddr::new(9),
            last: SysRegAddr::new(8),
        },
    );
    assert_eq!(devs.add_sys_reg_dev(reversed), Err(AxError::InvalidInput));
    assert_eq!(devs.add_port_dev(Probe::mmio("m", 0x60, 4)), Err(AxError::InvalidInput));
    assert!(devs.is_empty());
}

#[test]
fn lookup_finds_first_and_last_byte_only() {
    let mut devs = one_device();
    devs.add_mmio_dev(Probe::mmio("b", 0x8000, 0x100))
        .expect("second device");
    assert_eq!(name_at(&devs, 0x1000).as_deref(), Some("a"));
    assert_eq!(name_at(&devs, 0x1fff).as_deref(), Some("a"));
    assert_eq!(name_at(&devs, 0xfff), None);
    assert_eq!(name_at(&devs, 0x2000), None, "between devices");
    assert_eq!(name_at(&devs, 0x7fff), None, "between devices");
    assert_eq!(name_at(&devs, 0x8000).as_deref(), Some("b"));
    assert_eq!(name_at(&devs, 0x80ff).as_deref(), Some("b"));
    assert_eq!(name_at(&devs, 0x8100), None);
    assert_eq!(name_at(&devs, 0), None, "far below");
    assert_eq!(name_at(&devs, usize::MAX), None, "far above");
    assert_eq!(
        devs.handle_mmio_read(gpa(0x4000), AccessWidth::Dword),
        Err(AxError::NotFound)
    );
    assert_eq!(
        devs.handle_mmio_write(gpa(usize::MAX), AccessWidth::Byte, 0),
        Err(AxError::NotFound)
    );
}

#[test]
fn lookup_scales_to_many_devices() {
    let mut devs = AxVmDevices::new();
    // Inserted out of order; every other 0x1000 page holds a device.
    for i in (0..200usize).rev().step_by(2).chain((0..200).step_by(2)) {
        let dev = Probe::mmio(&format!("d{i}"), i * 0x2000, 0x1000);
        devs.add_mmio_dev(dev).expect("disjoint");
    }
    assert_eq!(devs.len(), 200);
    for i in 0..200usize {
        let base = i * 0x2000;
        let want = format!("d{i}");
        assert_eq!(name_at(&devs, base).as_deref(), Some(want.as_str()));
        assert_eq!(name_at(&devs, base + 0xfff).as_deref(), Some(want.as_str()));
        assert_eq!(name_at(&devs, base + 0x1000), None);
    }
}

#[test]
fn accesses_reach_the_device_at_their_offset() {
    let probe = Probe::mmio("a", 0x1000, 0x1000);
    let mut devs = AxVmDevices::new();
    devs.add_mmio_dev(probe.clone()).expect("add");
    devs.handle_mmio_read(gpa(0x1010), AccessWidth::Dword).expect("read");
    assert_eq!(probe.last(), Some((0x10, AccessWidth::Dword, None)));
    devs.handle_mmio_write(gpa(0x1ff8), AccessWidth::Qword, 7)
        .expect("last 8 bytes");
    assert_eq!(probe.last(), Some((0xff8, AccessWidth::Qword, Some(7))));
}

#[test]
fn values_are_masked_to_the_access_width() {
    let probe = Probe::mmio("a", 0x1000, 0x1000);
    let mut devs = AxVmDevices::new();
    devs.add_mmio_dev(probe.clone()).expect("add");
    let read = |w| devs.handle_mmio_read(gpa(0x1000), w);
    assert_eq!(read(AccessWidth::Byte), Ok(0xdd));
    assert_eq!(read(AccessWidth::Word), Ok(0xdddd));
    assert_eq!(read(AccessWidth::Dword), Ok(0xcccc_dddd));
    assert_eq!(read(AccessWidth::Qword), Ok(PROBE_VALUE));
    devs.handle_mmio_write(gpa(0x1000), AccessWidth::Word, u64::MAX)
        .expect("write");
    assert_eq!(probe.last(), Some((0, AccessWidth::Word, Some(0xffff))));
}

#[test]
fn accesses_not_fully_inside_one_device_are_invalid() {
    let probe = Probe::mmio("a", 0x1000, 0x1000);
    let mut devs = AxVmDevices::new();
    devs.add_mmio_dev(probe.clone()).expect("add");
    devs.add_mmio_dev(Probe::mmio("b", 0x2000, 0x1000)).expect("adjacent");
    let read = |addr, w| devs.handle_mmio_read(gpa(addr), w);
    // 8 bytes starting 4 before the end of `a` (and running into `b`).
    assert_eq!(read(0x1ffc, AccessWidth::Qword), Err(AxError::InvalidInput));
    assert_eq!(read(0x1fff, AccessWidth::Word), Err(AxError::InvalidInput));
    assert_eq!(
        devs.handle_mmio_write(gpa(0x1ffc), AccessWidth::Qword, 0),
        Err(AxError::InvalidInput)
    );
    // Starting in the hole before `a` and reaching into it.
    assert_eq!(read(0xffc, AccessWidth::Qword), Err(AxError::InvalidInput));
    assert_eq!(read(0xfff, AccessWidth::Word), Err(AxError::InvalidInput));
    // Crossing the end of `b` into nothing.
    assert_eq!(read(0x2ffc, AccessWidth::Qword), Err(AxError::InvalidInput));
    // Ending right at the end is fine; nothing reached the probe before.
    assert_eq!(probe.last(), None);
    assert_eq!(read(0x1ffc, AccessWidth::Dword), Ok(0xcccc_dddd));
    assert_eq!(read(0xff8, AccessWidth::Qword), Err(AxError::NotFound));
}

#[test]
fn addresses_near_the_top_do_not_overflow() {
    let top = usize::MAX - 0x1fff; // [top, usize::MAX - 0xfff]
    let mut devs = AxVmDevices::new();
    devs.add_mmio_dev(Probe::mmio("top", top, 0x1000))
        .expect("ends below the top");
    assert_eq!(
        devs.add_mmio_dev(Probe::mmio("wraps", usize::MAX - 0xfff, 0x1000)),
        Err(AxError::InvalidInput)
    );
    assert_eq!(
        devs.add_mmio_dev(Probe::mmio("last byte", usize::MAX, 1)),
        Err(AxError::InvalidInput)
    );
    let read = |addr, w| devs.handle_mmio_read(gpa(addr), w);
    assert_eq!(read(top + 0xff8, AccessWidth::Qword), Ok(PROBE_VALUE));
    assert_eq!(read(top + 0xffc, AccessWidth::Qword), Err(AxError::InvalidInput));
    // Accesses whose last byte would wrap past usize::MAX.
    assert_eq!(read(usize::MAX, AccessWidth::Qword), Err(AxError::NotFound));
    assert_eq!(read(usize::MAX - 3, AccessWidth::Qword), Err(AxError::NotFound));

    // A system-register range may end at the very top; a one-register
    // access there must not overflow.
    let regs = Probe::new(
        "top regs",
        DeviceRange::SysReg {
            first: SysRegAddr::new(usize::MAX - 1),
            last: SysRegAddr::new(usize::MAX),
        },
    );
    devs.add_sys_reg_dev(regs.clone()).expect("add");
    assert_eq!(devs.handle_sys_reg_read(SysRegAddr::new(usize::MAX)), Ok(PROBE_VALUE));
    assert_eq!(regs.last(), Some((1, AccessWidth::Qword, None)));
}

#[test]
fn system_registers_route_by_index() {
    let regs = Probe::new(
        "gic cpu if",
        DeviceRange::SysReg {
            first: SysRegAddr::new(0x100),
            last: SysRegAddr::new(0x10f),
        },
    );
    let mut devs = AxVmDevices::new();
    devs.add_sys_reg_dev(regs.clone()).expect("add");
    assert_eq!(
        devs.add_sys_reg_dev(Probe::new(
            "overlap",
            DeviceRange::SysReg {
                first: SysRegAddr::new(0x10f),
                last: SysRegAddr::new(0x200),
            },
        )),
        Err(AxError::AlreadyExists)
    );
    devs.handle_sys_reg_write(SysRegAddr::new(0x10f), u64::MAX)
        .expect("write");
    assert_eq!(regs.last(), Some((0xf, AccessWidth::Qword, Some(u64::MAX))));
    assert_eq!(devs.handle_sys_reg_read(SysRegAddr::new(0x100)), Ok(PROBE_VALUE));
    assert_eq!(regs.last(), Some((0, AccessWidth::Qword, None)));
    assert_eq!(devs.handle_sys_reg_read(SysRegAddr::new(0x110)), Err(AxError::NotFound));
    assert_eq!(
        devs.handle_sys_reg_write(SysRegAddr::new(0xff), 0),
        Err(AxError::NotFound)
    );
    assert!(devs.find_sys_reg_dev(SysRegAddr::new(0x105)).is_some());
    assert_eq!(devs.sys_reg_devices().count(), 1);
    // System registers are not MMIO addresses.
    assert!(devs.find_mmio_dev(gpa(0x100)).is_none());
}

#[test]
fn ports_route_and_check_the_width() {
    let uart = Probe::new(
        "com1",
        DeviceRange::Port {
            first: Port::new(0x3f8),
            last: Port::new(0x3ff),
        },
    );
    let top = Probe::new(
        "top",
        DeviceRange::Port {
            first: Port::new(0xfff8),
            last: Port::new(0xffff),
        },
    );
    let mut devs = AxVmDevices::new();
    devs.add_port_dev(uart.clone()).expect("add");
    devs.add_port_dev(top.clone()).expect("add");
    assert_eq!(devs.handle_port_read(Port::new(0x3f9), AccessWidth::Byte), Ok(0xdd));
    assert_eq!(uart.last(), Some((1, AccessWidth::Byte, None)));
    devs.handle_port_write(Port::new(0x3fc), AccessWidth::Dword, 0x1_2345_6789)
        .expect("last four ports");
    assert_eq!(uart.last(), Some((4, AccessWidth::Dword, Some(0x2345_6789))));
    assert_eq!(
        devs.handle_port_read(Port::new(0x3fe), AccessWidth::Dword),
        Err(AxError::InvalidInput)
    );
    assert_eq!(
        devs.handle_port_read(Port::new(0x3f7), AccessWidth::Word),
        Err(AxError::InvalidInput)
    );
    assert_eq!(
        devs.handle_port_read(Port::new(0x80), AccessWidth::Byte),
        Err(AxError::NotFound)
    );
    assert_eq!(
        devs.handle_port_read(Port::new(0xfffe), AccessWidth::Dword),
        Err(AxError::InvalidInput),
        "ports past 0xffff"
    );
    assert_eq!(
        devs.handle_port_read(Port::new(0xfffc), AccessWidth::Dword),
        Ok(0xcccc_dddd)
    );
    assert_eq!(top.last(), Some((4, AccessWidth::Dword, None)));
    assert_eq!(devs.find_port_dev(Port::new(0x3ff)).map(|d| d.name()), Some("com1"));
    assert!(devs.find_port_dev(Port::new(0x400)).is_none());
    assert_eq!(devs.port_devices().count(), 2);
}

fn entry(name: &str, emu_type: EmulatedDeviceType, base: usize, size: usize) -> EmulatedDeviceConfig {
    EmulatedDeviceConfig {
        name: name.to_string(),
        base_gpa: base,
        length: size,
        irq_id: 0,
        emu_type,
        cfg_list: Vec::new(),
    }
}

fn context(sink: Arc<RecordingSink>) -> DeviceContext {
    DeviceContext::new("vm1", sink)
}

#[test]
fn from_config_builds_the_known_models() {
    let sink = Arc::new(RecordingSink::default());
    let mut uart = entry("uart0", EmulatedDeviceType::Pl011, 0x0900_0000, 0x1000);
    uart.irq_id = 33;
    let configs = [
        uart,
        entry("con", EmulatedDeviceType::Console, 0x0901_0000, 0x1000),
        entry("hole", EmulatedDeviceType::Dummy, 0x0902_0000, 0x20),
        entry("test", EmulatedDeviceType::TestDevice, 0x0a00_0000, 0x1000),
    ];
    let devs = AxVmDevices::from_config(&configs, &context(sink.clone())).expect("builds");
    assert_eq!(devs.len(), 4);
    assert_eq!(devs.pl011s().len(), 2);
    assert_eq!(devs.pl011s()[0].irq(), Some(33));
    assert_eq!(devs.pl011s()[1].irq(), None);
    assert_eq!(name_at(&devs, 0x0900_0fff).as_deref(), Some("uart0"));
    assert_eq!(name_at(&devs, 0x0902_001f).as_deref(), Some("hole"));
    assert_eq!(name_at(&devs, 0x0902_0020), None);

    // Each answers as its model.
    let read = |addr, w| devs.handle_mmio_read(gpa(addr), w);
    assert_eq!(read(0x0900_0000 + pl011::regs::ID_LAST, AccessWidth::Dword), Ok(0xb1));
    assert_eq!(read(0x0902_0000, AccessWidth::Qword), Ok(0));
    assert_eq!(read(0x0a00_0000, AccessWidth::Qword), Ok(TEST_DEVICE_MAGIC));
    devs.handle_mmio_write(gpa(0x0901_0000), AccessWidth::Byte, u64::from(b'x'))
        .expect("tx");
    assert_eq!(
        *sink.writes.lock().expect("test lock"),
        vec![("vm1".to_string(), b"x".to_vec())]
    );
}

#[test]
fn from_config_names_the_device_it_cannot_build() {
    let sink = Arc::new(RecordingSink::default());
    let ctx = context(sink);
    let good = entry("test", EmulatedDeviceType::TestDevice, 0x0a00_0000, 0x1000);
    let cases = [
        (
            entry("gicd", EmulatedDeviceType::GicdV3, 0x0800_0000, 0x1_0000),
            DeviceConfigProblem::UnsupportedType,
            AxError::Unsupported,
        ),
        (
            entry("com1", EmulatedDeviceType::Uart16550, 0x3f8, 4),
            DeviceConfigProblem::WrongSize { expected: 8, found: 4 },
            AxError::InvalidInput,
        ),
        (
            entry("uart0", EmulatedDeviceType::Pl011, 0x0900_0000, 0x100),
            DeviceConfigProblem::WrongSize {
                expected: 0x1000,
                found: 0x100,
            },
            AxError::InvalidInput,
        ),
        (
            entry("small", EmulatedDeviceType::TestDevice, 0x0b00_0000, 0x20),
            DeviceConfigProblem::WrongSize {
                expected: 0x1000,
                found: 0x20,
            },
            AxError::InvalidInput,
        ),
        (
            entry("empty", EmulatedDeviceType::Dummy, 0x0b00_0000, 0),
            DeviceConfigProblem::InvalidRange,
            AxError::InvalidInput,
        ),
        (
            entry("wrap", EmulatedDeviceType::Dummy, usize::MAX - 0xf, 0x20),
            DeviceConfigProblem::InvalidRange,
            AxError::InvalidInput,
        ),
        (
            entry("clash", EmulatedDeviceType::Dummy, 0x0a00_0800, 0x1000),
            DeviceConfigProblem::Overlap,
            AxError::AlreadyExists,
        ),
    ];
    for (bad, problem, ax) in cases {
        let name = bad.name.clone();
        let err = match AxVmDevices::from_config(&[good.clone(), bad], &ctx) {
            Ok(_) => panic!("{name} must be refused"),
            Err(err) => err,
        };
        assert_eq!(err.device, name);
        assert_eq!(err.problem, problem, "{name}");
        assert_eq!(err.ax_error(), ax, "{name}");
        assert_eq!(AxError::from(err.clone()), ax);
        let text = err.to_string();
        assert!(text.contains(&format!("`{name}`")), "{text}");
    }
}

#[test]
fn uart16550_from_config_is_the_console_uart() {
    let sink = Arc::new(RecordingSink::default());
    let ctx = context(sink.clone());
    let devices = AxVmDevices::from_config(&[entry("com1", EmulatedDeviceType::Uart16550, 0x3f8, 8)], &ctx).unwrap();
    devices
        .handle_port_write(axvcpu::Port::new(0x3f8), AccessWidth::Byte, u64::from(b'x'))
        .unwrap();
    assert!(devices.console_uart().unwrap().push_rx(b'y'));
    assert_eq!(
        devices.handle_port_read(axvcpu::Port::new(0x3f8), AccessWidth::Byte),
        Ok(u64::from(b'y'))
    );
    // A port range that passes 0xFFFF.
    assert!(AxVmDevices::from_config(&[entry("hi", EmulatedDeviceType::Uart16550, 0xfffc, 8)], &ctx).is_err());
    assert!(AxVmDevices::from_config(&[entry("hi", EmulatedDeviceType::Uart16550, 0x1_0000, 8)], &ctx).is_err());
}

#[test]
fn unsupported_type_message_says_so() {
    let ctx = context(Arc::new(RecordingSink::default()));
    let err = match AxVmDevices::from_config(
        &[entry("virtio0", EmulatedDeviceType::VirtioBlk, 0x0a00_0000, 0x200)],
        &ctx,
    ) {
        Ok(_) => panic!("virtio_blk has no model"),
        Err(err) => err,
    };
    assert_eq!(
        err.to_string(),
        "emulated device `virtio0` (virtio_blk at 0xa000000, size 0x200): \
         axdevice has no model for type virtio_blk"
    );
}

#[test]
fn pl011_output_reaches_a_prefixing_sink_line_by_line() {
    let out = Arc::new(Mutex::new(Vec::<String>::new()));
    let lines = out.clone();
    let sink = Arc::new(PrefixingSink::new(move |l: &[u8]| {
        lines
            .lock()
            .expect("test lock")
            .push(String::from_utf8_lossy(l).into_owned())
    }));
    let ctx = DeviceContext::new("guest-a", sink.clone());
    let devs = AxVmDevices::from_config(&[entry("uart0", EmulatedDeviceType::Pl011, 0x0900_0000, 0x1000)], &ctx)
        .expect("builds");
    let put = |text: &[u8]| {
        for &b in text {
            devs.handle_mmio_write(gpa(0x0900_0000), AccessWidth::Dword, u64::from(b))
                .expect("tx");
        }
    };
    put(b"hello\r\nwor");
    assert_eq!(*out.lock().expect("test lock"), ["[guest-a] hello\n"]);
    put(b"ld\n");
    assert_eq!(
        *out.lock().expect("test lock"),
        ["[guest-a] hello\n", "[guest-a] world\n"]
    );
}

/// Routing remembers the device of the last access: alternating and
/// repeated accesses, and accesses that leave the remembered device, still
/// reach the device that holds them, at the right offset, or fail as they
/// would with no history.
#[test]
fn routing_after_any_history_matches_the_layout() {
    let a = Probe::mmio("a", 0x1000, 0x1000);
    let b = Probe::mmio("b", 0x2000, 0x1000);
    let c = Probe::mmio("c", 0x8000, 0x100);
    let mut devs = AxVmDevices::new();
    for p in [&a, &b, &c] {
        devs.add_mmio_dev(p.clone()).expect("add");
    }
    let read = |addr| devs.handle_mmio_read(gpa(addr), AccessWidth::Dword);
    for round in 0..3 {
        for (addr, probe, offset) in [
            (0x1010, &a, 0x10),
            (0x1010, &a, 0x10),
            (0x2ffc, &b, 0xffc),
            (0x1000, &a, 0),
            (0x80fc, &c, 0xfc),
            (0x2000, &b, 0),
        ] {
            assert!(read(addr).is_ok(), "round {round}: {addr:#x}");
            assert_eq!(probe.last().map(|l| l.0), Some(offset), "round {round}: {addr:#x}");
        }
        // Right after an access to `a`: crossing its end, and holes.
        assert!(read(0x1ff0).is_ok());
        assert_eq!(read(0x1ffe), Err(AxError::InvalidInput));
        assert_eq!(read(0x3000), Err(AxError::NotFound));
        assert_eq!(read(0x80fe), Err(AxError::InvalidInput));
        assert_eq!(read(0x0ffe), Err(AxError::InvalidInput));
        assert_eq!(read(0x7000), Err(AxError::NotFound));
    }
}

/// A device that says it is an interrupt controller.
struct IrqChip;

impl BaseDeviceOps for IrqChip {
    fn name(&self) -> &str {
        "irqchip"
    }

    fn address_range(&self) -> DeviceRange {
        mmio(0x8000, 0x1000)
    }

    fn handle_read(&self, _: usize, _: AccessWidth) -> AxResult<u64> {
        Ok(1)
    }

    fn handle_write(&self, _: usize, _: AccessWidth, _: u64) -> AxResult {
        Ok(())
    }

    fn is_interrupt_controller(&self) -> bool {
        true
    }
}

/// The fast path does accesses to plain devices (masked as the slow path
/// masks them), and leaves to the VM: the interrupt controller's, accesses
/// nothing takes, accesses across a device's end, and other exits.
#[test]
fn fast_access_takes_plain_devices_only() {
    let probe = Probe::mmio("a", 0x1000, 0x1000);
    let mut devs = AxVmDevices::new();
    devs.add_mmio_dev(probe.clone()).expect("add");
    devs.add_mmio_dev(Arc::new(IrqChip)).expect("add");
    let read = |addr, width| AxVCpuExitReason::MmioRead {
        addr: gpa(addr),
        width,
        reg: 0,
        reg_width: AccessWidth::Qword,
        signed_ext: false,
    };
    assert_eq!(devs.fast_access(&read(0x1010, AccessWidth::Word)), Some(0xdddd));
    assert_eq!(probe.last(), Some((0x10, AccessWidth::Word, None)));
    let write = AxVCpuExitReason::MmioWrite {
        addr: gpa(0x1020),
        width: AccessWidth::Byte,
        data: 0x1ff,
    };
    assert_eq!(devs.fast_access(&write), Some(0));
    assert_eq!(probe.last(), Some((0x20, AccessWidth::Byte, Some(0xff))));
    assert_eq!(
        devs.fast_access(&read(0x8000, AccessWidth::Dword)),
        None,
        "interrupt controller"
    );
    assert_eq!(
        devs.fast_access(&read(0x3000, AccessWidth::Dword)),
        None,
        "nothing there"
    );
    assert_eq!(
        devs.fast_access(&read(0x1ffe, AccessWidth::Dword)),
        None,
        "across the end"
    );
    assert_eq!(devs.fast_access(&AxVCpuExitReason::Halt), None);
    assert_eq!(
        probe.last(),
        Some((0x20, AccessWidth::Byte, Some(0xff))),
        "none of those reached it"
    );
}

/// `fast_mmio` takes and leaves the same accesses as `fast_access` does
/// for an MMIO exit; a read's value comes back as the device answered it
/// (the vCPU masks it for the access width and extends it for its
/// register), and a write's value is masked.
#[test]
fn fast_mmio_agrees_with_fast_access_but_leaves_reads_unmasked() {
    let probe = Probe::mmio("a", 0x1000, 0x1000);
    let mut devs = AxVmDevices::new();
    devs.add_mmio_dev(probe.clone()).expect("add");
    devs.add_mmio_dev(Arc::new(IrqChip)).expect("add");
    for (addr, width) in [
        (0x1010, AccessWidth::Word),
        (0x8000, AccessWidth::Dword),
        (0x3000, AccessWidth::Dword),
        (0x1ffe, AccessWidth::Dword),
    ] {
        let exit = AxVCpuExitReason::MmioRead {
            addr: gpa(addr),
            width,
            reg: 0,
            reg_width: AccessWidth::Qword,
            signed_ext: false,
        };
        let fast = devs.fast_mmio(gpa(addr), width, None);
        assert_eq!(fast.map(|v| v & width.mask()), devs.fast_access(&exit), "{addr:#x}");
    }
    assert_eq!(devs.fast_mmio(gpa(0x1010), AccessWidth::Word, None), Some(PROBE_VALUE));
    assert_eq!(devs.fast_mmio(gpa(0x1020), AccessWidth::Byte, Some(0x1ff)), Some(0));
    assert_eq!(probe.last(), Some((0x20, AccessWidth::Byte, Some(0xff))));
}
