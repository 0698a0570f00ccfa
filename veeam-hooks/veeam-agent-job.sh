#!/bin/sh
# SPDX-License-Identifier: MIT
# Takes (lock) or gives back (unlock) the lease of a Veeam job on the repository server,
# for Veeam Agent for Linux and other Linux-side job scripts. The pre-job and post-job
# scripts beside it call this one.
#
#   veeam-agent-job.sh lock|unlock [JOB]
#
# Settings: shell variables in /etc/usb-backup-copier/veeam-hook.conf (another file:
# UBC_HOOK_CONF=PATH), see veeam-hook.conf.example. With REPO_HOST empty, veeam-lock runs
# on this machine; otherwise over ssh with the hook key, whose authorized_keys line on the
# repository server forces veeam-ssh-command.sh.
#
# The job name only has to be the same for the pre- and the post-job script: characters
# other than letters, digits, blanks and . _ - become '_' (what the ssh side accepts).
set -u
LC_ALL=C
export LC_ALL
# Veeam runs job scripts with a minimal environment; veeam-lock lives in /usr/sbin.
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin

REPO_HOST=
REPO_USER=root
REPO_PORT=22
SSH_KEY=/etc/usb-backup-copier/veeam_ed25519
KNOWN_HOSTS=/etc/usb-backup-copier/known_hosts
JOB=default
conf=${UBC_HOOK_CONF:-/etc/usb-backup-copier/veeam-hook.conf}
if [ -e "$conf" ]; then
	# shellcheck source=veeam-hook.conf.example
	. "$conf"
fi

action=${1:-}
case $action in
	lock | unlock) ;;
	*)
		echo "usage: $0 lock|unlock [JOB]" >&2
		exit 2
		;;
esac
job=${2:-$JOB}
safe=$(printf '%s' "$job" | tr -c 'A-Za-z0-9 ._-' '_' | cut -c1-128 | sed -e 's/^[^A-Za-z0-9]*//' -e 's/ *$//')
[ -n "$safe" ] || safe=default

if [ -z "$REPO_HOST" ]; then
	exec "veeam-$action" --job "$safe"
fi

# BatchMode: a prompt would hang until Veeam's 10-minute script timeout. The server-alive
# probes notice a dead connection while veeam-lock waits for a copy.
ssh -F /dev/null -i "$SSH_KEY" -p "$REPO_PORT" \
	-o BatchMode=yes -o IdentitiesOnly=yes \
	-o StrictHostKeyChecking=yes -o UserKnownHostsFile="$KNOWN_HOSTS" \
	-o ConnectTimeout=20 -o ServerAliveInterval=15 -o ServerAliveCountMax=4 \
	-- "$REPO_USER@$REPO_HOST" "veeam-$action --job '$safe'"
status=$?
if [ "$status" -eq 255 ]; then
	echo "veeam-agent-job: ERROR: ssh to $REPO_USER@$REPO_HOST:$REPO_PORT failed (exit 255): check the key '$SSH_KEY', '$KNOWN_HOSTS' and the authorized_keys line on the repository server" >&2
fi
exit "$status"
