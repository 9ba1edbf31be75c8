#!/usr/bin/env bash
# systemd.sh SRC — deploy/debian/caad.service: systemd-analyze verify clean and
# systemd-analyze security --offline exposure at most 2.0 (docs/operations.md).
# Before installation /usr/sbin/caad and the man pages are absent: verify runs
# with --man=no and only "/usr/sbin/caad is not executable" is forgiven while
# /usr/sbin/caad does not exist (package.sh verifies the installed unit with
# nothing forgiven). SKIP (77) without systemd-analyze.
set -euo pipefail
src=$1
unit=$src/deploy/debian/caad.service
aim=2.0
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze missing (Debian package systemd)"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

out=$(systemd-analyze verify --man=no "$unit" 2>&1) || true
if [ ! -e /usr/sbin/caad ]; then
	out=$(grep -v '^caad.service: Command /usr/sbin/caad is not executable: No such file or directory$' <<<"$out" || true)
fi
[ -z "$out" ] || fail "systemd-analyze verify: $out"

sec=$(systemd-analyze security --offline=true --no-pager "$unit" 2>&1) || fail "systemd-analyze security: $sec"
level=$(sed -n 's/.*Overall exposure level for caad.service: \([0-9][0-9.]*\).*/\1/p' <<<"$sec")
[ -n "$level" ] || fail "no exposure level in: $sec"
awk -v l="$level" -v a="$aim" 'BEGIN { exit !(l + 0 <= a + 0) }' || fail "exposure $level > $aim: $sec"
# the settings the unit promises (docs/operations.md), as systemd reads them
for want in 'User=caad' 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'PrivateTmp=yes' \
	'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' 'SystemCallFilter=@system-service' \
	'CapabilityBoundingSet=' 'ExecReload=/bin/kill -HUP $MAINPID'; do
	grep -qxF "$want" "$unit" || fail "caad.service lacks $want"
done
# no capability while the packaged config listens above 1024
port=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["listen"].rsplit(":", 1)[1])' \
	"$src/deploy/debian/caad.json")
[ "$port" -ge 1024 ] || grep -q '^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$' "$unit" ||
	fail "the default config listens on port $port: the unit needs CAP_NET_BIND_SERVICE"
echo "caad.service: verify clean, exposure $level (aim <= $aim)"
