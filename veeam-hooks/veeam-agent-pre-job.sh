#!/bin/sh
# SPDX-License-Identifier: MIT
# Veeam Agent for Linux pre-job script: takes a Veeam lease on the repository server
# (see veeam-agent-job.sh and README.md). Optional argument: the job name (default:
# JOB from veeam-hook.conf, else 'default').
exec "$(dirname "$0")/veeam-agent-job.sh" lock "$@"
