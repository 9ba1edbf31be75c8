#!/usr/bin/env bash
# redis_tunnel.sh SRC — deploy/redis-tls/ (docs/operations.md, "Redis over TLS"):
# the tunnel's unit is systemd-analyze verify clean with an exposure of at most
# 2.0, and the unit, the stunnel config and the docs agree on the config path
# and the socket caad dials. (server.redis_tls runs the config itself.)
# SKIP (77) without systemd-analyze.
set -euo pipefail
src=$1
dir=$src/deploy/redis-tls
unit=$dir/caad-redis-tunnel.service
conf=$dir/caad-redis-tunnel.conf
sock=/run/caad-redis-tunnel/redis.sock
aim=2.0
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze missing (Debian package systemd)"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

out=$(systemd-analyze verify --man=no "$unit" 2>&1) || true
if [ ! -e /usr/bin/stunnel4 ]; then
	out=$(grep -v 'Command /usr/bin/stunnel4 is not executable' <<<"$out" || true)
fi
[ -z "$out" ] || fail "systemd-analyze verify: $out"
sec=$(systemd-analyze security --offline=true --no-pager "$unit" 2>&1) || fail "systemd-analyze security: $sec"
level=$(sed -n 's/.*Overall exposure level for caad-redis-tunnel.service: \([0-9][0-9.]*\).*/\1/p' <<<"$sec")
[ -n "$level" ] || fail "no exposure level in: $sec"
awk -v l="$level" -v a="$aim" 'BEGIN { exit !(l + 0 <= a + 0) }' || fail "exposure $level > $aim: $sec"

for want in 'User=caad' 'ExecStart=/usr/bin/stunnel4 /etc/caad/redis-tunnel.conf' \
	'RuntimeDirectory=caad-redis-tunnel' 'UMask=0077' 'ExecReload=/bin/kill -HUP $MAINPID'; do
	grep -qxF "$want" "$unit" || fail "caad-redis-tunnel.service lacks $want"
done
for want in 'foreground = yes' 'client = yes' "accept = $sock" 'verifyChain = yes'; do
	grep -qxF "$want" "$conf" || fail "caad-redis-tunnel.conf lacks $want"
done
grep -q '^checkHost = ' "$conf" || fail "caad-redis-tunnel.conf lacks checkHost"
grep -qF "unix:$sock" "$src/docs/operations.md" || fail "docs/operations.md does not give caad the address unix:$sock"
echo "caad-redis-tunnel.service: verify clean, exposure $level (aim <= $aim); unit, config and docs agree"
