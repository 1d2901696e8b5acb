#!/usr/bin/env bash
# Spread the segments of one offload over several machines with GNU parallel: plan here, then one
# `warp-offload all --segment ID` per segment on whichever host has a free slot.
#
#   scripts/parallel-offload.sh --hosts 2/worker1,2/worker2 --selector '~os\..*{}' \
#       --start now-60d --end now-30d --segment-length 1d --dest s3://metrics-archive/warp10 \
#       -- --purge > run.ndjson
#   scripts/parallel-offload.sh --dry-run ...same flags...   # plan, print what would run
#
# Options:
#   --hosts LIST          GNU parallel --sshlogin list: host1,host2 or N/host for N segments at a
#                         time on that host; ":" is this machine (default ":")
#   --selector SEL        Warp 10 selector (required)
#   --start T, --end T    range, RFC 3339 or relative (now-60d); resolved once, here (required)
#   --segment-length L    segment length (default 1d)
#   --dest DEST           s3://bucket/prefix, or a directory every host sees (required)
#   --warp10-url URL      Warp 10 base URL (default: $WARP10_URL)
#   --remote-env FILE     file on each remote host holding the secrets (default
#                         /etc/warp-offload/env); see below
#   --dry-run             run the plan, print the commands, start nothing
#   -- ARGS               extra arguments for `warp-offload all` (--purge, --codec, ...)
#
# Records (one NDJSON line per segment) go to stdout; the hosts' logs (JSON lines naming the
# segment) go to stderr. Exit status: 0 when every segment succeeded, else the number of failed
# segments (GNU parallel's convention, at most 101), or 1/2 for errors of this script.
#
# Assumptions:
#   * `warp-offload`, `jq` and GNU parallel here; `warp-offload` on every host's PATH, the same
#     version everywhere; passwordless ssh to every host.
#   * Secrets never travel on a command line: GNU parallel's --env copies values into the ssh
#     command line, where `ps` shows them on both machines. So only non-secret settings are
#     forwarded with --env (WARP10_URL, AWS_ENDPOINT_URL_S3, AWS_REGION), and each remote host
#     keeps its secrets in --remote-env, a file readable only by the user (mode 600), sourced
#     before warp-offload runs:
#         WARP10_READ_TOKEN=...
#         WARP10_WRITE_TOKEN=...        # needed by --purge
#         AWS_ACCESS_KEY_ID=...
#         AWS_SECRET_ACCESS_KEY=...
#     On this machine (":") the secrets come from this script's own environment instead.
#   * Hosts need no coordination: segment ids and object keys are deterministic, the manifest
#     object is the commit marker, and a lock object per segment in the destination keeps two
#     hosts off the same segment. A job that failed is retried once, preferably on another host;
#     a crashed host's locks expire after --lock-ttl (30 min by default).
#   * Each host's work directory is warp-offload's default (./warp-offload-work in the ssh login
#     directory) unless WARP_OFFLOAD_WORK_DIR is set in --remote-env.
set -euo pipefail

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

main() {
    local hosts=: selector= start= end= length=1d dest= url=${WARP10_URL:-}
    local remote_env=/etc/warp-offload/env dry_run=0
    local all_args=()
    while (($#)); do
        case $1 in
            --hosts) hosts=${2:?--hosts needs a value}; shift ;;
            --selector) selector=${2:?--selector needs a value}; shift ;;
            --start) start=${2:?--start needs a value}; shift ;;
            --end) end=${2:?--end needs a value}; shift ;;
            --segment-length) length=${2:?--segment-length needs a value}; shift ;;
            --dest) dest=${2:?--dest needs a value}; shift ;;
            --warp10-url) url=${2:?--warp10-url needs a value}; shift ;;
            --remote-env) remote_env=${2:?--remote-env needs a value}; shift ;;
            --dry-run) dry_run=1 ;;
            -h | --help) usage; return 0 ;;
            --) shift; all_args=("$@"); break ;;
            *) echo "parallel-offload.sh: unknown argument $1 (try --help)" >&2; return 2 ;;
        esac
        shift
    done
    local missing
    for missing in selector start end dest url; do
        if [[ -z ${!missing} ]]; then
            echo "parallel-offload.sh: --${missing/url/warp10-url} is required (try --help)" >&2
            return 2
        fi
    done
    export WARP10_URL=$url

    # Plan once, here: relative times are resolved now, and every host gets the same absolute
    # range back, so all of them compute the same segment ids.
    local plan first last
    plan=$(warp-offload plan --selector "$selector" --start "$start" --end "$end" --segment-length "$length")
    if [[ -z $plan ]]; then
        echo "parallel-offload.sh: the plan has no segments" >&2
        return 1
    fi
    read -r first last < <(jq -rs '"\(map(.start) | min) \(map(.end) | max)"' <<<"$plan")

    # What runs on each host, `{}` being the segment id; every argument quoted for the remote
    # shell. `set -a` exports what the env file sets.
    local cmd=(warp-offload --log-format json all --selector "$selector" --start "$first" --end "$last"
        --segment-length "$length" --dest "$dest" --segment)
    local remote
    remote="$(printf '%q ' "${cmd[@]}"){}"
    if ((${#all_args[@]})); then
        remote+=" $(printf '%q ' "${all_args[@]}")"
    fi
    if [[ $hosts != : ]]; then
        remote="set -a && . $(printf '%q' "$remote_env") && set +a && $remote"
    fi

    local forward=() var
    for var in WARP10_URL AWS_ENDPOINT_URL_S3 AWS_REGION; do
        [[ -n ${!var:-} ]] && forward+=(--env "$var")
    done
    local par=(parallel --sshlogin "$hosts" "${forward[@]}" --retries 2 --line-buffer "$remote")

    if ((dry_run)); then
        printf '%q ' warp-offload plan --selector "$selector" --start "$start" --end "$end" --segment-length "$length"
        echo
        printf '%q ' "${par[@]}"
        echo
        jq -r '"# segment \(.id)"' <<<"$plan"
        return 0
    fi
    jq -r .id <<<"$plan" | "${par[@]}"
}

# Sourcing the file (to reuse nothing, or by mistake) runs nothing.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    main "$@"
fi
