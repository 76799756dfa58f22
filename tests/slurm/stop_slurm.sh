#!/usr/bin/env bash
# Stop the daemons tests/slurm/start_slurm.sh started: slurmd, slurmctld and (only if that script
# started it) munged, each by the pid file in the state folder. A daemon it did not start (a munged
# that was already running, another Slurm on this machine) is never touched. Removes the
# /etc/slurm/slurm.conf link start_slurm.sh made. Safe to run twice.
#   GAITCORE_SLURM_DIR   the state folder given to start_slurm.sh   [/tmp/gaitcore-slurm]
#   GAITCORE_SLURM_TIMEOUT  seconds each daemon gets to exit before SIGKILL  [30]
set -uo pipefail

STATE=${GAITCORE_SLURM_DIR:-/tmp/gaitcore-slurm}
TIMEOUT=${GAITCORE_SLURM_TIMEOUT:-30}
say() { echo "stop_slurm: $*" >&2; }

stop() {  # stop <name> <pid file> <expected executable name>
    local name=$1 pidfile=$2 exe=$3 pid
    [[ -s "$pidfile" ]] || return 0
    pid=$(cat "$pidfile")
    # Only signal the pid if it still is that daemon (pids are reused).
    if [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$exe" ]]; then
        say "stopping $name (pid $pid)"
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq $((TIMEOUT * 5))); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "$name did not exit in ${TIMEOUT}s; SIGKILL"
            kill -KILL "$pid" 2>/dev/null
        fi
    fi
    rm -f "$pidfile"
}

stop slurmd "$STATE/slurmd.pid" slurmd
stop slurmctld "$STATE/slurmctld.pid" slurmctld
stop munged "$STATE/munged.pid" munged
# The /etc/slurm/slurm.conf link start_slurm.sh made, if it still is that link.
if [[ -s "$STATE/etc-link" ]]; then
    link=$(cat "$STATE/etc-link")
    [[ -L "$link" && "$(readlink "$link")" == "$STATE/slurm.conf" ]] && rm -f "$link"
    rm -f "$STATE/etc-link"
fi
exit 0
