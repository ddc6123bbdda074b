# Shared by bench/run.sh, servers.sh and cpucost.sh (sourced, not run).

# server_addr LOGF: the address a server wrote to LOGF ("plcsim ready" JSON
# line, or "READY ADDR" from the C and Python servers), waiting up to 15 s;
# empty if none came.
server_addr() {
	local a=""
	for _ in $(seq 1 300); do
		a="$(sed -n -e 's/.*"addr":"\([^"]*\)".*plcsim ready.*/\1/p' -e 's/^READY //p' "$1" | head -1)"
		[ -n "$a" ] && break
		sleep 0.05
	done
	echo "$a"
}

# stop_server_and_clean: the EXIT trap of the scripts that start servers
# (servers.sh, uring.sh): stops the server $spid if one runs (SIGINT, its
# graceful stop), waits for what the script started, removes $tmp.
stop_server_and_clean() {
	[ -n "${spid:-}" ] && kill -INT "$spid" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$tmp"
}

# log MESSAGE...: one "== " line on stderr.
log() { echo "== $*" >&2; }
