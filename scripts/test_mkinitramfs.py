#!/usr/bin/env python3
"""Tests of scripts/mkinitramfs.py on synthetic input (no Debian package):

    python3 scripts/test_mkinitramfs.py
"""

import contextlib
import gzip
import io
import os
import stat
import struct
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mkinitramfs as m  # noqa: E402

ELF_HEADER_SIZE = 64
PHDR_SIZE = 56
BASE = 0x40_0000


def fake_elf(interp=None, needed=(), runpath=None, payload=b""):
    """A little-endian ELF64 file with PT_LOAD (the whole file), PT_INTERP and
    PT_DYNAMIC (DT_NEEDED, DT_RUNPATH, DT_STRTAB, DT_STRSZ), as a linker
    would lay them out, followed by `payload`."""
    strtab = bytearray(b"\0")

    def add(s):
        at = len(strtab)
        strtab.extend(s.encode() + b"\0")
        return at

    dyn = [(m.DT_NEEDED, add(n)) for n in needed]
    if runpath:
        dyn.append((m.DT_RUNPATH, add(runpath)))
    phnum = 3 if interp else 2
    interp_bytes = interp.encode() + b"\0" if interp else b""
    interp_off = ELF_HEADER_SIZE + phnum * PHDR_SIZE
    strtab_off = interp_off + len(interp_bytes)
    dyn += [(m.DT_STRTAB, BASE + strtab_off), (m.DT_STRSZ, len(strtab)), (m.DT_NULL, 0)]
    dyn_off = strtab_off + len(strtab)
    dyn_bytes = b"".join(struct.pack("<qQ", t, v) for t, v in dyn)
    size = dyn_off + len(dyn_bytes) + len(payload)

    def phdr(p_type, offset, filesz):
        return struct.pack("<IIQQQQQQ", p_type, 4, offset, BASE + offset, BASE + offset, filesz, filesz, 8)

    phdrs = phdr(m.PT_LOAD, 0, size)
    if interp:
        phdrs += phdr(m.PT_INTERP, interp_off, len(interp_bytes))
    phdrs += phdr(m.PT_DYNAMIC, dyn_off, len(dyn_bytes))
    ident = b"\x7fELF" + bytes([2, 1, 1]) + b"\0" * 9
    header = ident + struct.pack(
        "<HHIQQQIHHHHHH", 3, 0xB7, 1, BASE, ELF_HEADER_SIZE, 0, 0, ELF_HEADER_SIZE, PHDR_SIZE, phnum, 0, 0, 0
    )
    return header + phdrs + interp_bytes + bytes(strtab) + dyn_bytes + payload


# busybox's applet name table: NUL-separated names.
APPLET_TABLE = b"\0[\0cat\0echo\0grep\0init\0mount\0poweroff\0sh\0sleep\0umount\0uname\0"


def synthetic_initrd():
    """A d-i-like input: busybox needing libc (through a symlink) and the
    loader (through a symlink in lib/), libc needing a library found by
    DT_RUNPATH, and files that must not be copied."""
    libdir = "lib/aarch64-linux-gnu"
    return [
        m.directory("bin"),
        m.directory("lib"),
        m.directory(libdir),
        m.directory("opt"),
        m.directory("opt/lib"),
        m.regular(
            "bin/busybox",
            fake_elf("/lib/ld-test.so.1", ["libc.so.6"], payload=APPLET_TABLE),
            0o755,
        ),
        m.symlink("bin/sh", "busybox"),
        m.regular("bin/other", fake_elf("/lib/ld-test.so.1", ["libunused.so.1"]), 0o755),
        m.symlink("lib/ld-test.so.1", "aarch64-linux-gnu/ld-test.so.1"),
        m.regular(f"{libdir}/ld-test.so.1", fake_elf(None, []), 0o755),
        m.symlink(f"{libdir}/libc.so.6", "libc-2.36.so"),
        m.regular(f"{libdir}/libc-2.36.so", fake_elf(None, ["ld-test.so.1", "libextra.so.2"], "/opt/lib")),
        m.regular("opt/lib/libextra.so.2", fake_elf(None, [])),
        m.regular(f"{libdir}/libunused.so.1", fake_elf(None, [])),
        m.regular("init", b"#!/bin/sh\necho d-i\n", 0o755),
        m.regular("etc/inittab", b"d-i's\n"),
    ]


def entries_of(blob):
    return m.read_cpio(gzip.decompress(blob))


class CpioTest(unittest.TestCase):
    def test_round_trip_keeps_modes_devices_links_and_data(self):
        entries = [
            m.directory("d", 0o1777),
            m.regular("d/odd", b"abc", 0o640),
            m.regular("d/empty", b""),
            m.symlink("d/link", "../target/x"),
            m.chardev("d/tty", 4, 64, 0o620),
        ]
        back = m.read_cpio(m.write_cpio(entries))
        self.assertEqual(sorted(back), ["d", "d/empty", "d/link", "d/odd", "d/tty"])
        for e in entries:
            self.assertEqual(back[e.name], e)

    def test_output_is_sorted_with_parents_first_and_padded(self):
        blob = m.write_cpio([m.regular("a/b", b"12345"), m.directory("a"), m.regular("a-z", b"")])
        self.assertEqual(len(blob) % 4, 0)
        names = []
        off = 0
        while off < len(blob):
            namesize = int(blob[off + 94:off + 102], 16)
            size = int(blob[off + 54:off + 62], 16)
            self.assertEqual(int(blob[off + 46:off + 54], 16), 0, "mtime")
            self.assertEqual(blob[off + 22:off + 38], b"0" * 16, "uid and gid")
            names.append(blob[off + 110:off + 110 + namesize - 1].decode())
            off += 110 + namesize
            off += (4 - off % 4) % 4
            off += size + (4 - size % 4) % 4
        self.assertEqual(names, ["a", "a/b", "a-z", "TRAILER!!!"])

    def test_concatenated_archives_and_dot_slash_names(self):
        first = m.write_cpio([m.regular("./x", b"old"), m.regular("y", b"y")])
        second = m.write_cpio([m.regular("x", b"new")])
        back = m.read_cpio(first + b"\0" * 512 + second)
        self.assertEqual(back["x"].data, b"new")
        self.assertEqual(back["y"].data, b"y")

    def test_garbage_is_refused(self):
        with self.assertRaises(m.FormatError):
            m.read_cpio(b"not a cpio archive")
        with self.assertRaises(m.FormatError):
            m.read_cpio(m.write_cpio([m.regular("x", b"data")])[:120])

    def test_gzip_is_deterministic(self):
        self.assertEqual(m.gzip_bytes(b"x" * 1000), m.gzip_bytes(b"x" * 1000))


class ElfTest(unittest.TestCase):
    def test_interpreter_needed_and_runpath(self):
        elf = fake_elf("/lib/ld.so", ["liba.so", "libb.so.3"], "/opt/lib:/x")
        self.assertEqual(m.elf_dependencies(elf), ("/lib/ld.so", ["liba.so", "libb.so.3"], ["/opt/lib", "/x"]))

    def test_static_library_without_interpreter(self):
        self.assertEqual(m.elf_dependencies(fake_elf(None, [])), (None, [], []))

    def test_not_elf(self):
        with self.assertRaises(m.FormatError):
            m.elf_dependencies(b"#!/bin/sh\n" + b"\0" * 100)


class BuildTest(unittest.TestCase):
    def build(self, entries):
        self.stderr = io.StringIO()
        with contextlib.redirect_stderr(self.stderr):
            return {e.name: e for e in m.build({e.name: e for e in entries})}

    def test_busybox_its_libraries_and_the_init_system(self):
        out = self.build(synthetic_initrd())
        libdir = "lib/aarch64-linux-gnu"
        for name in ("bin/busybox", f"{libdir}/ld-test.so.1", f"{libdir}/libc-2.36.so", "opt/lib/libextra.so.2"):
            self.assertTrue(out[name].is_file(), name)
        self.assertEqual(out["bin/busybox"].mode, stat.S_IFREG | 0o755)
        self.assertEqual(out["lib/ld-test.so.1"].data, b"aarch64-linux-gnu/ld-test.so.1")
        self.assertEqual(out[f"{libdir}/libc.so.6"].data, b"libc-2.36.so")
        for absent in ("bin/other", f"{libdir}/libunused.so.1"):
            self.assertNotIn(absent, out)
        # init is busybox's, not the input's.
        self.assertTrue(out["init"].is_symlink())
        self.assertEqual(out["init"].data, b"bin/busybox")
        self.assertEqual(out["sbin/init"].data, b"../bin/busybox")
        for applet in ("sh", "mount", "poweroff", "grep"):
            self.assertEqual(out[f"bin/{applet}"].mode, stat.S_IFLNK | 0o777)
            self.assertEqual(out[f"bin/{applet}"].data, b"busybox")
        self.assertNotIn("bin/ls", out, "not an applet of this busybox")
        self.assertIn("no ls applet", self.stderr.getvalue())
        console, null = out["dev/console"], out["dev/null"]
        self.assertTrue(stat.S_ISCHR(console.mode) and stat.S_ISCHR(null.mode))
        self.assertEqual((console.rdevmajor, console.rdevminor), (5, 1))
        self.assertEqual((null.rdevmajor, null.rdevminor), (1, 3))
        inittab = out["etc/inittab"].data.decode()
        self.assertIn("::sysinit:/etc/init.d/rcS\n", inittab)
        self.assertIn("::respawn:-/bin/sh\n", inittab)
        self.assertNotIn("askfirst", inittab)
        self.assertEqual(out["etc/init.d/rcS"].mode, stat.S_IFREG | 0o755)
        self.assertIn("CPUs online", out["etc/init.d/rcS"].data.decode())
        self.assertIn("PS1='hv-linux# '", out["etc/profile"].data.decode())
        for d in ("proc", "sys", "dev", "tmp", "root", "etc/init.d", "opt", "opt/lib"):
            self.assertTrue(out[d].is_dir(), d)
        self.assertEqual(stat.S_IMODE(out["tmp"].mode), 0o1777)
        # Every entry's parent directory is in the archive.
        for name in out:
            parent = os.path.dirname(name)
            self.assertTrue(parent == "" or out[parent].is_dir(), name)

    def test_missing_library_or_busybox_is_an_error(self):
        no_libc = [e for e in synthetic_initrd() if e.name != "lib/aarch64-linux-gnu/libc-2.36.so"]
        with self.assertRaisesRegex(m.FormatError, "libc.so.6"):
            self.build(no_libc)
        with self.assertRaisesRegex(m.FormatError, "bin/busybox"):
            self.build([e for e in synthetic_initrd() if e.name != "bin/busybox"])

    def test_command_line_output_is_deterministic_and_readable(self):
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mkinitramfs.py")
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "initrd.gz")
            with open(src, "wb") as f:
                f.write(gzip.compress(m.write_cpio(synthetic_initrd())))
            blobs = []
            for i in range(2):
                dst = os.path.join(tmp, f"out{i}.cpio.gz")
                run = subprocess.run([sys.executable, script, src, dst], capture_output=True, text=True, check=True)
                self.assertIn("bytes", run.stdout)
                with open(dst, "rb") as f:
                    blobs.append(f.read())
            self.assertEqual(blobs[0], blobs[1])
            self.assertEqual(entries_of(blobs[0])["init"].data, b"bin/busybox")
            bad = subprocess.run([sys.executable, script, script, os.path.join(tmp, "x")], capture_output=True, text=True)
            self.assertEqual(bad.returncode, 1)
            self.assertIn("mkinitramfs:", bad.stderr)


if __name__ == "__main__":
    unittest.main()
