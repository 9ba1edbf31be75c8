# lib-grpc.sh — what the gRPC benches share (sourced by bench/run-grpc and bench/run-mpic; not
# run by itself): the lab with the bench zone, starting caads and Boulder's anchor on port 0 and
# stopping them by PID, and the PIDs whose CPU each measurement counts.
#
# The sourcing script sets: me (its name, for messages), repo, dir (its work directory), py,
# net, bench_dnssec, faultdns, caad, load (caa-load), anchor (boulder-caa-anchor); then calls
# bench_lab_up, and `trap cleanup EXIT`. State kept here: PID ADDR MPORT LOG (by server name),
# started (names to stop), lab, resolver (NET.0.53), labpids (comma list).
# shellcheck shell=bash disable=SC2154,SC2034

say() { echo "$me: $*" >&2; }
die() {
	say "$*"
	exit 1
}

declare -A PID ADDR MPORT LOG
started=()
keep_lab=${keep_lab:-0}

alive() { kill -0 "$1" 2>/dev/null; }

stop_pid() { # pid name: SIGTERM, then SIGKILL after 10 s; only what this script started
	local pid=$1 name=$2
	alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 200); do
		alive "$pid" || break
		sleep 0.05
	done
	if alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
		say "killed $name (pid $pid)"
	else
		say "stopped $name (pid $pid)"
	fi
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local n
	for n in "${started[@]}"; do
		stop_pid "${PID[$n]}" "$n"
	done
	started=()
	if [ "$keep_lab" = 0 ] && [ -n "${lab:-}" ]; then
		"$repo/deploy/lab/caa-lab" down "$lab" >/dev/null 2>&1 || true
	fi
}

# The lab (deploy/lab/caa-lab on $net, resolver included) with one extra zone bench.lab under
# the signed lab.: *.bench.lab, *.hit.bench.lab and ord.bench.lab carry CAA 0 issue "ca.example"
# (the lab CA), *.deny.bench.lab names another CA.
bench_lab_up() {
	lab=$dir/lab
	mkdir -p "$lab"
	"$py" - "$repo/deploy/lab/scenarios.json" "$dir/catalogue.json" "$bench_dnssec" <<'EOF'
import json, sys
cat = json.load(open(sys.argv[1]))
issuer = cat["ca"]["issuer_domain"]
cat["zones"].append({"zone": "bench.lab", "server": "zones", "dnssec": sys.argv[3], "records": [
    '*.bench.lab CAA 0 issue "%s"' % issuer,        # unique names: one miss each
    '*.hit.bench.lab CAA 0 issue "%s"' % issuer,    # a fixed set: hits
    'ord.bench.lab CAA 0 issue "%s"' % issuer,      # orders: NXDOMAIN below, CAA here
    '*.deny.bench.lab CAA 0 issue "other-ca.example"',  # forbidden: never cached by caad
]})
json.dump(cat, open(sys.argv[2], "w"), indent=1)
EOF
	CAA_LAB_NET=$net CAA_FAULTDNS=$faultdns CAA_LAB_CATALOGUE=$dir/catalogue.json \
		"$repo/deploy/lab/caa-lab" up "$lab" >"$dir/lab-up.log" 2>&1 ||
		{ tail -n 20 "$dir/lab-up.log" >&2; die "lab up failed"; }
	resolver=$(sed -n 's/^CAA_LAB_ADDR_RESOLVER=//p' "$lab/lab.env")
	labpids=$(lab_pids)
}

descendants() { # pid: it and all its descendants (NSD: xfrd -> main -> server)
	local c
	echo "$1"
	for c in $(pgrep -P "$1" || true); do descendants "$c"; done
}

lab_pids() { # every lab server process, from the pidfiles the lab wrote
	local f p
	while read -r f; do
		p=$(tr -dc '0-9' <"$f")
		[ -z "$p" ] || descendants "$p"
	done <"$lab/pidfiles" | paste -sd,
}

wait_ready() { # name: one probe call answers
	local n=$1
	for _ in $(seq 1 100); do
		alive "${PID[$n]}" || { tail -n 5 "${LOG[$n]}" >&2; die "$n exited"; }
		if "$load" --target "${ADDR[$n]}" --probe --timeout 2 \
			--pattern ready.hit.bench.lab >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
	done
	die "$n at ${ADDR[$n]} does not answer"
}

start_caad() { # name config [noready]: start, read the address from the log, probe unless noready
	local n=$1 cfg=$2 line=""
	LOG[$n]=$dir/$n.log
	: >"${LOG[$n]}"
	setsid "$caad" --config "$cfg" </dev/null >>"${LOG[$n]}" 2>&1 &
	PID[$n]=$!
	started+=("$n")
	for _ in $(seq 1 100); do
		line=$(grep -m1 '"msg":"listening"' "${LOG[$n]}" || true)
		[ -n "$line" ] && break
		alive "${PID[$n]}" || break
		sleep 0.1
	done
	[ -n "$line" ] || { tail -n 5 "${LOG[$n]}" >&2; die "$n did not start"; }
	ADDR[$n]=$(jq -r .address <<<"$line")
	MPORT[$n]=$(jq -r '.metrics_port // ""' <<<"$line")
	[ "${3:-}" = noready ] || wait_ready "$n"
	say "$n: pid ${PID[$n]} on ${ADDR[$n]}"
}

start_boulder() { # name [anchor args...]: Boulder's anchor on the lab's resolver, as the lab CA
	local n=$1 line=""
	shift
	LOG[$n]=$dir/$n.log
	: >"${LOG[$n]}"
	# Boulder logs every check on stdout (level 6, as in production); caad on stderr.
	setsid "$anchor" -listen 127.0.0.1:0 -resolver "$resolver:53" -issuer-domain ca.example \
		-account-uri-prefix https://ca.example/acme/acct/ -dns-timeout 5s "$@" \
		</dev/null >>"${LOG[$n]}" 2>>"$dir/$n.err" &
	PID[$n]=$!
	started+=("$n")
	for _ in $(seq 1 100); do
		line=$(grep -m1 'serving va.CAA on' "$dir/$n.err" || true)
		[ -n "$line" ] && break
		alive "${PID[$n]}" || break
		sleep 0.1
	done
	[ -n "$line" ] || { cat "$dir/$n.err" >&2; die "$n did not start"; }
	line=${line#*serving va.CAA on }
	ADDR[$n]=${line%% *}
	wait_ready "$n"
	say "$n: pid ${PID[$n]} on ${ADDR[$n]}"
}

stop_server() { # name
	local n=$1 keep=() s
	stop_pid "${PID[$n]}" "$n"
	for s in "${started[@]}"; do [ "$s" = "$n" ] || keep+=("$s"); done
	started=("${keep[@]}")
}

channels_for() { # in-flight checks -> channels
	if [ "$1" -le 16 ]; then echo 1; elif [ "$1" -le 128 ]; then echo 2; else echo 4; fi
}
