#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Veeam hooks of veeam-hooks/ for real, against the built veeam-lock / veeam-unlock
# (UBC_BIN_DIR): the ssh forced-command wrapper as sshd runs it, the Veeam Agent for Linux
# scripts on this machine, and the whole way over a real sshd on 127.0.0.1 with a forced-
# command key, as the Windows and Linux job scripts use it. Root only (sshd).
set -uo pipefail

fail_setup() {
	echo "veeam_hooks: $*" >&2
	exit 1
}
[ "$(id -u)" -eq 0 ] || fail_setup "run as root (it starts sshd)"
: "${UBC_BIN_DIR:?set UBC_BIN_DIR to the directory holding the built veeam-lock and veeam-unlock}"
src=${UBC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
hooks=$src/veeam-hooks
for bin in veeam-lock veeam-unlock; do
	[ -x "$UBC_BIN_DIR/$bin" ] || fail_setup "$UBC_BIN_DIR/$bin is missing: build the target $bin"
done
if [ ! -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null || ! command -v ssh-keygen >/dev/null; then
	fail_setup "install openssh-server and openssh-client (scripts/install-deps)"
fi

tmp=$(mktemp -d /tmp/ubc-hooks.XXXXXX)
sshd_pid=
cleanup() {
	if [ -n "$sshd_pid" ]; then
		kill "$sshd_pid" 2>/dev/null
		wait "$sshd_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
failed=0
ok() {
	passed=$((passed + 1))
}
bad() {
	failed=$((failed + 1))
	echo "FAIL: $*" >&2
}
# expect DESCRIPTION EXPECTED_STATUS COMMAND...: runs it, keeping stdout/stderr in $out/$err.
expect() {
	local what=$1 want=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	status=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
	if [ "$status" -eq "$want" ]; then ok; else bad "$what: exit $status, expected $want; stdout: $out; stderr: $err"; fi
}
contains() {
	local what=$1 haystack=$2 needle=$3
	case $haystack in
		*"$needle"*) ok ;;
		*) bad "$what: '$needle' not in: $haystack" ;;
	esac
}
leases=$tmp/leases
lease_jobs() {
	cat "$leases"/*.lease 2>/dev/null | sed -n 's/^job=//p' | sort | tr '\n' '|'
}
# check DESCRIPTION TEST...: TEST is a command, e.g. [ -e file ].
check() {
	local what=$1
	shift
	if "$@"; then ok; else bad "$what"; fi
}
same() {
	if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', expected '$3'"; fi
}

mkdir -p "$tmp/src" "$tmp/mnt" "$tmp/state" "$tmp/run"
cat >"$tmp/config.ini" <<EOF
[Backup]
filesystem-ids-and-notification-mail-addresses = 1234-ABCD
backup-source = $tmp/src
backup-destination = $tmp/mnt
state-directory = $tmp/state
runtime-directory = $tmp/run
copy-yields-to-veeam = yes
[VEEAM]
veeam-lockfiles = $leases
[Mail]
to-mail-addresses-sysop = ops@example.com
from-mail-address = copier@example.com
server = 127.0.0.1
port = 9
security = none
EOF
chmod 0600 "$tmp/config.ini"
export USB_BACKUP_COPIER_CONFIG=$tmp/config.ini

# --- the forced-command wrapper, as sshd runs it -------------------------------------------
wrapper() { SSH_ORIGINAL_COMMAND=$1 "$hooks/veeam-ssh-command.sh" "$UBC_BIN_DIR"; }

expect "wrapper: single-quoted name" 0 wrapper "veeam-lock --job 'Daily backup'"
contains "wrapper: lock says so" "$out" "lease taken for job 'Daily backup'"
expect "wrapper: double-quoted name" 0 wrapper 'veeam-lock --job "Weekly"'
expect "wrapper: bare name" 0 wrapper "veeam-lock --job Monthly-2.x_y"
same "wrapper: leases taken" "$(lease_jobs)" "Daily backup|Monthly-2.x_y|Weekly|"
expect "wrapper: unlock" 0 wrapper "veeam-unlock --job 'Daily backup'"
expect "wrapper: unlock" 0 wrapper 'veeam-unlock --job "Weekly"'
# The config file as the wrapper's second argument (set in authorized_keys).
expect "wrapper: config argument" 0 env -u USB_BACKUP_COPIER_CONFIG \
	SSH_ORIGINAL_COMMAND="veeam-unlock --job Monthly-2.x_y" "$hooks/veeam-ssh-command.sh" "$UBC_BIN_DIR" "$tmp/config.ini"
same "wrapper: all given back" "$(lease_jobs)" ""

marker=$tmp/pwned
refusals=(
	"veeam-lock --job x; touch $marker"
	"veeam-lock --job \$(touch $marker)"
	"veeam-lock --job \`touch $marker\`"
	"veeam-lock --job 'x' && touch $marker"
	"veeam-lock --job x | touch $marker"
	"veeam-lock --job x
touch $marker"
	"touch $marker"
	"veeam-lock --list"
	"veeam-lock --job x --config $tmp/other.ini"
	"veeam-lock --job -x"
	"veeam-lock --job ../../etc"
	"veeam-lock --job 'unbalanced"
	"veeam-lock --job ' padded'"
	"veeam-lock --job 'padded '"
	"veeam-lock  --job x"
	"veeam-lock --job $(printf 'x%.0s' $(seq 129))"
	"/usr/sbin/veeam-lock --job x"
	"veeam-lock"
	""
)
for request in "${refusals[@]}"; do
	expect "wrapper refuses [$request]" 2 wrapper "$request"
	contains "wrapper refuses [$request]" "$err" "veeam-ssh-command: refused:"
done
check "a refused request ran a command" [ ! -e "$marker" ]
same "wrapper: no lease from refused requests" "$(lease_jobs)" ""

# --- Veeam Agent for Linux scripts, veeam-lock on this machine ------------------------------
cat >"$tmp/local.conf" <<EOF
REPO_HOST=
JOB=Nightly
EOF
agent() { PATH="$UBC_BIN_DIR:$PATH" UBC_HOOK_CONF=$tmp/local.conf "$@"; }

expect "agent pre-job, default job" 0 agent "$hooks/veeam-agent-pre-job.sh"
same "agent pre-job lease" "$(lease_jobs)" "Nightly|"
expect "agent pre-job, named job" 0 agent "$hooks/veeam-agent-pre-job.sh" "Büro/Sicherung (täglich)"
same "agent: the name is made safe, the same way each time" "$(lease_jobs)" "B__ro_Sicherung _t__glich_|Nightly|"
expect "agent post-job, named job" 0 agent "$hooks/veeam-agent-post-job.sh" "Büro/Sicherung (täglich)"
expect "agent post-job, default job" 0 agent "$hooks/veeam-agent-post-job.sh"
same "agent: all given back" "$(lease_jobs)" ""
expect "agent post-job without a lease" 0 agent "$hooks/veeam-agent-post-job.sh"
contains "agent post-job without a lease warns" "$err" "holds no lease"
expect "agent script without an action" 2 agent "$hooks/veeam-agent-job.sh"

# --- over a real sshd with the forced-command key -------------------------------------------
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ssh-keygen -q -t ed25519 -N '' -f "$tmp/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$tmp/hook_key"
printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1-2 "$tmp/host_key.pub")" >"$tmp/known_hosts"
: >"$tmp/empty_known_hosts"
# The line the README tells admins to write, with this checkout's paths.
printf 'restrict,command="%s %s %s" %s\n' "$hooks/veeam-ssh-command.sh" "$UBC_BIN_DIR" "$tmp/config.ini" \
	"$(cut -d' ' -f1-2 "$tmp/hook_key.pub")" >"$tmp/authorized_keys"
cat >"$tmp/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $tmp/host_key
PidFile $tmp/sshd.pid
AuthorizedKeysFile $tmp/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
LogLevel VERBOSE
EOF
mkdir -p /run/sshd # sshd's privilege separation directory, made by the package on boot
/usr/sbin/sshd -D -e -f "$tmp/sshd_config" 2>"$tmp/sshd.log" &
sshd_pid=$!
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || fail_setup "sshd did not start: $(cat "$tmp/sshd.log")"

cat >"$tmp/ssh.conf" <<EOF
REPO_HOST=127.0.0.1
REPO_USER=root
REPO_PORT=$port
SSH_KEY=$tmp/hook_key
KNOWN_HOSTS=$tmp/known_hosts
JOB='Backup Job 1'
EOF
remote() { UBC_HOOK_CONF=$tmp/ssh.conf "$@"; }

expect "ssh: pre-job" 0 remote "$hooks/veeam-agent-pre-job.sh"
contains "ssh: pre-job output" "$out" "veeam-lock: lease taken for job 'Backup Job 1'"
same "ssh: lease" "$(lease_jobs)" "Backup Job 1|"
expect "ssh: post-job" 0 remote "$hooks/veeam-agent-post-job.sh"
same "ssh: given back" "$(lease_jobs)" ""

# A copier reading the repository (holding copier.active shared, as DirectoryVeeamGate does)
# that pauses after 2 s: the pre-job script returns once it has.
mkdir -p "$leases"
flock --shared "$leases/copier.active" sleep 2 &
copier=$!
sleep 0.3
start=$(date +%s%N)
expect "ssh: pre-job while a copy runs" 0 remote "$hooks/veeam-agent-pre-job.sh"
took_ms=$((($(date +%s%N) - start) / 1000000))
wait "$copier"
contains "ssh: the copy was asked to pause" "$out" "is reading the repository; asking it to pause"
contains "ssh: the copy paused" "$out" "copy paused after"
check "ssh: pre-job returned after $took_ms ms, before the copier left" [ "$took_ms" -ge 1500 ]
expect "ssh: post-job after the pause" 0 remote "$hooks/veeam-agent-post-job.sh"

ssh_direct() {
	ssh -F /dev/null -T -i "$tmp/hook_key" -p "$port" -o BatchMode=yes -o IdentitiesOnly=yes \
		-o StrictHostKeyChecking=yes -o UserKnownHostsFile="$tmp/known_hosts" root@127.0.0.1 "$@" </dev/null
}
expect "ssh: another command is refused" 2 ssh_direct "id; touch $marker"
contains "ssh: refusal message" "$err" "veeam-ssh-command: refused"
expect "ssh: a login shell is refused" 2 ssh_direct
expect "ssh: the Windows script's form" 0 ssh_direct "veeam-lock --job 'Backup Job 1'"
expect "ssh: the Windows script's form" 0 ssh_direct "veeam-unlock --job 'Backup Job 1'"
check "ssh: a refused request ran a command" [ ! -e "$marker" ]

sed -i "s|^KNOWN_HOSTS=.*|KNOWN_HOSTS=$tmp/empty_known_hosts|" "$tmp/ssh.conf"
expect "ssh: unknown host key" 255 remote "$hooks/veeam-agent-pre-job.sh"
contains "ssh: unknown host key message" "$err" "veeam-agent-job: ERROR: ssh to root@127.0.0.1:$port failed (exit 255)"
same "ssh: no lease without a trusted host" "$(lease_jobs)" ""

echo "veeam_hooks: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || {
	echo "--- sshd log ---" >&2
	cat "$tmp/sshd.log" >&2
	exit 1
}
