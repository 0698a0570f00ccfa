#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Debian package as built by scripts/package: lintian reports no error or warning
# (overrides are explained in packaging/debian/usb-backup-copier.lintian-overrides), the
# files are where Debian 12's udev and systemd look for them, the configuration is a
# root-only conffile, and the maintainer scripts reload udev and systemd without
# triggering disks that are plugged in, and the Veeam job scripts are where their README
# says. (The unit itself is checked by systemd-analyze in the VM test, on the installed
# system.)
set -euo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.bash
. "$E2E_DIR/lib/common.bash"

e2e_check_env
e2e_require_tool dpkg-buildpackage dpkg-dev debhelper
e2e_require_tool lintian lintian

deb=$(e2e_build_deb)
changes=$(compgen -G "$(dirname "$deb")/usb-backup-copier_*.changes" | head -n1)
[ -n "$changes" ] || e2e_fail "scripts/package left no .changes next to $deb"

failures=0
check() {
  local what=$1
  shift
  if "$@"; then
    echo "ok - $what"
  else
    echo "not ok - $what"
    failures=$((failures + 1))
  fi
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$deb" "$work/root"
dpkg-deb -e "$deb" "$work/control"
mode() { stat -c %a "$work/root/$1"; }
has() { test -f "$work/root/$1"; }

# lintian exits non-zero on an error; warnings are counted here.
lintian_clean() {
  lintian --display-level '>=warning' "$changes" >"$work/lintian.txt" 2>&1 || true
  cat "$work/lintian.txt"
  ! grep -Eq '^[EW]: ' "$work/lintian.txt"
}
check "lintian reports no error or warning" lintian_clean

check "udev rule in /lib/udev/rules.d" has lib/udev/rules.d/90-usb-backup-copier.rules
check "unit in /lib/systemd/system" has "lib/systemd/system/usb-backup-copier@.service"
check "status page unit in /lib/systemd/system" has "lib/systemd/system/usb-backup-copier-web.service"
check "stale-disk timer in /lib/systemd/system" has "lib/systemd/system/usb-backup-copier-stale.timer"
check "stale-disk service in /lib/systemd/system" has "lib/systemd/system/usb-backup-copier-stale.service"
check "depends on adduser (postinst makes the status page's user)" bash -c \
  "dpkg-deb -f '$deb' Depends | tr ',' '\n' | grep -qE '^ *adduser( |\$)'"
check "tmpfiles.d snippet" has usr/lib/tmpfiles.d/usb-backup-copier.conf
for bin in usb-backup-copier veeam-lock veeam-unlock; do
  check "$bin in /usr/sbin" test -x "$work/root/usr/sbin/$bin"
  check "$bin(8) man page" has "usr/share/man/man8/$bin.8.gz"
done
check "config.ini is a conffile" grep -qx /etc/usb-backup-copier/config.ini "$work/control/conffiles"
check "config.ini is root-only (0600)" test "$(mode etc/usb-backup-copier/config.ini)" = 600
check "config.ini is the template" cmp -s "$work/root/etc/usb-backup-copier/config.ini" \
  "$UBC_SOURCE_DIR/config.ini.template"
check "the state directory is shipped" test -d "$work/root/var/lib/usb-backup-copier"
check "depends on rsync" bash -c "dpkg-deb -f '$deb' Depends | tr ',' '\n' | grep -qE '^ *rsync( |\$)'"
check "depends on the shared libraries" bash -c "dpkg-deb -f '$deb' Depends | grep -q libudev1"
check "the binaries are hardened (PIE, RELRO, BIND_NOW)" bash -c \
  "readelf -h '$work/root/usr/sbin/usb-backup-copier' | grep -q 'DYN' &&
   readelf -l '$work/root/usr/sbin/usb-backup-copier' | grep -q GNU_RELRO &&
   readelf -d '$work/root/usr/sbin/usb-backup-copier' | grep -q 'FLAGS.*BIND_NOW'"
# The Veeam job scripts, where veeam-hooks/README.md says they are: every file of
# veeam-hooks/ but its README, unchanged, the shell scripts executable (sshd runs the
# forced command directly); the README with the package's documentation.
hooks=usr/share/usb-backup-copier/veeam-hooks
hook_files() { (cd "$1" && find . -type f ! -name README.md | sort); }
check "every Veeam hook script is in $hooks" \
  test "$(hook_files "$UBC_SOURCE_DIR/veeam-hooks")" = "$(hook_files "$work/root/$hooks")"
for file in "$UBC_SOURCE_DIR"/veeam-hooks/*; do
  name=$(basename "$file")
  [ "$name" != README.md ] || continue
  want=644
  case $name in *.sh) want=755 ;; esac
  check "$hooks/$name is mode $want" test "$(mode "$hooks/$name" 2>/dev/null)" = "$want"
  check "$hooks/$name is the source's" cmp -s "$file" "$work/root/$hooks/$name"
done
check "the hooks' README is in the documentation" has usr/share/doc/usb-backup-copier/README.veeam-hooks.md.gz
# Every installed path the READMEs and the hook scripts name is in the package.
named_paths() {
  grep -ohE '/usr/share/(usb-backup-copier|doc/usb-backup-copier)/[A-Za-z0-9._/-]*[A-Za-z0-9_/-]' \
    "$UBC_SOURCE_DIR/README.md" "$UBC_SOURCE_DIR"/veeam-hooks/* | sort -u
}
[ -n "$(named_paths)" ] || e2e_fail "the READMEs name no installed path: the check below would check nothing"
while IFS= read -r path; do
  check "$path, named in the READMEs, is in the package" test -e "$work/root$path"
done < <(named_paths)

for script in postinst postrm; do
  check "$script reloads udev rules" grep -q 'udevadm control --reload' "$work/control/$script"
  check "$script reloads systemd" grep -q 'systemctl --system daemon-reload' "$work/control/$script"
  check "$script triggers no device" bash -c "! grep -v '^[[:space:]]*#' '$work/control/$script' | grep -q 'udevadm trigger'"
done

[ "$failures" -eq 0 ] || e2e_fail "$failures package check(s) failed"
e2e_log "package checks passed"
