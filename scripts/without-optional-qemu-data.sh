#!/usr/bin/env bash
# Runs a command with the data files of QEMU's optional packages hidden, as on
# a machine set up by scripts/setup.sh alone (which installs QEMU without its
# recommended packages). A QEMU command line that still depends on one of
# them (for example an implicit network card, which loads an option ROM from
# ipxe-qemu) then fails here as it would on a new CI machine.
#
#   scripts/without-optional-qemu-data.sh COMMAND [ARG...]
#
# The files are hidden in a private mount namespace (an empty tmpfs over each
# folder), so nothing outside the command sees a change. That needs root or
# unprivileged user namespaces; without either the command runs unchanged and
# a line says so.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 COMMAND [ARG...]" >&2
  exit 2
fi

# Where the packages that qemu-system-arm and qemu-system-x86 recommend or
# suggest keep their firmware and ROMs: ipxe-qemu (network option ROMs),
# qemu-efi-aarch64 / qemu-efi-arm (AAVMF), ovmf, and the firmware
# descriptors in /usr/share/qemu/firmware that point at them.
OPTIONAL_DIRS=(
  /usr/lib/ipxe
  /usr/share/ipxe
  /usr/share/qemu-efi-aarch64
  /usr/share/qemu-efi-arm
  /usr/share/AAVMF
  /usr/share/OVMF
  /usr/share/ovmf
  /usr/share/qemu/firmware
)

if [ "${HV_OPTIONAL_QEMU_DATA_HIDDEN:-}" = 1 ]; then
  # Inside the namespace: hide what exists, then run the command.
  hidden=()
  for d in "${OPTIONAL_DIRS[@]}"; do
    if [ -d "$d" ]; then
      mount -t tmpfs -o ro,size=4k hv-hidden "$d"
      hidden+=("$d")
    fi
  done
  echo "qemu data: optional packages' files hidden (${hidden[*]:-none were installed})"
  exec "$@"
fi

export HV_OPTIONAL_QEMU_DATA_HIDDEN=1
self=$(readlink -f "$0")
if [ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null; then
  exec unshare -m --propagation private "$self" "$@"
elif unshare -rm true 2>/dev/null; then
  exec unshare -rm --propagation private "$self" "$@"
fi
echo "qemu data: no private mount namespace here (not root, no user namespaces); running with the files visible"
unset HV_OPTIONAL_QEMU_DATA_HIDDEN
exec "$@"
