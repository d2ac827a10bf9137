//! The schema: which keys each table has and how each entry is read.
//!
//! Memory regions and devices are accepted in two forms. The named form is a
//! table (`{ gpa = 0x4000_0000, size = 0x100_0000, flags = "rwx" }`, or a
//! `[[kernel.memory_regions]]` table); the positional form is AxVisor's array
//! (`[0x4000_0000, 0x100_0000, 0x7, 0]`). Both give the same normalized entry.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use toml::de::{DeTable, DeValue};

use crate::crate_config::{AxVMCrateConfig, VMBaseConfig, VMDevicesConfig, VMKernelConfig, VmMemConfig};
use crate::device::{
    EmulatedDeviceConfig, EmulatedDeviceType, PassThroughAddressConfig, PassThroughDeviceConfig, PassThroughNode,
};
use crate::error::{ConfigError, ErrorKind, syntax_error};
use crate::reader::{Reader, Table, Value};
use crate::types::{ConsoleMode, EntryMode, ImageLocation, VMInterruptMode, VMType, VmMemFlags, VmMemMappingType};

const ROOT_KEYS: &[&str] = &["base", "kernel", "devices"];
const BASE_KEYS: &[&str] = &[
    "id",
    "name",
    "vm_type",
    "cpu_num",
    "phys_cpu_ids",
    "phys_cpu_sets",
    "autostart",
];
const KERNEL_KEYS: &[&str] = &[
    "entry_point",
    "entry_mode",
    "kernel_path",
    "kernel_load_addr",
    "bios_path",
    "bios_load_addr",
    "dtb_path",
    "dtb_load_addr",
    "ramdisk_path",
    "ramdisk_load_addr",
    "image_location",
    "cmdline",
    "disk_path",
    "memory_regions",
];
const DEVICES_KEYS: &[&str] = &[
    "emu_devices",
    "passthrough_devices",
    "passthrough_addresses",
    "excluded_devices",
    "interrupt_mode",
    "console",
];

/// Parses and schema-checks a whole document.
pub(crate) fn parse_config(src: &str) -> Result<AxVMCrateConfig, Vec<ConfigError>> {
    let doc = DeTable::parse(src).map_err(|e| alloc::vec![syntax_error(src, &e)])?;
    let mut r = Reader::new(src);
    let root = Table::root(doc.get_ref());
    r.check_keys(&root, ROOT_KEYS);

    let base = r
        .required(&root, "base")
        .and_then(|v| r.table(v, root.field("base"), BASE_KEYS))
        .map(|t| parse_base(&mut r, &t))
        .unwrap_or_default();
    let kernel = r
        .required(&root, "kernel")
        .and_then(|v| r.table(v, root.field("kernel"), KERNEL_KEYS))
        .map(|t| parse_kernel(&mut r, &t))
        .unwrap_or_default();
    let devices = root
        .get("devices")
        .and_then(|v| r.table(v, root.field("devices"), DEVICES_KEYS))
        .map(|t| parse_devices(&mut r, &t))
        .unwrap_or_default();

    r.finish()?;
    Ok(AxVMCrateConfig { base, kernel, devices })
}

fn parse_base(r: &mut Reader<'_>, t: &Table<'_, '_>) -> VMBaseConfig {
    let vm_type = t
        .get("vm_type")
        .and_then(|v| {
            r.named(
                v,
                &t.field("vm_type"),
                VMType::from_name,
                Some(&VMType::from_number),
                VMType::NAMES,
            )
        })
        .unwrap_or_default();
    let mut usize_list = |key: &str| t.get(key).and_then(|v| r.usize_list(v, &t.field(key)));
    let phys_cpu_ids = usize_list("phys_cpu_ids");
    let phys_cpu_sets = usize_list("phys_cpu_sets");
    VMBaseConfig {
        id: r.req_usize(t, "id"),
        name: r.req_string(t, "name"),
        vm_type,
        cpu_num: r.req_usize(t, "cpu_num"),
        phys_cpu_ids,
        phys_cpu_sets,
        autostart: r.opt_bool(t, "autostart").unwrap_or(true),
    }
}

fn parse_kernel(r: &mut Reader<'_>, t: &Table<'_, '_>) -> VMKernelConfig {
    let image_location = t
        .get("image_location")
        .and_then(|v| {
            r.named(
                v,
                &t.field("image_location"),
                ImageLocation::from_name,
                None,
                ImageLocation::NAMES,
            )
        })
        .unwrap_or_default();
    let entry_mode = t
        .get("entry_mode")
        .and_then(|v| r.named(v, &t.field("entry_mode"), EntryMode::from_name, None, EntryMode::NAMES));
    let memory_regions = r
        .required(t, "memory_regions")
        .map(|v| parse_list(r, v, &t.field("memory_regions"), &MEM_LIST, parse_mem_region))
        .unwrap_or_default();
    VMKernelConfig {
        // Both optional here: an arm64 `Image` gives them; the checker
        // requires them for other kernels.
        entry_point: r.opt_usize(t, "entry_point"),
        entry_mode,
        kernel_path: r.req_string(t, "kernel_path"),
        kernel_load_addr: r.opt_usize(t, "kernel_load_addr"),
        bios_path: r.opt_string(t, "bios_path"),
        bios_load_addr: r.opt_usize(t, "bios_load_addr"),
        dtb_path: r.opt_string(t, "dtb_path"),
        dtb_load_addr: r.opt_usize(t, "dtb_load_addr"),
        ramdisk_path: r.opt_string(t, "ramdisk_path"),
        ramdisk_load_addr: r.opt_usize(t, "ramdisk_load_addr"),
        image_location,
        cmdline: r.opt_string(t, "cmdline"),
        disk_path: r.opt_string(t, "disk_path"),
        linux_image: false,
        memory_regions,
    }
}

fn parse_devices(r: &mut Reader<'_>, t: &Table<'_, '_>) -> VMDevicesConfig {
    let interrupt_mode = t
        .get("interrupt_mode")
        .and_then(|v| {
            r.named(
                v,
                &t.field("interrupt_mode"),
                VMInterruptMode::from_name,
                None,
                VMInterruptMode::NAMES,
            )
        })
        .unwrap_or_default();
    let console = t
        .get("console")
        .and_then(|v| r.named(v, &t.field("console"), ConsoleMode::from_name, None, ConsoleMode::NAMES))
        .unwrap_or_default();
    let emu_devices = t
        .get("emu_devices")
        .map(|v| parse_list(r, v, &t.field("emu_devices"), &EMU_LIST, parse_emu_device))
        .unwrap_or_default();
    let mut passthrough_devices = Vec::new();
    let mut passthrough_nodes = Vec::new();
    if let Some(v) = t.get("passthrough_devices") {
        let field = t.field("passthrough_devices");
        if let Some(items) = r.array(v, &field) {
            for (index, item) in items.iter().enumerate() {
                let path = format!("{field}[{index}]");
                match node_path(item) {
                    Some(node) => {
                        if let Some(p) = r.string(node, &path) {
                            passthrough_nodes.push(PassThroughNode { index, path: p });
                        }
                    }
                    None => {
                        if let Some(dev) = parse_entry(r, item, path, &PT_LIST, parse_pt_device) {
                            passthrough_devices.push(dev);
                        }
                    }
                }
            }
        }
    }
    let passthrough_addresses = t
        .get("passthrough_addresses")
        .map(|v| parse_list(r, v, &t.field("passthrough_addresses"), &PT_ADDR_LIST, parse_pt_address))
        .unwrap_or_default();
    let excluded_devices = t
        .get("excluded_devices")
        .map(|v| parse_paths(r, v, &t.field("excluded_devices")))
        .unwrap_or_default();
    VMDevicesConfig {
        emu_devices,
        passthrough_devices,
        passthrough_nodes,
        excluded_devices,
        passthrough_addresses,
        interrupt_mode,
        console,
    }
}

/// The node path of a passthrough entry that names a host device-tree
/// node: AxVisor's one-element form `["/path"]`, or the named form
/// `{ node = "/path" }`.
fn node_path<'a, 'i>(item: &'a Value<'i>) -> Option<&'a Value<'i>> {
    match item.get_ref() {
        DeValue::Array(elements) if elements.len() == 1 => elements.first(),
        DeValue::Table(entries) if entries.len() == 1 => entries
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == "node")
            .map(|(_, v)| v),
        _ => None,
    }
}

/// `excluded_devices`: node paths, each a string or, as AxVisor writes
/// them, a one-element array of a string.
fn parse_paths(r: &mut Reader<'_>, value: &Value<'_>, field: &str) -> Vec<String> {
    let Some(items) = r.array(value, field) else {
        return Vec::new();
    };
    let mut paths = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("{field}[{i}]");
        let value = match item.get_ref() {
            DeValue::Array(elements) if elements.len() == 1 => elements.first(),
            DeValue::Array(elements) => {
                r.error(
                    ErrorKind::WrongType,
                    path,
                    Some(&item.span()),
                    format!(
                        "expected a node path or [node path], found an array of {} elements",
                        elements.len()
                    ),
                );
                continue;
            }
            _ => Some(item),
        };
        if let Some(p) = value.and_then(|v| r.string(v, &path)) {
            paths.push(p);
        }
    }
    paths
}

/// How the entries of one list are written.
struct ListSchema {
    /// The keys of the named form.
    named: &'static [&'static str],
    /// The named-form key of each element of the positional form, in order.
    positional: &'static [&'static str],
    /// AxVisor's names of the positional elements, for error messages.
    positional_doc: &'static str,
    /// How many trailing positional elements may be left out.
    optional_tail: usize,
}

const MEM_LIST: ListSchema = ListSchema {
    named: &["gpa", "size", "flags", "map", "small_pages"],
    positional: &["gpa", "size", "flags", "map"],
    positional_doc: "[gpa, size, flags, map_type]",
    optional_tail: 0,
};
const EMU_LIST: ListSchema = ListSchema {
    named: &["name", "type", "gpa", "size", "irq", "cfg"],
    positional: &["name", "gpa", "size", "irq", "type", "cfg"],
    positional_doc: "[name, base_gpa, length, irq_id, emu_type, cfg_list]",
    optional_tail: 1,
};
const PT_LIST: ListSchema = ListSchema {
    named: &["name", "gpa", "hpa", "size", "irq"],
    positional: &["name", "gpa", "hpa", "size", "irq"],
    positional_doc: "[name, base_gpa, base_hpa, length, irq_id] (or [node path])",
    optional_tail: 0,
};
const PT_ADDR_LIST: ListSchema = ListSchema {
    named: &["gpa", "size"],
    positional: &["gpa", "size"],
    positional_doc: "[base_gpa, length]",
    optional_tail: 0,
};

/// One entry of a list, in either form. Fields of both forms are named by
/// their named-form key, so `kernel.memory_regions[1].size` means the same
/// value whichever form the file uses.
enum Entry<'a, 'i> {
    Named(Table<'a, 'i>),
    Positional {
        items: &'a [Value<'i>],
        order: &'static [&'static str],
        path: String,
    },
}

impl<'a, 'i> Entry<'a, 'i> {
    fn field(&self, key: &str) -> String {
        match self {
            Self::Named(t) => t.field(key),
            Self::Positional { path, .. } => format!("{path}.{key}"),
        }
    }

    /// The value of an optional key.
    fn get(&self, key: &str) -> Option<&'a Value<'i>> {
        match self {
            Self::Named(t) => t.get(key),
            Self::Positional { items, order, .. } => order.iter().position(|k| *k == key).and_then(|i| items.get(i)),
        }
    }

    /// The value of a required key; reports it if absent. (A positional entry
    /// has all its required elements: its length was checked.)
    fn required(&self, r: &mut Reader<'_>, key: &str) -> Option<&'a Value<'i>> {
        match self {
            Self::Named(t) => r.required(t, key),
            Self::Positional { .. } => self.get(key),
        }
    }

    fn req_usize(&self, r: &mut Reader<'_>, key: &str) -> usize {
        self.required(r, key)
            .and_then(|v| r.usize(v, &self.field(key)))
            .unwrap_or_default()
    }

    fn opt_usize(&self, r: &mut Reader<'_>, key: &str) -> Option<usize> {
        self.get(key).and_then(|v| r.usize(v, &self.field(key)))
    }

    fn req_string(&self, r: &mut Reader<'_>, key: &str) -> String {
        self.required(r, key)
            .and_then(|v| r.string(v, &self.field(key)))
            .unwrap_or_default()
    }
}

/// Reads an array whose entries are each a table (named form) or an array
/// (positional form), with `parse_one` reading one entry.
fn parse_list<T>(
    r: &mut Reader<'_>,
    value: &Value<'_>,
    field: &str,
    schema: &ListSchema,
    parse_one: fn(&mut Reader<'_>, &Entry<'_, '_>) -> T,
) -> Vec<T> {
    let Some(items) = r.array(value, field) else {
        return Vec::new();
    };
    let mut list = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if let Some(entry) = parse_entry(r, item, format!("{field}[{i}]"), schema, parse_one) {
            list.push(entry);
        }
    }
    list
}

/// Reads one entry of a list at `path`, in either form.
fn parse_entry<T>(
    r: &mut Reader<'_>,
    item: &Value<'_>,
    path: String,
    schema: &ListSchema,
    parse_one: fn(&mut Reader<'_>, &Entry<'_, '_>) -> T,
) -> Option<T> {
    let entry = match item.get_ref() {
        DeValue::Table(_) => Entry::Named(r.table(item, path, schema.named)?),
        DeValue::Array(elements) => {
            let max = schema.positional.len();
            let min = max - schema.optional_tail;
            if !(min..=max).contains(&elements.len()) {
                r.error(
                    ErrorKind::WrongType,
                    path,
                    Some(&item.span()),
                    format!(
                        "positional form {} has {} elements, found {}",
                        schema.positional_doc,
                        if min == max {
                            format!("{max}")
                        } else {
                            format!("{min} or {max}")
                        },
                        elements.len()
                    ),
                );
                return None;
            }
            Entry::Positional {
                items: elements,
                order: schema.positional,
                path,
            }
        }
        other => {
            r.error(
                ErrorKind::WrongType,
                path,
                Some(&item.span()),
                format!(
                    "expected a table (named form) or an array {} (positional form), found {}",
                    schema.positional_doc,
                    other.type_str()
                ),
            );
            return None;
        }
    };
    Some(parse_one(r, &entry))
}

fn parse_mem_region(r: &mut Reader<'_>, e: &Entry<'_, '_>) -> VmMemConfig {
    let flags = e
        .required(r, "flags")
        .and_then(|v| parse_flags(r, v, &e.field("flags")))
        .unwrap_or_default();
    let map_type = e
        .get("map")
        .and_then(|v| {
            r.named(
                v,
                &e.field("map"),
                VmMemMappingType::from_name,
                Some(&VmMemMappingType::from_number),
                VmMemMappingType::NAMES,
            )
        })
        .unwrap_or_default();
    let small_pages = e
        .get("small_pages")
        .and_then(|v| r.bool(v, &e.field("small_pages")))
        .unwrap_or(false);
    VmMemConfig {
        gpa: e.req_usize(r, "gpa"),
        size: e.req_usize(r, "size"),
        flags,
        map_type,
        small_pages,
    }
}

/// Memory flags: a string of letters (`"rwx"`) or the bits as a number (`0x7`).
fn parse_flags(r: &mut Reader<'_>, value: &Value<'_>, field: &str) -> Option<VmMemFlags> {
    let flags = match value.get_ref() {
        DeValue::String(letters) => {
            let mut flags = VmMemFlags::empty();
            for letter in letters.chars() {
                match VmMemFlags::from_letter(letter) {
                    Some(flag) => flags |= flag,
                    None => {
                        r.error(
                            ErrorKind::InvalidValue,
                            field,
                            Some(&value.span()),
                            format!(
                                "unknown flag letter '{letter}' in \"{letters}\" (expected {})",
                                VmMemFlags::LETTERS
                            ),
                        );
                        return None;
                    }
                }
            }
            flags
        }
        DeValue::Integer(_) => {
            let bits = r.usize(value, field)?;
            let Some(flags) = VmMemFlags::from_bits(bits) else {
                r.error(
                    ErrorKind::InvalidValue,
                    field,
                    Some(&value.span()),
                    format!(
                        "{bits:#x} has unknown flag bits {:#x} (known: READ=0x1, WRITE=0x2, \
                         EXECUTE=0x4, DEVICE=0x8, UNCACHED=0x10, USER=0x20)",
                        bits & !VmMemFlags::all().bits()
                    ),
                );
                return None;
            };
            flags
        }
        other => {
            r.error(
                ErrorKind::WrongType,
                field,
                Some(&value.span()),
                format!(
                    "expected a string of flag letters or an integer, found {}",
                    other.type_str()
                ),
            );
            return None;
        }
    };
    if flags
        .intersection(VmMemFlags::READ | VmMemFlags::WRITE | VmMemFlags::EXECUTE)
        .is_empty()
    {
        r.error(
            ErrorKind::InvalidValue,
            field,
            Some(&value.span()),
            "grants no access: give at least one of r, w, x",
        );
    }
    Some(flags)
}

fn parse_emu_device(r: &mut Reader<'_>, e: &Entry<'_, '_>) -> EmulatedDeviceConfig {
    let emu_type = e
        .required(r, "type")
        .and_then(|v| {
            r.named(
                v,
                &e.field("type"),
                EmulatedDeviceType::from_name,
                Some(&EmulatedDeviceType::from_number),
                EmulatedDeviceType::NAMES,
            )
        })
        .unwrap_or_default();
    let cfg_list = e
        .get("cfg")
        .and_then(|v| r.usize_list(v, &e.field("cfg")))
        .unwrap_or_default();
    EmulatedDeviceConfig {
        name: e.req_string(r, "name"),
        base_gpa: e.req_usize(r, "gpa"),
        length: e.req_usize(r, "size"),
        irq_id: e.opt_usize(r, "irq").unwrap_or(0),
        emu_type,
        cfg_list,
    }
}

fn parse_pt_device(r: &mut Reader<'_>, e: &Entry<'_, '_>) -> PassThroughDeviceConfig {
    let base_gpa = e.req_usize(r, "gpa");
    PassThroughDeviceConfig {
        name: e.req_string(r, "name"),
        base_gpa,
        // The named form may leave `hpa` out for an identity mapping.
        base_hpa: e.opt_usize(r, "hpa").unwrap_or(base_gpa),
        length: e.req_usize(r, "size"),
        irq_id: e.opt_usize(r, "irq").unwrap_or(0),
    }
}

fn parse_pt_address(r: &mut Reader<'_>, e: &Entry<'_, '_>) -> PassThroughAddressConfig {
    PassThroughAddressConfig {
        base_gpa: e.req_usize(r, "gpa"),
        length: e.req_usize(r, "size"),
    }
}
