//! The small value types of the schema: VM type, image location, interrupt
//! mode, console mode and the memory region flags and mapping types.
//!
//! Each type that can be written as a name in TOML has `from_name` and `name`;
//! each that can be written as a number (AxVisor's positional configs) has
//! `from_number` and `number`.

use core::fmt;

/// The kind of guest a VM runs. Written as a number (AxVisor's `vm_type`) or a name.
///
/// | number | name      | variant      |
/// |--------|-----------|--------------|
/// | 0      | `"host"`  | [`HostVM`](VMType::HostVM)   |
/// | 1      | `"rtos"`  | [`RTOS`](VMType::RTOS) (default) |
/// | 2      | `"linux"` | [`Linux`](VMType::Linux)     |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "bake", derive(databake::Bake), databake(path = axvmconfig))]
pub enum VMType {
    /// The host itself, booted from a running Linux the way Jailhouse does ("type 1.5").
    HostVM = 0,
    /// A simple guest (an RTOS, a bare-metal test program) with most resources passed through.
    #[default]
    RTOS = 1,
    /// A full-featured guest such as Linux, which needs more device emulation.
    Linux = 2,
}

impl VMType {
    /// The names accepted in TOML, for error messages.
    pub const NAMES: &'static str = "\"host\" (0), \"rtos\" (1), \"linux\" (2)";

    /// The type written as `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "host" => Some(Self::HostVM),
            "rtos" => Some(Self::RTOS),
            "linux" => Some(Self::Linux),
            _ => None,
        }
    }

    /// The type numbered `number`.
    pub fn from_number(number: usize) -> Option<Self> {
        match number {
            0 => Some(Self::HostVM),
            1 => Some(Self::RTOS),
            2 => Some(Self::Linux),
            _ => None,
        }
    }

    /// The name of the type in TOML.
    pub fn name(self) -> &'static str {
        match self {
            Self::HostVM => "host",
            Self::RTOS => "rtos",
            Self::Linux => "linux",
        }
    }

    /// The number of the type.
    pub fn number(self) -> usize {
        self as usize
    }
}

impl fmt::Display for VMType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where the guest images are found at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "bake", derive(databake::Bake), databake(path = axvmconfig))]
pub enum ImageLocation {
    /// `"memory"` (default): the build embeds the image files into the hypervisor,
    /// so the paths are files on the build machine.
    #[default]
    Memory,
    /// `"fs"`: the hypervisor reads the images from its filesystem at run time,
    /// so the paths are paths on the target and the build does not check them.
    Fs,
}

impl ImageLocation {
    /// The names accepted in TOML, for error messages.
    pub const NAMES: &'static str = "\"memory\", \"fs\"";

    /// The location written as `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "memory" => Some(Self::Memory),
            "fs" => Some(Self::Fs),
            _ => None,
        }
    }

    /// The name of the location in TOML.
    pub fn name(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Fs => "fs",
        }
    }
}

impl fmt::Display for ImageLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How the VM's interrupts are delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "bake", derive(databake::Bake), databake(path = axvmconfig))]
pub enum VMInterruptMode {
    /// `"no_irq"` (also `"none"`): the guest gets no interrupts at all.
    NoIrq,
    /// `"emu"` (default, also `"emulated"`): an emulated interrupt controller
    /// (vGIC, vLAPIC) delivers virtual interrupts.
    #[default]
    Emulated,
    /// `"passthrough"` (also `"pt"`): the guest drives the physical interrupt
    /// controller for its passthrough interrupts.
    Passthrough,
}

impl VMInterruptMode {
    /// The names accepted in TOML, for error messages.
    pub const NAMES: &'static str = "\"emu\", \"passthrough\", \"no_irq\"";

    /// The mode written as `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "no_irq" | "none" => Some(Self::NoIrq),
            "emu" | "emulated" => Some(Self::Emulated),
            "passthrough" | "pt" => Some(Self::Passthrough),
            _ => None,
        }
    }

    /// The canonical name of the mode in TOML.
    pub fn name(self) -> &'static str {
        match self {
            Self::NoIrq => "no_irq",
            Self::Emulated => "emu",
            Self::Passthrough => "passthrough",
        }
    }
}

impl fmt::Display for VMInterruptMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a VM gets as its console when `devices.emu_devices` lists none
/// (`devices.console`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "bake", derive(databake::Bake), databake(path = axvmconfig))]
pub enum ConsoleMode {
    /// `"default"` (default): the platform's default emulated console
    /// ([`DEFAULT_CONSOLE`](crate::DEFAULT_CONSOLE)) is added to the VM.
    #[default]
    Default,
    /// `"none"`: no console is added; the VM has only the devices its
    /// config lists.
    None,
}

impl ConsoleMode {
    /// The names accepted in TOML, for error messages.
    pub const NAMES: &'static str = "\"default\", \"none\"";

    /// The mode written as `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "default" => Some(Self::Default),
            "none" => Some(Self::None),
            _ => None,
        }
    }

    /// The name of the mode in TOML.
    pub fn name(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::None => "none",
        }
    }
}

impl fmt::Display for ConsoleMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

bitflags::bitflags! {
    /// Access rights and attributes of a guest memory region.
    ///
    /// The bits are those of `axaddrspace::MappingFlags`, so the VM builder can
    /// convert with `MappingFlags::from_bits_truncate(flags.bits())`. In the
    /// named TOML form they are written as letters: `r`, `w`, `x`, `d`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct VmMemFlags: usize {
        /// The guest may read (`r`).
        const READ = 1 << 0;
        /// The guest may write (`w`).
        const WRITE = 1 << 1;
        /// The guest may execute (`x`).
        const EXECUTE = 1 << 2;
        /// Device memory (`d`): not RAM, mapped uncached with device ordering.
        const DEVICE = 1 << 3;
        /// Normal memory that is not cached.
        const UNCACHED = 1 << 4;
        /// Accessible from the guest's user mode (x86 only).
        const USER = 1 << 5;
    }
}

impl VmMemFlags {
    /// The letters accepted in the named form, for error messages.
    pub const LETTERS: &'static str = "r, w, x, d";

    /// The flag written as `letter` in the named form.
    pub fn from_letter(letter: char) -> Option<Self> {
        match letter {
            'r' => Some(Self::READ),
            'w' => Some(Self::WRITE),
            'x' => Some(Self::EXECUTE),
            'd' => Some(Self::DEVICE),
            _ => None,
        }
    }

    /// Whether this is guest RAM (not device memory).
    pub fn is_ram(self) -> bool {
        !self.contains(Self::DEVICE)
    }
}

/// By hand: `bitflags!` types cannot derive `Bake`. The bits as they are,
/// unknown ones included (`from_bits_retain`, a `const fn`).
#[cfg(feature = "bake")]
impl databake::Bake for VmMemFlags {
    fn bake(&self, env: &databake::CrateEnv) -> databake::TokenStream {
        env.insert("axvmconfig");
        let bits = self.bits();
        databake::quote! { axvmconfig::VmMemFlags::from_bits_retain(#bits) }
    }
}

#[cfg(feature = "bake")]
impl databake::BakeSize for VmMemFlags {
    fn borrows_size(&self) -> usize {
        0
    }
}

/// How a guest memory region gets its host memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "bake", derive(databake::Bake), databake(path = axvmconfig))]
pub enum VmMemMappingType {
    /// `"alloc"` / `0` (default): the hypervisor allocates host memory for the region.
    #[default]
    MapAlloc = 0,
    /// `"identical"` / `1`: the region maps the host physical range at the
    /// same address. RAM is taken out of the host's frame allocator for the
    /// VM's lifetime (the VM cannot be built when any of it is in use).
    MapIdentical = 1,
    /// `"reserved"` / `2`: host memory the hypervisor does not allocate
    /// from (kept back from its allocator at boot: a carve-out, memory past
    /// what it manages) mapped at the same address; neither allocated nor
    /// returned. The VM cannot be built when the range is RAM the
    /// hypervisor allocates from.
    MapReserved = 2,
}

impl VmMemMappingType {
    /// The names accepted in TOML, for error messages.
    pub const NAMES: &'static str = "\"alloc\" (0), \"identical\" (1), \"reserved\" (2)";

    /// The mapping type written as `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "alloc" => Some(Self::MapAlloc),
            "identical" => Some(Self::MapIdentical),
            "reserved" => Some(Self::MapReserved),
            _ => None,
        }
    }

    /// The mapping type numbered `number` (AxVisor's positional form).
    pub fn from_number(number: usize) -> Option<Self> {
        match number {
            0 => Some(Self::MapAlloc),
            1 => Some(Self::MapIdentical),
            2 => Some(Self::MapReserved),
            _ => None,
        }
    }

    /// The name of the mapping type in TOML.
    pub fn name(self) -> &'static str {
        match self {
            Self::MapAlloc => "alloc",
            Self::MapIdentical => "identical",
            Self::MapReserved => "reserved",
        }
    }

    /// The number of the mapping type.
    pub fn number(self) -> usize {
        self as usize
    }
}

impl fmt::Display for VmMemMappingType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_round_trip() {
        for t in [VMType::HostVM, VMType::RTOS, VMType::Linux] {
            assert_eq!(VMType::from_name(t.name()), Some(t));
            assert_eq!(VMType::from_number(t.number()), Some(t));
        }
        assert_eq!(VMType::from_number(3), None);
        for m in [
            VmMemMappingType::MapAlloc,
            VmMemMappingType::MapIdentical,
            VmMemMappingType::MapReserved,
        ] {
            assert_eq!(VmMemMappingType::from_name(m.name()), Some(m));
            assert_eq!(VmMemMappingType::from_number(m.number()), Some(m));
        }
        for m in [
            VMInterruptMode::NoIrq,
            VMInterruptMode::Emulated,
            VMInterruptMode::Passthrough,
        ] {
            assert_eq!(VMInterruptMode::from_name(m.name()), Some(m));
        }
        for l in [ImageLocation::Memory, ImageLocation::Fs] {
            assert_eq!(ImageLocation::from_name(l.name()), Some(l));
        }
        for c in [ConsoleMode::Default, ConsoleMode::None] {
            assert_eq!(ConsoleMode::from_name(c.name()), Some(c));
            assert!(ConsoleMode::NAMES.contains(c.name()));
        }
        assert_eq!(ConsoleMode::from_name("off"), None);
    }

    #[test]
    fn flag_bits_match_axaddrspace() {
        assert_eq!(VmMemFlags::READ.bits(), 0x1);
        assert_eq!(VmMemFlags::WRITE.bits(), 0x2);
        assert_eq!(VmMemFlags::EXECUTE.bits(), 0x4);
        assert_eq!(VmMemFlags::DEVICE.bits(), 0x8);
        assert_eq!(VmMemFlags::UNCACHED.bits(), 0x10);
        assert_eq!(VmMemFlags::USER.bits(), 0x20);
        assert!(!VmMemFlags::DEVICE.is_ram());
        assert!((VmMemFlags::READ | VmMemFlags::UNCACHED).is_ram());
    }
}

/// How an x86 VM's boot vCPU starts at `kernel.entry_point`
/// (`kernel.entry_mode`; an aarch64 VM always starts at EL1 with the MMU
/// off).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "bake", derive(databake::Bake), databake(path = axvmconfig))]
pub enum EntryMode {
    /// `"protected32"` (default): 32-bit protected mode, flat segments,
    /// paging off (the Linux 32-bit and Multiboot boot protocols).
    #[default]
    Protected32,
    /// `"real"`: real mode, as a CPU out of reset; the entry must be below
    /// 1 MiB.
    Real,
}

impl EntryMode {
    /// The names accepted in TOML, for error messages.
    pub const NAMES: &'static str = "\"protected32\", \"real\"";

    /// The mode written as `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "protected32" => Some(Self::Protected32),
            "real" => Some(Self::Real),
            _ => None,
        }
    }

    /// The name of the mode in TOML.
    pub fn name(self) -> &'static str {
        match self {
            Self::Protected32 => "protected32",
            Self::Real => "real",
        }
    }
}
