#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The installed package in a Debian 12 VM, with real USB hot-plug (QEMU TCG, xHCI, QMP):
#   1. a whitelisted disk: udev starts the unit, rsync copies with progress in
#      `systemctl status`, the disk is unmounted, the mail arrives (SMTP sink in the guest);
#      a change event and a package reinstall start no second copy;
#   2. a disk that is not whitelisted: no unit starts;
#   3. a disk pulled out mid-copy: the unit stops, the run is recorded as aborted, the lock
#      is gone; plugged in again, the copy completes;
#   4. the first disk plugged in again: a new run succeeds;
#   5. a vfat and an exFAT disk (drivers this build machine's kernel lacks) copied whole;
#   6. a sparse file over 4 GiB in the source: the vfat disk refuses it before anything is
#      written, and the mail names the file;
#   7. a blank disk made an encrypted rotation disk by `prepare-disk --encrypt`: pulled out
#      mid-copy (unit stopped, mapping gone, run recorded), copied whole through the LUKS
#      mapping (closed afterwards, no plaintext on the raw device, readable with the
#      recovery passphrase), and refused untouched with a wrong key file.
# The guest image is cached in $UBC_E2E_CACHE (default /var/cache/usb-backup-copier-e2e),
# keyed on its packages and the scripts that build it; the .deb is built from the source
# tree and installed into a per-run overlay of that image. Run logs stay in
# $UBC_BINARY_DIR/e2e-run/usb_hotplug.
set -euo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.bash
. "$E2E_DIR/lib/common.bash"
# shellcheck source=lib/image.bash
. "$E2E_DIR/lib/image.bash"

e2e_check_env
e2e_require_root
e2e_require_tool qemu-system-x86_64 qemu-system-x86
e2e_require_tool debootstrap debootstrap
e2e_require_tool dpkg-buildpackage dpkg-dev debhelper
e2e_require_tool mkfs.ext4 e2fsprogs
e2e_require_tool mkfs.vfat dosfstools
e2e_require_tool mkfs.exfat exfatprogs
e2e_require_tool blkid util-linux
e2e_require_tool sfdisk fdisk
e2e_require_tool python3 python3
[ -e /usr/share/keyrings/debian-archive-keyring.gpg ] ||
  e2e_fail "debian-archive-keyring is missing: debootstrap cannot check the archive"

E2E_CACHE=${UBC_E2E_CACHE:-/var/cache/usb-backup-copier-e2e}
# The guest's whole run (boot, seven scenarios with six full copies): about 13 minutes under
# TCG on a quiet machine, half as much again when the host is busy. Only a safety net.
E2E_GUEST_TIMEOUT=${UBC_E2E_GUEST_TIMEOUT:-1500}
run=$UBC_BINARY_DIR/e2e-run/usb_hotplug
share=$run/share

mounts=()
e2e_register_mount() { mounts+=("$1"); }
qemu_pid=
cleanup() {
  local i
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
    kill "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
  fi
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    if mountpoint -q "${mounts[i]}"; then umount "${mounts[i]}" || umount -l "${mounts[i]}" || true; fi
  done
  # The images are big and made again next run; the logs stay for a look.
  rm -rf "$run/upper" "$run/work" "$run/merged" "$run"/*.img
}
trap cleanup EXIT

e2e_umount_under "$run"
rm -rf "$run"
mkdir -p "$share/req" "$share/ack"

deb=$(e2e_build_deb)
e2e_log "package: $deb"
dpkg-deb -c "$deb" | grep 'lib/udev/rules.d/90-usb-backup-copier.rules$' >/dev/null ||
  e2e_fail "the package holds no udev rule: CMakeLists.txt must include(cmake/install.cmake)"
deps=$(e2e_deb_depends "$deb")
mapfile -t deps <<<"$deps"
e2e_ensure_image "${E2E_BASE_PACKAGES[@]}" "${deps[@]}"
e2e_prepare_rootfs "$deb" "$run"
merged=$run/merged

# make_usb_disk IMAGE UUID LABEL [FSTYPE] : a sparse disk image, GPT, one partition: ext4
# (1 GiB) unless FSTYPE is vfat or exfat (4 GiB; UUID is then the 8 hex digits of the vfat
# volume ID, or ignored: mkfs.exfat picks the serial). The caller asks blkid for the UUID.
make_usb_disk() {
  local type=linux mib=1022
  # FAT disks as Windows formats them, and as fast to read as they can be under TCG: FAT32
  # with 32 KiB clusters needs a partition of over 2 GiB.
  case ${4:-ext4} in vfat | exfat) mib=4094 type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7 ;; esac
  truncate -s "${mib}M" "$1.part"
  case ${4:-ext4} in
    ext4) mkfs.ext4 -q -F -m 0 -U "$2" -L "$3" "$1.part" ;;
    vfat) mkfs.vfat -F 32 -s 64 -i "$2" -n "$3" "$1.part" >/dev/null ;;
    exfat) mkfs.exfat -c 32K -L "$3" "$1.part" >/dev/null ;;
  esac
  truncate -s "$((mib + 2))M" "$1"
  printf 'label: gpt\nstart=2048, size=%sMiB, type=%s\n' "$mib" "$type" | sfdisk -q "$1"
  dd if="$1.part" of="$1" bs=1M seek=1 conv=notrunc,sparse status=none
  rm -f "$1.part"
}
# The filesystem UUID of the first partition of a disk image, as udev will see it.
part_uuid() { blkid -p -o value -s UUID --offset $((2048 * 512)) "$1"; }
uuid_a=$(cat /proc/sys/kernel/random/uuid)
uuid_b=$(cat /proc/sys/kernel/random/uuid)
uuid_c=$(cat /proc/sys/kernel/random/uuid)
make_usb_disk "$run/usb-a.img" "$uuid_a" E2E-A
make_usb_disk "$run/usb-b.img" "$uuid_b" E2E-B
make_usb_disk "$run/usb-c.img" "$uuid_c" E2E-C
make_usb_disk "$run/usb-vfat.img" "$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')" E2E-VFAT vfat
make_usb_disk "$run/usb-exfat.img" - E2E-EXFAT exfat
truncate -s 1G "$run/usb-l.img"  # blank: prepare-disk makes it a rotation disk in the guest
uuid_vfat=$(part_uuid "$run/usb-vfat.img")
uuid_exfat=$(part_uuid "$run/usb-exfat.img")
[ -n "$uuid_vfat" ] && [ -n "$uuid_exfat" ] || e2e_fail "blkid found no UUID on the FAT disk images"
cp "$deb" "$share/"

# The guest's test setup: the configuration an admin would write, the scenarios.
cat >"$merged/etc/usb-backup-copier/config.ini" <<EOF
[Backup]
filesystem-ids-and-notification-mail-addresses = $uuid_a, owner-a@example.org, ${uuid_c^^}, ${uuid_vfat,,}, $uuid_exfat
backup-source = /srv/veeam
backup-destination = /mnt/usb-backup
log-file-path = /var/log/usb-backup-copier.log
rsync-log-file-path = /var/log/usb-backup-copier-rsync.log
wait-for-veeam-minutes = 1
rsync-update-ratio-seconds = 2
free-space-threshold-gb = 0
source-must-be-mountpoint = yes

[Mail]
to-mail-addresses-sysop = sysop@example.org
from-mail-address = usb-backup-copier@e2e-guest.example.org
server = 127.0.0.1
port = 2525
security = none

[VEEAM]
veeam-lockfiles = /var/lib/usb-backup-copier/veeam
EOF
chmod 0600 "$merged/etc/usb-backup-copier/config.ini"
mkdir -p "$merged/mnt/usb-backup"
cat >"$merged/etc/e2e.env" <<EOF
E2E_UUID_A=$uuid_a
E2E_UUID_B=$uuid_b
E2E_UUID_C=$uuid_c
E2E_UUID_VFAT=$uuid_vfat
E2E_UUID_EXFAT=$uuid_exfat
E2E_DEB=/mnt/e2e/$(basename "$deb")
E2E_SOURCE=/srv/veeam
E2E_DEST=/mnt/usb-backup
EOF
install -m 0755 "$E2E_DIR/guest/scenarios" "$merged/usr/local/sbin/e2e-scenarios"
install -m 0644 "$E2E_DIR/guest/e2e-scenarios.service" "$merged/etc/systemd/system/"
ln -s /etc/systemd/system/e2e-scenarios.service "$merged/etc/systemd/system/multi-user.target.wants/"
e2e_finish_rootfs "$run"

e2e_log "booting the guest (QEMU TCG; serial console in $run/serial.log)"
qemu-system-x86_64 -name usb-backup-copier-e2e \
  -machine q35 -accel tcg,thread=multi -cpu max -smp 2 -m 1024 \
  -kernel "$E2E_IMAGE/vmlinuz" -initrd "$E2E_IMAGE/initrd.img" \
  -append "root=/dev/vda rw console=ttyS0 usb_storage.delay_use=0 panic=-1" \
  -drive "file=$run/rootfs.img,if=virtio,format=raw" \
  -drive "file=$E2E_IMAGE/source.img,if=virtio,format=raw,snapshot=on" \
  -device qemu-xhci,id=xhci \
  -virtfs "local,path=$share,mount_tag=e2e,security_model=none,id=e2e" \
  -nic none -display none -monitor none -no-reboot \
  -serial "file:$run/serial.log" \
  -qmp "unix:$run/qmp.sock,server=on,wait=off" &
qemu_pid=$!

driver_rc=0
python3 "$E2E_DIR/lib/vm_driver.py" --qmp "$run/qmp.sock" --share "$share" \
  --qemu-pid "$qemu_pid" --timeout "$E2E_GUEST_TIMEOUT" \
  --disk "a=$run/usb-a.img" --disk "b=$run/usb-b.img" --disk "c=$run/usb-c.img" \
  --disk "vfat=$run/usb-vfat.img" --disk "exfat=$run/usb-exfat.img" \
  --disk "l=$run/usb-l.img" || driver_rc=$?
for _ in $(seq 60); do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$qemu_pid" 2>/dev/null; then
  kill "$qemu_pid"
fi
wait "$qemu_pid" 2>/dev/null || true
qemu_pid=

cat "$share/results" 2>/dev/null || true
if [ "$driver_rc" -ne 0 ] || ! grep -q '^done ' "$share/results" 2>/dev/null; then
  e2e_log "the guest did not finish; last lines of its log and console:"
  tail -n 40 "$share/guest.log" 2>/dev/null || true
  tail -n 40 "$run/serial.log" || true
  e2e_fail "the VM run did not complete (logs in $run)"
fi
if grep -q '^not ok' "$share/results"; then
  e2e_fail "$(grep -c '^not ok' "$share/results") check(s) failed in the guest (logs in $run)"
fi
e2e_log "$(tail -n1 "$share/results")"
