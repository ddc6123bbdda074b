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
