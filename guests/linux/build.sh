#!/usr/bin/env bash
# Prepares the Linux guest's images from Debian's installer package
# (debian-installer-12-netboot-arm64, installed by scripts/setup.sh):
#
#   target/guests/linux/Image               the arm64 kernel, copied as it is
#   target/guests/linux/initramfs.cpio.gz   busybox and its libraries with a
#                                           small init (scripts/mkinitramfs.py)
#
#   guests/linux/build.sh [OUT_DIR]
#
# OUT_DIR defaults to target/guests/linux at the repository root; a relative
# OUT_DIR is taken from the caller's directory. Works from any directory and
# only rebuilds what is older than its inputs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/target/guests/linux}
case $out in /*) ;; *) out=$PWD/$out ;; esac

pkg=debian-installer-12-netboot-arm64
dir=/usr/lib/debian-installer/images/12/arm64/text/debian-installer/arm64
if listed=$(dpkg -L "$pkg" 2>/dev/null | grep '/text/debian-installer/arm64/linux$'); then
  dir=$(dirname "$listed")
fi
kernel=$dir/linux
initrd=$dir/initrd.gz
for f in "$kernel" "$initrd"; do
  if [ ! -f "$f" ]; then
    echo "guests/linux: $f is missing: install the package $pkg (scripts/setup.sh does)" >&2
    exit 1
  fi
done

mkdir -p "$out"
image=$out/Image
ramdisk=$out/initramfs.cpio.gz
script=$root/scripts/mkinitramfs.py

if [ ! -f "$image" ] || [ "$kernel" -nt "$image" ]; then
  cp "$kernel" "$image.tmp"
  mv "$image.tmp" "$image"
fi
if [ ! -f "$ramdisk" ] || [ "$initrd" -nt "$ramdisk" ] || [ "$script" -nt "$ramdisk" ]; then
  python3 "$script" "$initrd" "$ramdisk.tmp" >/dev/null
  mv "$ramdisk.tmp" "$ramdisk"
fi
echo "linux guest: $image ($(wc -c <"$image") bytes), $ramdisk ($(wc -c <"$ramdisk") bytes)"
