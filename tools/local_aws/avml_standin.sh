#!/bin/sh
# The local AWS's stand-in for AVML (usage: avml <image>): copies the instance's memory, which the local
# SSM agent stand-in serves at /dev/crash (a known image: tools/local_aws/memory_source.py), into <image>.
# AVML itself reads /proc/kcore, /dev/crash or /dev/mem of a real instance; this is the only simulated part
# of a local memory capture.
set -eu
[ "$#" -eq 1 ] || { echo "usage: avml <image>" >&2; exit 2; }
cat /dev/crash > "$1"
