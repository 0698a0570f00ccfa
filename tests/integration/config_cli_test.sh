#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `usb-backup-copier check-config` and `match` as the admin and the udev rule run them:
# exit codes, what is printed where, and the shipped config.ini.template and the older
# script's config.ini (tests/unit/fixtures/config/older_script.ini) passing check-config
# once the directories they name exist (made in a private mount namespace, so the host is
# not touched). Needs root for that last part.
set -uo pipefail

bin="${UBC_BIN_DIR:?set UBC_BIN_DIR to the directory of usb-backup-copier}/usb-backup-copier"
src="${UBC_SOURCE_DIR:?set UBC_SOURCE_DIR to the source tree}"
[ -x "$bin" ] || { echo "FAIL: $bin is not built"; exit 1; }

tmp="$(mktemp -d /tmp/ubc-config-cli.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
failures=0
passes=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { passes=$((passes + 1)); }

# run NAME EXPECTED_EXIT ARGS...: runs the copier, keeps stdout/stderr in $tmp/NAME.{out,err}.
run() {
  local name="$1" want="$2"
  shift 2
  "$bin" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
  local got=$?
  if [ "$got" -eq "$want" ]; then pass; else
    fail "$name: exit $got, expected $want"
    sed 's/^/    out: /' "$tmp/$name.out"
    sed 's/^/    err: /' "$tmp/$name.err"
  fi
}
expect_in() {  # NAME FILE-SUFFIX TEXT
  if grep -qF -- "$3" "$tmp/$1.$2"; then pass; else fail "$1: '$3' not in std$2"; fi
}
expect_empty() {  # NAME FILE-SUFFIX
  if [ ! -s "$tmp/$1.$2" ]; then pass; else fail "$1: std$2 not empty: $(head -3 "$tmp/$1.$2")"; fi
}

mkdir -p "$tmp/source" "$tmp/mnt"
good="$tmp/good.ini"
cat >"$good" <<EOF
[Backup]
filesystem-ids-and-notification-mail-addresses = 0a1b2c3d-4e5f-6789-abcd-ef0123456789, alice@example.com,
    1A2B-3C4D
backup-source = $tmp/source
backup-destination = $tmp/mnt
[Mail]
to-mail-addresses-sysop = admin@example.com
from-mail-address = usb-backup@example.com
server = smtp.example.com
EOF
chmod 600 "$good"

# check-config: a good file gives a summary and exit 0.
run check_good 0 --config "$good" check-config
expect_in check_good out "$good: OK"
expect_in check_good out "Disks (2):"
expect_in check_good out "0a1b2c3d-4e5f-6789-abcd-ef0123456789  also mails alice@example.com"
expect_in check_good out "1a2b-3c4d"
expect_in check_good out "Mount point:  $tmp/mnt"
expect_in check_good out "Mail:         smtp.example.com:587 (starttls)"
expect_in check_good out "Run lock:     $tmp/source/.usb-backup-copier.lock"
expect_in check_good out "Restore points: 1: the disk's root mirrors the source"
expect_in check_good out "warning: require-enrollment = no"
expect_empty check_good err

# restore-points: check-config says which disks can hold them.
points="$tmp/points.ini"
sed -e 's/^backup-destination = .*/&\nrestore-points = 4/' "$good" >"$points"
chmod 600 "$points"
run check_points 0 --config "$points" check-config
expect_in check_points out "Restore points: 4 on ext4, xfs and btrfs disks; vfat, exfat and ntfs disks will mirror the source"
sed -e 's/^backup-destination = .*/&\nrestore-points = 0/' "$good" >"$points"
run check_no_points 78 --config "$points" check-config
expect_in check_no_points out "Backup.restore-points"

# check-config: with require-enrollment = yes it names the disks not enrolled yet (a record
# under state-directory/enrolled/, as `enroll` writes it), and warns about none otherwise.
enrolling="$tmp/enrolling.ini"
mkdir -p "$tmp/state/enrolled"
sed -e "s|^backup-destination = .*|&\nrequire-enrollment = yes\nstate-directory = $tmp/state|" "$good" >"$enrolling"
chmod 600 "$enrolling"
printf '{"uuid": "1a2b-3c4d", "label": "Offsite-1", "enrolled_at": 1764000000, "secret_sha256": "%s"}\n' \
  "$(printf 'a%.0s' $(seq 64))" >"$tmp/state/enrolled/1a2b-3c4d.json"
run check_enrolling 0 --config "$enrolling" check-config
expect_in check_enrolling out "Enrollment:   required; 1 of 2 disks enrolled"
expect_in check_enrolling out "warning: disk 0a1b2c3d-4e5f-6789-abcd-ef0123456789 is not enrolled and will be refused"
if grep -q "1a2b-3c4d is not enrolled" "$tmp/check_enrolling.out"; then fail "check_enrolling: the enrolled disk is named"; else pass; fi
run enroll_list 0 --config "$enrolling" enroll --list
expect_in enroll_list out "1a2b-3c4d"
expect_in enroll_list out "Offsite-1"
run enroll_usage 2 --config "$enrolling" enroll
expect_in enroll_usage err "usage: usb-backup-copier [--config PATH] enroll"
run enroll_remove_unknown 1 --config "$enrolling" enroll --remove 0a1b2c3d-4e5f-6789-abcd-ef0123456789
run enroll_remove 0 --config "$enrolling" enroll --remove 1A2B-3C4D
run check_unenrolled 0 --config "$enrolling" check-config
expect_in check_unenrolled out "Enrollment:   required; 0 of 2 disks enrolled"

# check-config: every problem as file:line: key: message on stdout, exit 78.
bad="$tmp/bad.ini"
sed -e 's/^server = .*/server = smtp.example.com\nsecurity = ssl/' \
    -e 's/^backup-destination = .*/backup-destination = relative\/mnt\nwait-for-veeam-minute = 5/' "$good" >"$bad"
run check_bad 78 --config "$bad" check-config
expect_in check_bad out "$bad:5: Backup.backup-destination: 'relative/mnt' is not an absolute path"
expect_in check_bad out "$bad:6: Backup.wait-for-veeam-minute: unknown key; did you mean 'wait-for-veeam-minutes'?"
expect_in check_bad out "$bad:11: Mail.security: 'ssl' is not a security mode"
expect_in check_bad out "3 errors; the copier refuses to start"

# The environment variable names the file when --config does not.
USB_BACKUP_COPIER_CONFIG="$bad" run check_env 78 check-config
expect_in check_env out "$bad:11: Mail.security"

run check_missing 78 --config "$tmp/absent.ini" check-config
expect_in check_missing out "$tmp/absent.ini: cannot open the configuration file: No such file or directory"

run check_args 2 --config "$good" check-config extra
expect_in check_args err "usage: usb-backup-copier [--config PATH] check-config"
expect_empty check_args out

# match: silent, 0 for a listed disk in any case, 1 otherwise.
run match_listed 0 --config "$good" match 0A1B2C3D-4E5F-6789-ABCD-EF0123456789
expect_empty match_listed out
expect_empty match_listed err
run match_fat 0 --config "$good" match 1a2b-3c4d
run match_unlisted 1 --config "$good" match 9A1B2C3D-4E5F-6789-ABCD-EF0123456789
expect_empty match_unlisted out
expect_empty match_unlisted err
# Errors elsewhere do not hide a listed disk; an unreadable config matches nothing.
run match_bad_config 0 --config "$bad" match 1A2B-3C4D
expect_empty match_bad_config out
expect_empty match_bad_config err
run match_no_config 1 --config "$tmp/absent.ini" match 1A2B-3C4D
expect_empty match_no_config err
run match_no_uuid 2 --config "$good" match
expect_in match_no_uuid err "usage: usb-backup-copier [--config PATH] match UUID"
run match_two 2 --config "$good" match 1A2B-3C4D 0123456789ABCDEF

# check_in_namespace NAME CONFIG DIR...: check-config on CONFIG in a private mount
# namespace whose /srv and /media are empty tmpfs holding only DIR... (the host is not
# touched); expects exit 0, output in $tmp/NAME.{out,err}.
check_in_namespace() {
  local name=$1 config=$2
  shift 2
  unshare --mount --propagation private bash -c '
    set -e
    mount -t tmpfs ubc-test /srv
    mount -t tmpfs ubc-test /media
    bin=$1 config=$2
    shift 2
    mkdir -p "$@"
    exec "$bin" --config "$config" check-config' _ "$bin" "$config" "$@" \
    >"$tmp/$name.out" 2>"$tmp/$name.err"
  local rc=$?
  if [ "$rc" -eq 0 ]; then pass; else
    fail "$name: exit $rc"
    cat "$tmp/$name.out" "$tmp/$name.err"
  fi
}

template="$src/config.ini.template"
cp "$template" "$tmp/config.ini" && chmod 600 "$tmp/config.ini"
older="$tmp/older-script.ini"
cp "$src/tests/unit/fixtures/config/older_script.ini" "$older" && chmod 600 "$older"
if [ "$(id -u)" -ne 0 ]; then
  fail "template and older-script checks need root (they mount tmpfs on /srv and /media in a private mount namespace)"
elif ! command -v unshare >/dev/null; then
  fail "template and older-script checks need unshare: install util-linux"
else
  # The template as shipped passes check-config once its two directories exist.
  check_in_namespace template "$tmp/config.ini" /srv/veeam /media/usb-backup-copier
  expect_in template out "$tmp/config.ini: OK"
  expect_in template out "Source:       /srv/veeam"
  expect_empty template err
  # Outside the namespace the directories are not there (unless the host has them): the
  # messages name them.
  if [ ! -d /srv/veeam ]; then
    run template_host 78 --config "$tmp/config.ini" check-config
    expect_in template_host out "Backup.backup-source: '/srv/veeam' does not exist"
  fi

  # The older script's config.ini, unchanged, once its source and mount point exist: no
  # problem at all, and the summary shows where its relative lock file and its Veeam
  # directory lead.
  check_in_namespace older "$older" /srv/veeam /media/usb-backup
  expect_in older out "$older: OK"
  expect_in older out "Disks (3):"
  expect_in older out "0a1b2c3d-4e5f-6789-abcd-ef0123456789  also mails alice@example.com, bob@example.com"
  expect_in older out "Source:       /srv/veeam"
  expect_in older out "Mount point:  /media/usb-backup"
  expect_in older out "Run lock:     /srv/veeam/.lock"
  expect_in older out "Veeam leases: /var/lock/veeam (coordination file /var/lock/veeam/coordination.lock)"
  # Its one warning: disks need not prove they are ours (require-enrollment = no).
  expect_in older out "Enrollment:   not required"
  expect_in older out "warning: require-enrollment = no: any disk that claims a whitelisted UUID receives the backups"
  if grep 'warning' "$tmp/older.out" | grep -qv 'require-enrollment = no'; then
    fail "older: warnings: $(grep warning "$tmp/older.out")"
  else
    pass
  fi
  expect_empty older err
fi

echo "config_cli_test: $passes passed, $failures failed"
[ "$failures" -eq 0 ]
