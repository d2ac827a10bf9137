#!/usr/bin/env python3
"""Builds the Linux guest's initramfs from Debian's installer initrd.

    scripts/mkinitramfs.py <d-i initrd.gz> <output.cpio.gz>

Takes bin/busybox from the debian-installer initrd (a gzip'd newc cpio),
with exactly the shared libraries it needs: the ELF program interpreter
(PT_INTERP) and the DT_NEEDED entries of its dynamic section, followed
transitively; symlinks inside the archive are resolved and kept. Adds a
small init system on busybox:

    /init, /sbin/init      -> busybox (its `init` applet, from the basename)
    /bin/sh, /bin/<applet> -> busybox
    /etc/inittab           rcS at sysinit, a respawned shell on the console,
                           proc and sysfs unmounted at shutdown (`poweroff` at the
                           prompt powers the machine off: PSCI SYSTEM_OFF)
    /etc/init.d/rcS        mounts proc and sysfs, prints
                           "hv-linux: N CPUs online"
    /etc/profile           PS1='hv-linux# '
    /dev/console, /dev/null device nodes (no root needed: written in the cpio)

The output is deterministic: entries sorted (parents first), mtime 0,
uid/gid 0, inode numbers in order, gzip header without name or time.
Python 3 standard library only; no cpio binary needed.
"""

import gzip
import io
import posixpath
import stat
import struct
import sys
from dataclasses import dataclass

NEWC_MAGIC = b"070701"
NEWC_CRC_MAGIC = b"070702"
NEWC_HEADER_LEN = 110
NEWC_FIELDS = 13
TRAILER = "TRAILER!!!"

# The busybox applets linked into /bin (those the binary lacks are skipped).
APPLETS = (
    "cat", "dmesg", "echo", "grep", "halt", "ls", "mkdir", "mount", "poweroff",
    "ps", "reboot", "sh", "sleep", "sync", "umount", "uname", "wc",
)

# Where the dynamic loader looks for a DT_NEEDED name without a path
# (Debian arm64 multiarch order), after DT_RPATH/DT_RUNPATH.
LIBRARY_DIRS = ("lib/aarch64-linux-gnu", "usr/lib/aarch64-linux-gnu", "lib", "usr/lib")

INITTAB = """\
# busybox init: rcS once, a shell on the console (respawned), and at
# shutdown (poweroff, reboot) what rcS mounted unmounted (the rootfs
# itself cannot be), then busybox init powers off or reboots.
::sysinit:/etc/init.d/rcS
::respawn:-/bin/sh
::shutdown:/bin/umount /sys
::shutdown:/bin/umount /proc
"""

RCS = """\
#!/bin/sh
# Runs once at boot (inittab sysinit).
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo "hv-linux: $(grep -c '^processor' /proc/cpuinfo) CPUs online"
"""

PROFILE = """\
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
export PS1='hv-linux# '
"""

# Character devices: (path, major, minor, permissions).
DEVICES = (("dev/console", 5, 1, 0o600), ("dev/null", 1, 3, 0o666))
# Empty directories: (path, permissions).
DIRECTORIES = (
    ("bin", 0o755), ("dev", 0o755), ("etc", 0o755), ("etc/init.d", 0o755), ("lib", 0o755),
    ("proc", 0o555), ("root", 0o700), ("sbin", 0o755), ("sys", 0o555), ("tmp", 0o1777),
)


class FormatError(Exception):
    """The input is not what this script understands (cpio, ELF, busybox)."""


@dataclass
class Entry:
    """One cpio entry. `data` is a symlink's target for symlinks."""

    name: str
    mode: int
    data: bytes = b""
    rdevmajor: int = 0
    rdevminor: int = 0

    def is_dir(self):
        return stat.S_ISDIR(self.mode)

    def is_symlink(self):
        return stat.S_ISLNK(self.mode)

    def is_file(self):
        return stat.S_ISREG(self.mode)


def directory(name, perm=0o755):
    return Entry(name, stat.S_IFDIR | perm)


def regular(name, data, perm=0o644):
    return Entry(name, stat.S_IFREG | perm, data)


def symlink(name, target):
    return Entry(name, stat.S_IFLNK | 0o777, target.encode())


def chardev(name, major, minor, perm=0o600):
    return Entry(name, stat.S_IFCHR | perm, b"", major, minor)


def _pad4(n):
    return (4 - n % 4) % 4


# ---------------------------------------------------------------- cpio (newc)


def read_cpio(blob):
    """Parses newc archives (several may be concatenated, with zero padding
    between them) into a dict name -> Entry; a later entry replaces an
    earlier one, as when the kernel unpacks them. "./" prefixes are dropped."""
    entries = {}
    off = 0
    while off < len(blob):
        if blob[off] == 0:
            off += 1
            continue
        magic = blob[off:off + 6]
        if magic not in (NEWC_MAGIC, NEWC_CRC_MAGIC):
            raise FormatError(f"no newc cpio header at offset {off}")
        header = blob[off + 6:off + NEWC_HEADER_LEN]
        if len(header) != NEWC_HEADER_LEN - 6:
            raise FormatError(f"truncated cpio header at offset {off}")
        try:
            fields = [int(header[8 * i:8 * i + 8], 16) for i in range(NEWC_FIELDS)]
        except ValueError:
            raise FormatError(f"bad cpio header at offset {off}") from None
        _ino, mode, _uid, _gid, _nlink, _mtime, size, _maj, _min, rmaj, rmin, namesize, _check = fields
        name_start = off + NEWC_HEADER_LEN
        raw_name = blob[name_start:name_start + namesize]
        if namesize == 0 or len(raw_name) != namesize or raw_name[-1] != 0:
            raise FormatError(f"bad cpio name at offset {off}")
        name = raw_name[:-1].decode("utf-8", "surrogateescape")
        data_start = name_start + namesize + _pad4(NEWC_HEADER_LEN + namesize)
        data = blob[data_start:data_start + size]
        if len(data) != size:
            raise FormatError(f"truncated cpio data of {name!r}")
        off = data_start + size + _pad4(size)
        if name == TRAILER:
            continue
        name = posixpath.normpath(name).lstrip("/")
        if name in (".", ""):
            continue
        if name.startswith("./"):
            name = name[2:]
        entries[name] = Entry(name, mode, data, rmaj, rmin)
    return entries


def _sort_key(entry):
    # Component-wise, so a directory comes before everything in it.
    return entry.name.split("/")


def write_cpio(entries):
    """The newc archive of `entries` (sorted, parents first), with a trailer.
    Every entry has uid/gid 0, mtime 0, nlink 1 (2 for directories) and its
    own inode number."""
    out = io.BytesIO()

    def emit(ino, entry):
        name = entry.name.encode("utf-8", "surrogateescape") + b"\0"
        nlink = 2 if entry.is_dir() else 1
        fields = (ino, entry.mode, 0, 0, nlink, 0, len(entry.data), 0, 0,
                  entry.rdevmajor, entry.rdevminor, len(name), 0)
        out.write(NEWC_MAGIC + b"".join(b"%08X" % f for f in fields))
        out.write(name + b"\0" * _pad4(NEWC_HEADER_LEN + len(name)))
        out.write(entry.data + b"\0" * _pad4(len(entry.data)))

    names = set()
    for ino, entry in enumerate(sorted(entries, key=_sort_key), start=1):
        if entry.name in names:
            raise FormatError(f"two entries named {entry.name!r}")
        names.add(entry.name)
        emit(ino, entry)
    emit(0, Entry(TRAILER, 0))
    return out.getvalue()


def gzip_bytes(data):
    """Deterministic gzip: no file name, mtime 0."""
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=9, mtime=0) as f:
        f.write(data)
    return out.getvalue()


# ------------------------------------------------------------------------ ELF

PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
DT_NULL, DT_NEEDED, DT_STRTAB, DT_STRSZ, DT_RPATH, DT_RUNPATH = 0, 1, 5, 10, 15, 29


def elf_dependencies(data):
    """(interpreter or None, [DT_NEEDED names], [DT_RPATH/DT_RUNPATH dirs]) of
    an ELF file, read from its program headers and dynamic section."""
    if data[:4] != b"\x7fELF" or len(data) < 64:
        raise FormatError("not an ELF file")
    elf_class, endian = data[4], data[5]
    if elf_class not in (1, 2) or endian not in (1, 2):
        raise FormatError("unknown ELF class or byte order")
    e = "<" if endian == 1 else ">"
    is64 = elf_class == 2
    word = "Q" if is64 else "I"
    if is64:
        phoff, = struct.unpack_from(e + "Q", data, 32)
        phentsize, phnum = struct.unpack_from(e + "HH", data, 54)
    else:
        phoff, = struct.unpack_from(e + "I", data, 28)
        phentsize, phnum = struct.unpack_from(e + "HH", data, 42)

    def phdr(i):
        at = phoff + i * phentsize
        if at + phentsize > len(data):
            raise FormatError("program header table past the end of the file")
        if is64:
            p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz = struct.unpack_from(e + "IIQQQQ", data, at)
        else:
            p_type, p_offset, p_vaddr, _paddr, p_filesz = struct.unpack_from(e + "IIIII", data, at)
        return p_type, p_offset, p_vaddr, p_filesz

    headers = [phdr(i) for i in range(phnum)]
    loads = [(vaddr, offset, size) for t, offset, vaddr, size in headers if t == PT_LOAD]

    def file_offset(vaddr):
        for base, offset, size in loads:
            if base <= vaddr < base + size:
                return offset + vaddr - base
        raise FormatError(f"address {vaddr:#x} is in no PT_LOAD segment")

    def cstring(table, at):
        end = data.find(b"\0", table + at)
        if end < 0:
            raise FormatError("unterminated string")
        return data[table + at:end].decode()

    interp = None
    needed, paths = [], []
    for t, offset, _vaddr, size in headers:
        if t == PT_INTERP:
            interp = data[offset:offset + size].rstrip(b"\0").decode()
        elif t == PT_DYNAMIC:
            dyn = []
            step = struct.calcsize(e + word + word)
            for at in range(offset, offset + size - step + 1, step):
                tag, val = struct.unpack_from(e + word + word, data, at)
                if tag == DT_NULL:
                    break
                dyn.append((tag, val))
            strtab = [v for tag, v in dyn if tag == DT_STRTAB]
            if not strtab:
                raise FormatError("dynamic section without DT_STRTAB")
            table = file_offset(strtab[0])
            for tag, val in dyn:
                if tag == DT_NEEDED:
                    needed.append(cstring(table, val))
                elif tag in (DT_RPATH, DT_RUNPATH):
                    paths.extend(p for p in cstring(table, val).split(":") if p)
    return interp, needed, paths


# ----------------------------------------------------------- the new archive


class Archive:
    """The input archive's entries, with symlink resolution."""

    MAX_LINKS = 40

    def __init__(self, entries):
        self.entries = entries

    def resolve(self, path):
        """The chain of entries met resolving `path` (symlinks, in every
        component, followed inside the archive), ending at a non-symlink
        entry; None when it leads nowhere."""
        chain = []
        parts = posixpath.normpath(path).lstrip("/").split("/")
        done = []
        hops = 0
        while parts:
            part = parts.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if done:
                    done.pop()
                continue
            current = "/".join(done + [part])
            entry = self.entries.get(current)
            if entry is None:
                return None
            if entry.is_symlink():
                hops += 1
                if hops > self.MAX_LINKS:
                    raise FormatError(f"symlink loop at {current}")
                chain.append(entry)
                target = entry.data.decode()
                if target.startswith("/"):
                    done = []
                parts = target.split("/") + parts
                continue
            done.append(part)
            if parts and not entry.is_dir():
                return None
        final = self.entries.get("/".join(done))
        if final is None:
            return None
        chain.append(final)
        return chain

    def find_library(self, name, paths):
        if "/" in name:
            return self.resolve(name)
        for folder in [p.lstrip("/") for p in paths] + list(LIBRARY_DIRS):
            chain = self.resolve(posixpath.join(folder, name))
            if chain is not None and chain[-1].is_file():
                return chain
        return None


def busybox_with_libraries(archive):
    """bin/busybox and the entries (files and symlinks) of every library it
    loads, followed transitively."""
    chain = archive.resolve("bin/busybox")
    if chain is None or not chain[-1].is_file():
        raise FormatError("the input has no bin/busybox")
    keep = {e.name: e for e in chain}
    todo = [chain[-1]]
    seen = set()
    while todo:
        elf = todo.pop()
        if elf.name in seen:
            continue
        seen.add(elf.name)
        interp, needed, paths = elf_dependencies(elf.data)
        wanted = ([interp] if interp else []) + needed
        for lib in wanted:
            found = archive.find_library(lib, paths)
            if found is None or not found[-1].is_file():
                raise FormatError(f"{elf.name} needs {lib}, which the input does not have")
            for e in found:
                keep[e.name] = e
            todo.append(found[-1])
    return list(keep.values())


def has_applet(busybox, name):
    """Whether busybox's applet name table (NUL-separated names) lists `name`."""
    return b"\0" + name.encode() + b"\0" in busybox


def build(entries):
    """The new archive's entries from the input archive's."""
    archive = Archive(entries)
    out = {}

    def add(entry):
        out[entry.name] = entry

    for e in busybox_with_libraries(archive):
        add(Entry(e.name, e.mode, e.data))
    busybox = archive.resolve("bin/busybox")[-1].data
    if not has_applet(busybox, "init") or not has_applet(busybox, "sh"):
        raise FormatError("bin/busybox has no init or sh applet")
    for name, perm in DIRECTORIES:
        add(directory(name, perm))
    for applet in APPLETS:
        if has_applet(busybox, applet):
            add(symlink(f"bin/{applet}", "busybox"))
        else:
            print(f"mkinitramfs: busybox has no {applet} applet, skipped", file=sys.stderr)
    # The kernel runs /init; busybox picks the applet from argv[0]'s basename.
    add(symlink("init", "bin/busybox"))
    add(symlink("sbin/init", "../bin/busybox"))
    add(regular("etc/inittab", INITTAB.encode()))
    add(regular("etc/init.d/rcS", RCS.encode(), 0o755))
    add(regular("etc/profile", PROFILE.encode()))
    for name, major, minor, perm in DEVICES:
        add(chardev(name, major, minor, perm))
    # Every parent directory, so the kernel can create each entry.
    for name in list(out):
        parent = posixpath.dirname(name)
        while parent and parent not in out:
            add(directory(parent))
            parent = posixpath.dirname(parent)
    return list(out.values())


def main(argv):
    if len(argv) != 3:
        print(f"usage: {argv[0]} <d-i initrd.gz> <output.cpio.gz>", file=sys.stderr)
        return 2
    src, dst = argv[1], argv[2]
    try:
        with gzip.open(src, "rb") as f:
            entries = read_cpio(f.read())
        blob = gzip_bytes(write_cpio(build(entries)))
    except (OSError, EOFError, FormatError) as e:
        print(f"mkinitramfs: {src}: {e}", file=sys.stderr)
        return 1
    with open(dst, "wb") as f:
        f.write(blob)
    print(f"mkinitramfs: {dst} ({len(blob)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
