# SPDX-License-Identifier: MIT
# The Debian 12 guest of the VM test (sourced). The base image is cached in E2E_CACHE,
# keyed on its package list and on the files that shape it; each run lays an overlay on
# it, installs the freshly built .deb there and makes the root filesystem image from that,
# so the cache never sees the package.
#
# Needs: common.bash, E2E_DIR (tests/e2e), E2E_CACHE, and e2e_register_mount from the
# caller, whose EXIT trap unmounts what was registered.

E2E_SUITE=bookworm
# dbus: without it logind (the copier's inhibitor lock) does not run.
E2E_BASE_PACKAGES=(systemd-sysv udev dbus kmod util-linux mount e2fsprogs rsync
  linux-image-amd64 initramfs-tools python3-aiosmtpd sqlite3 procps cryptsetup-bin)
# The repository the copier mirrors: big files, so that a disk can be pulled out while
# rsync is busy, plus a few small ones.
E2E_SOURCE_BIG_FILES=3
E2E_SOURCE_BIG_MIB=64

# The packages that satisfy the .deb's Depends (first alternative, no versions).
# debootstrap cannot resolve virtual packages (libspdlog1.10-fmt9 is one), so those are
# replaced by what provides them, as this machine's apt sees it.
e2e_deb_depends() {
  local name provider
  dpkg-deb -f "$1" Depends Pre-Depends | sed -e 's/^[A-Za-z-]*: //' | tr ',' '\n' |
    sed -e 's/|.*//' -e 's/(.*)//' -e 's/:any//' -e 's/[[:space:]]//g' -e '/^$/d' |
    while read -r name; do
      # (grep without -q: with pipefail, apt-cache must not die of SIGPIPE)
      if apt-cache show --no-all-versions "$name" 2>/dev/null | grep '^Package: ' >/dev/null; then
        printf '%s\n' "$name"
        continue
      fi
      provider=$(apt-cache showpkg "$name" 2>/dev/null |
        sed -n '/^Reverse Provides:/,$p' | awk 'NR == 2 { print $1 }')
      [ -n "$provider" ] || e2e_fail "no package provides '$name', which the .deb depends on"
      printf '%s\n' "$provider"
    done
}

# The archive this machine installs from, for the guest's suite.
e2e_mirror() {
  local mirror
  mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Created-By: Packages' \
    2>/dev/null | awk -v suite="$E2E_SUITE" '$2 == suite { print $1; exit }')
  [ -n "$mirror" ] ||
    e2e_fail "no '$E2E_SUITE' source in /etc/apt/sources.list*: the guest image needs a Debian mirror"
  printf '%s\n' "$mirror"
}

# Unmounts everything mounted at or below PATH, deepest first.
e2e_umount_under() {
  local path=$1 target
  findmnt -rn -o TARGET | awk -v p="$path" '$0 == p || index($0, p "/") == 1' | sort -r |
    while read -r target; do umount -l "$target" || true; done
}

e2e_image_key() {
  {
    printf '%s\n' "$@" | sort -u
    cat "${BASH_SOURCE[0]}" "$E2E_DIR/guest/e2e-smtp.service"
  } | sha256sum | cut -c1-16
}

# e2e_build_image DIR PACKAGE... : debootstrap, small initrd, guest settings, source disk.
e2e_build_image() {
  local dir=$1
  shift
  local root=$dir/root mirror include log=$E2E_CACHE/build.log
  mirror=$(e2e_mirror)
  include=$(IFS=,; printf '%s' "$*")
  e2e_log "building the guest image: debootstrap $E2E_SUITE from $mirror (log in $log)"
  if ! debootstrap --variant=minbase --include="$include" "$E2E_SUITE" "$root" "$mirror" \
    >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    e2e_fail "debootstrap failed; see $log"
  fi

  # The kernel boots from outside the image; its initrd only has to find /dev/vda.
  printf 'MODULES=list\n' >"$root/etc/initramfs-tools/conf.d/e2e.conf"
  printf '%s\n' virtio_pci virtio_blk ext4 >"$root/etc/initramfs-tools/modules"
  mount -t proc proc "$root/proc"
  e2e_register_mount "$root/proc"
  chroot "$root" update-initramfs -u -k all >>"$log" 2>&1 || e2e_fail "update-initramfs failed; see $log"
  umount "$root/proc"
  cp "$(ls "$root"/boot/vmlinuz-* | sort -V | tail -n1)" "$dir/vmlinuz"
  cp "$(ls "$root"/boot/initrd.img-* | sort -V | tail -n1)" "$dir/initrd.img"

  echo e2e-guest >"$root/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 e2e-guest\n' >"$root/etc/hosts"
  cat >"$root/etc/fstab" <<'EOF'
/dev/vda          /           ext4  rw,errors=remount-ro                  0 0
LABEL=veeam-repo  /srv/veeam  ext4  rw,nofail                             0 0
e2e               /mnt/e2e    9p    trans=virtio,version=9p2000.L,nofail  0 0
EOF
  mkdir -p "$root/srv/veeam" "$root/mnt/e2e"
  install -m 0644 "$E2E_DIR/guest/e2e-smtp.service" "$root/etc/systemd/system/"
  ln -s /etc/systemd/system/e2e-smtp.service "$root/etc/systemd/system/multi-user.target.wants/"
  # Nothing else may run in the guest while the test measures: no network, no timers.
  local unit
  for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
  done
  # A root login on the serial console, for looking into a failed run by hand.
  chroot "$root" passwd -d root >/dev/null
  rm -f "$root"/var/cache/apt/archives/*.deb

  # The repository to copy, on its own disk (mounted at /srv/veeam in the guest).
  local tree=$dir/source-tree i
  mkdir -p "$tree/Nightly Backup"
  for ((i = 1; i <= E2E_SOURCE_BIG_FILES; i++)); do
    head -c "$((E2E_SOURCE_BIG_MIB << 20))" /dev/urandom >"$tree/Nightly Backup/server-D2026-11-0${i}T220000.vib"
  done
  head -c 65536 /dev/urandom >"$tree/Nightly Backup/server.vbm"
  printf 'repository of the e2e test\n' >"$tree/README.txt"
  mkfs.ext4 -q -F -m 0 -L veeam-repo -d "$tree" "$dir/source.img" 1G
  rm -rf "$tree"
}

# e2e_ensure_image PACKAGE... : sets E2E_IMAGE to a complete cached image of these
# packages, building it (and dropping images of other keys) if there is none.
e2e_ensure_image() {
  local key lock_fd old
  key=$(e2e_image_key "$@")
  mkdir -p "$E2E_CACHE"
  E2E_IMAGE=$E2E_CACHE/$key
  exec {lock_fd}>"$E2E_CACHE/.lock"
  flock "$lock_fd"
  if [ ! -f "$E2E_IMAGE/complete" ]; then
    for old in "$E2E_CACHE"/*/; do
      old=${old%/}
      [ "$old" = "$E2E_IMAGE" ] && continue
      e2e_umount_under "$old"
      rm -rf "$old"
    done
    e2e_umount_under "$E2E_IMAGE"
    rm -rf "$E2E_IMAGE"
    mkdir -p "$E2E_IMAGE.tmp"
    e2e_build_image "$E2E_IMAGE.tmp" "$@"
    mv "$E2E_IMAGE.tmp" "$E2E_IMAGE"
    touch "$E2E_IMAGE/complete"
  else
    e2e_log "using the cached guest image $E2E_IMAGE"
  fi
  exec {lock_fd}>&-
}

# e2e_prepare_rootfs DEB RUN_DIR : overlay on the cached image, the package installed the
# way an admin would (`apt install ./...deb`, services not started in the chroot). The
# overlay stays mounted at RUN_DIR/merged for the caller to add its files; then
# e2e_finish_rootfs makes RUN_DIR/rootfs.img of it.
e2e_prepare_rootfs() {
  local deb=$1 run=$2 merged=$2/merged log=$2/apt-install.log
  mkdir -p "$run/upper" "$run/work" "$merged"
  mount -t overlay overlay \
    -o "lowerdir=$E2E_IMAGE/root,upperdir=$run/upper,workdir=$run/work" "$merged"
  e2e_register_mount "$merged"
  cp "$deb" "$merged/root/"
  printf '#!/bin/sh\nexit 101\n' >"$merged/usr/sbin/policy-rc.d"
  chmod 0755 "$merged/usr/sbin/policy-rc.d"
  mount -t proc proc "$merged/proc"
  e2e_register_mount "$merged/proc"
  if ! chroot "$merged" env DEBIAN_FRONTEND=noninteractive \
    apt install -y --no-install-recommends "/root/$(basename "$deb")" >"$log" 2>&1; then
    cat "$log" >&2
    e2e_fail "apt install of $(basename "$deb") in the guest image failed"
  fi
  umount "$merged/proc"
  rm -f "$merged/usr/sbin/policy-rc.d" "$merged/root/$(basename "$deb")"
}

e2e_finish_rootfs() {
  local run=$1
  mkfs.ext4 -q -F -L e2e-root -d "$run/merged" "$run/rootfs.img" 3G
  umount "$run/merged"
}
