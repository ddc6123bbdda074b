/*
 * stopsig.h: the stop flag of bench/'s C servers (ceiling.h's and
 * libmodbus_server.c): SIGTERM and SIGINT set it, SIGPIPE is ignored.
 */
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* catch_stop_signals makes SIGTERM and SIGINT set stop (without
 * SA_RESTART, so that a waiting system call returns EINTR) and ignores
 * SIGPIPE. */
static void catch_stop_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}
