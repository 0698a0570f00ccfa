# SPDX-License-Identifier: MIT
<#
.SYNOPSIS
  Veeam Backup & Replication job script: takes (lock) or gives back (unlock) the lease of
  a Veeam job on the Linux repository server that runs usb-backup-copier.

.DESCRIPTION
  Runs, with the OpenSSH client that ships with Windows,
      ssh -i KEY -o BatchMode=yes USER@REPO-HOST "veeam-lock --job 'NAME'"
  (veeam-unlock for -Action unlock). The key's authorized_keys line on the repository
  server forces veeam-ssh-command.sh, which runs nothing but those two commands.
  Exit code: the remote command's (0 lease taken or given back; 75 the copy did not
  pause in time; 1 failed), or 255 when ssh itself failed.

  Veeam runs job scripts as LocalSystem: the key and known_hosts file must be readable
  by SYSTEM, and the key by nobody but SYSTEM and Administrators (ssh refuses a key
  others can read). Set the defaults below once, or pass them as parameters.

.EXAMPLE
  usb-backup-copier-veeam.cmd lock "Daily backup"      (pre-job script)
  usb-backup-copier-veeam.cmd unlock "Daily backup"    (post-job script)
#>
param(
  [Parameter(Mandatory = $true)][ValidateSet('lock', 'unlock')][string]$Action,
  [string]$Job = 'default',
  [string]$RepoHost = 'backup-repo.example.lan',
  [string]$User = 'root',
  [int]$Port = 22,
  [string]$KeyFile = (Join-Path $env:ProgramData 'usb-backup-copier\veeam_ed25519'),
  [string]$KnownHosts = (Join-Path $env:ProgramData 'usb-backup-copier\known_hosts')
)

# The repository side accepts letters, digits, blanks and . _ - only; everything else
# becomes '_' here, the same way for the pre- and the post-job script, so both name the
# same lease.
$name = ($Job -replace '[^A-Za-z0-9 ._-]', '_')
if ($name.Length -gt 128) { $name = $name.Substring(0, 128) }
$name = ($name -replace '^[^A-Za-z0-9]+', '') -replace ' +$', ''
if ($name -eq '') { $name = 'default' }

# A 32-bit host process sees SysWOW64 as System32, where there is no OpenSSH.
$ssh = Join-Path $env:WINDIR 'System32\OpenSSH\ssh.exe'
if (-not (Test-Path $ssh)) { $ssh = Join-Path $env:WINDIR 'Sysnative\OpenSSH\ssh.exe' }
if (-not (Test-Path $ssh)) {
  Write-Output 'usb-backup-copier-veeam: ERROR: the OpenSSH client is not installed (Settings > Apps > Optional features > OpenSSH Client)'
  exit 1
}

# One argument for the remote command, without double quotes inside: Windows PowerShell
# passes it to ssh.exe as one word, and ssh sends it as it is.
$remote = "veeam-$Action --job '$name'"
# BatchMode: a password or host key prompt would hang until Veeam's 10-minute script
# timeout. The server-alive probes notice a dead connection while veeam-lock waits.
$sshArgs = @(
  '-i', $KeyFile, '-p', "$Port",
  '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes',
  '-o', 'StrictHostKeyChecking=yes', '-o', "UserKnownHostsFile=$KnownHosts",
  '-o', 'ConnectTimeout=20', '-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=4',
  "$User@$RepoHost", $remote
)
& $ssh @sshArgs
$code = $LASTEXITCODE
if ($code -eq 255) {
  Write-Output "usb-backup-copier-veeam: ERROR: ssh to $User@${RepoHost}:$Port failed (exit 255): check '$KeyFile', '$KnownHosts' and the authorized_keys line on the repository server"
}
exit $code
