#!/bin/sh
# SPDX-License-Identifier: MIT
# The forced command of the Veeam hook key on the repository server. In the authorized_keys
# of the account the hooks log in as, one line per Veeam server:
#
#   restrict,command="/usr/share/usb-backup-copier/veeam-hooks/veeam-ssh-command.sh" ssh-ed25519 AAAA... veeam@vbr01
#
# sshd then runs this script whatever the client asked for, and puts the client's request
# in SSH_ORIGINAL_COMMAND. Only these two requests are carried out:
#
#   veeam-lock --job NAME        veeam-unlock --job NAME
#
# NAME: letters, digits, blanks and . _ - (at most 128, starting with a letter or digit),
# bare or inside one pair of '...' or "...". Anything else is refused (exit 2) without
# running anything. The request is never handed to a shell: NAME becomes one argv word.
#
# Optional arguments, set in authorized_keys by the admin (never by the client):
#   $1  the directory holding veeam-lock and veeam-unlock (default /usr/sbin)
#   $2  the configuration file (default: the programs' own default)
set -u
# Byte-wise character classes: in other locales [A-Z] may match more than ASCII letters.
LC_ALL=C
export LC_ALL

bin_dir=${1:-/usr/sbin}
config=${2:-}
request=${SSH_ORIGINAL_COMMAND-}

refuse() {
	# The request is not echoed: it is untrusted and ends up in logs.
	printf 'veeam-ssh-command: refused: %s; this key only runs "veeam-lock --job NAME" and "veeam-unlock --job NAME"\n' "$1" >&2
	exit 2
}

case $request in
	"veeam-lock --job "*) program=veeam-lock; name=${request#"veeam-lock --job "} ;;
	"veeam-unlock --job "*) program=veeam-unlock; name=${request#"veeam-unlock --job "} ;;
	"") refuse "no command given" ;;
	*) refuse "not an allowed command" ;;
esac

case $name in
	\'*\') name=${name#\'}; name=${name%\'} ;;
	\"*\") name=${name#\"}; name=${name%\"} ;;
esac

case $name in
	"" | *[!A-Za-z0-9\ ._-]*) refuse "the job name may hold only letters, digits, blanks and . _ -" ;;
esac
case $name in
	[A-Za-z0-9]*[A-Za-z0-9._-] | [A-Za-z0-9]) ;;
	*) refuse "the job name must start with a letter or digit and must not end with a blank" ;;
esac
[ "${#name}" -le 128 ] || refuse "the job name is longer than 128 characters"

if [ -n "$config" ]; then
	exec "$bin_dir/$program" --config "$config" --job "$name"
fi
exec "$bin_dir/$program" --job "$name"
