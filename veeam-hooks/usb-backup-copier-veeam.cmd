@echo off
rem SPDX-License-Identifier: MIT
rem Veeam Backup & Replication job script (Windows backup server): takes or gives back
rem the lease of a Veeam job on the repository server. In the job's settings, Storage >
rem Advanced > Scripts:
rem   before the job:  C:\ProgramData\usb-backup-copier\usb-backup-copier-veeam.cmd lock "Job name"
rem   after the job:   C:\ProgramData\usb-backup-copier\usb-backup-copier-veeam.cmd unlock "Job name"
rem The job name only has to be the same in both lines; keep & | < > ^ %% and quotes out
rem of it, cmd.exe would read them. Settings: the defaults in usb-backup-copier-veeam.ps1.
setlocal
set "UBC_ACTION=%~1"
set "UBC_JOB=%~2"
if "%UBC_JOB%"=="" set "UBC_JOB=default"
"%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe" -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "%~dp0usb-backup-copier-veeam.ps1" -Action "%UBC_ACTION%" -Job "%UBC_JOB%"
exit /b %ERRORLEVEL%
