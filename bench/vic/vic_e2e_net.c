// SPDX-License-Identifier: GPL-2.0-only
/*
 * vic_e2e_net - the network load of bench/vic/vic_e2e.sh: one static binary
 * that runs as the server on the host side of the taps and as the client in
 * the nested Linux guest (it is put into the guest's initramfs).
 *
 *   vic_e2e_net serve PORT [COUNTER_FILE...]
 *	UDP echo on PORT: a datagram starting with 'P' is sent back as is.
 *	'B' LABEL and 'E' LABEL (begin, end of a phase: the client's mark
 *	mode) are answered too; at 'B' the server reads every COUNTER_FILE
 *	(one number each, e.g. /sys/class/misc/vmaccel-vic/deferred), at 'E'
 *	it reads them again and prints "COUNTERS LABEL name=delta ..." on
 *	stdout: the counters of the phase, read on the host while the guest
 *	waits, so nothing of another phase falls in between.  TCP on PORT:
 *	the client's first byte says 'r' (the server sends the 8-byte native
 *	count that follows in bytes of zeros) or 't' (the server reads until
 *	EOF).
 *   vic_e2e_net mark B|E HOST PORT LABEL
 *	sends the mark and waits for the server's answer.
 *   vic_e2e_net rr HOST PORT N LABEL
 *	N UDP request/response transactions, one in flight, 64 bytes each;
 *	prints
 *	"RR LABEL n=N lost=L p50_us=.. p99_us=.. mean_us=..".  A request
 *	without a reply within a second is sent again (counted in lost).
 *   vic_e2e_net rx|tx HOST PORT BYTES LABEL
 *	one TCP stream of BYTES from the server (rx: the guest receives) or
 *	to it (tx); prints "STREAM LABEL dir=rx bytes=.. us=.. mbit_s=..".
 *   vic_e2e_net ux HOST PORT N PPS LABEL
 *	a UDP stream to the guest: asks the server ('U') for N datagrams of
 *	UX_LEN bytes, sent PPS per second and never answered, then an end
 *	mark ('F'); prints "STREAM LABEL dir=ux bytes=.. us=.. mbit_s=..
 *	sent=N got=M" (us from the first datagram to the last).
 *
 * It measures and prints; the script computes the ratios.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_COUNTERS	8
#define MSG_LEN		64
#define UX_LEN		1024
#define UX_MAX_N	1000000
#define UX_MAX_PPS	1000000

static int ncounters;
static char **counter_files;
static unsigned long long counter_begin[MAX_COUNTERS];

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static unsigned long long read_counter(const char *path)
{
	unsigned long long v = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static void phase_mark(char kind, const char *label)
{
	int i;

	if (kind == 'B') {
		for (i = 0; i < ncounters; i++)
			counter_begin[i] = read_counter(counter_files[i]);
		return;
	}
	printf("COUNTERS %s", label);
	for (i = 0; i < ncounters; i++)
		printf(" %s=%llu", base_name(counter_files[i]),
		       read_counter(counter_files[i]) - counter_begin[i]);
	printf("\n");
	fflush(stdout);
}

/* 'U' N PPS: N datagrams of UX_LEN bytes paced at PPS, then 'F' marks. */
static void udp_stream(int fd, const char *req, struct sockaddr_in *peer,
		       socklen_t plen)
{
	static char d[UX_LEN];
	struct timespec due;
	long n, pps, i;
	long long step;

	if (sscanf(req + 1, "%ld %ld", &n, &pps) != 2 || n < 1 ||
	    n > UX_MAX_N || pps < 1 || pps > UX_MAX_PPS)
		return;
	step = 1000000000LL / pps;
	memset(d, 'u', sizeof(d));
	d[0] = 'D';
	clock_gettime(CLOCK_MONOTONIC, &due);
	for (i = 0; i < n; i++) {
		memcpy(d + 1, &i, sizeof(i));
		if (sendto(fd, d, sizeof(d), 0, (struct sockaddr *)peer,
			   plen) < 0 && errno != ENOBUFS)
			perror("sendto");
		due.tv_nsec += step;
		while (due.tv_nsec >= 1000000000L) {
			due.tv_nsec -= 1000000000L;
			due.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
	}
	/* The end, a few times (a datagram may be lost), after the last. */
	for (i = 0; i < 5; i++) {
		usleep(20000);
		sendto(fd, "F", 1, 0, (struct sockaddr *)peer, plen);
	}
}

static void udp_serve_one(int fd)
{
	char buf[MSG_LEN + 1];
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	ssize_t n;

	n = recvfrom(fd, buf, MSG_LEN, 0, (struct sockaddr *)&peer, &plen);
	if (n <= 0)
		return;
	buf[n] = 0;
	if (buf[0] == 'U') {
		udp_stream(fd, buf, &peer, plen);
		return;
	}
	if (buf[0] == 'B' || buf[0] == 'E')
		phase_mark(buf[0], buf + 1);
	else if (buf[0] != 'P')
		return;
	if (sendto(fd, buf, n, 0, (struct sockaddr *)&peer, plen) < 0)
		perror("sendto");
}

static int write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int read_all(int fd, char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static void tcp_serve_conn(int c)
{
	static char buf[65536];
	char cmd[1 + sizeof(unsigned long long)];
	unsigned long long count;
	size_t chunk;

	if (read_all(c, cmd, sizeof(cmd)))
		return;
	memcpy(&count, cmd + 1, sizeof(count));
	if (cmd[0] == 'r') {
		while (count) {
			chunk = count < sizeof(buf) ? count : sizeof(buf);
			if (write_all(c, buf, chunk))
				return;
			count -= chunk;
		}
	} else {
		while (read(c, buf, sizeof(buf)) > 0)
			;
	}
}

static int serve(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct pollfd pfd[2];
	int u, t, c, one = 1;

	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	u = socket(AF_INET, SOCK_DGRAM, 0);
	t = socket(AF_INET, SOCK_STREAM, 0);
	if (u < 0 || t < 0)
		return perror("socket"), 1;
	setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(u, (struct sockaddr *)&a, sizeof(a)) ||
	    bind(t, (struct sockaddr *)&a, sizeof(a)) || listen(t, 8))
		return perror("bind"), 1;
	signal(SIGCHLD, SIG_IGN);
	printf("SERVING %d\n", port);
	fflush(stdout);
	pfd[0].fd = u;
	pfd[0].events = POLLIN;
	pfd[1].fd = t;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return perror("poll"), 1;
		}
		if (pfd[0].revents & POLLIN)
			udp_serve_one(u);
		if (!(pfd[1].revents & POLLIN))
			continue;
		c = accept(t, NULL, NULL);
		if (c < 0)
			continue;
		if (!fork()) {
			close(u);
			close(t);
			tcp_serve_conn(c);
			_exit(0);
		}
		close(c);
	}
}

static int peer_addr(struct sockaddr_in *a, const char *host, int port)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

/* One request, its reply (matched by content); the number of resends. */
static int transact(int fd, const char *msg, size_t len)
{
	char buf[MSG_LEN];
	int resends = 0;
	ssize_t n;

	for (;;) {
		if (send(fd, msg, len, 0) < 0 && errno != ECONNREFUSED)
			return -1;
		for (;;) {
			n = recv(fd, buf, sizeof(buf), 0);
			if (n < 0)
				break;
			if ((size_t)n == len && !memcmp(buf, msg, len))
				return resends;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != ECONNREFUSED)
			return -1;
		if (++resends > 30)
			return -1;
	}
}

/* A phase's begin ('B') or end ('E') mark, answered by the server. */
static int run_mark(char kind, const char *host, int port, const char *label)
{
	struct timeval tv = { .tv_sec = 1 };
	struct sockaddr_in a;
	char msg[MSG_LEN];
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || peer_addr(&a, host, port) ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)))
		return perror("mark setup"), 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	snprintf(msg, sizeof(msg), "%c%s", kind, label);
	if (transact(fd, msg, strlen(msg)) < 0)
		return perror("mark"), 1;
	close(fd);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int run_rr(const char *host, int port, int n, const char *label)
{
	struct timeval tv = { .tv_sec = 1 };
	char msg[MSG_LEN];
	struct sockaddr_in a;
	double *lat, t0, sum = 0;
	int fd, i, r, lost = 0;

	lat = calloc(n, sizeof(*lat));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (!lat || fd < 0 || peer_addr(&a, host, port) ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)))
		return perror("rr setup"), 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(msg, 'x', sizeof(msg));
	msg[0] = 'P';
	for (i = 0; i < n; i++) {
		memcpy(msg + 1, &i, sizeof(i));
		t0 = now_us();
		r = transact(fd, msg, sizeof(msg));
		if (r < 0)
			return perror("rr"), 1;
		lat[i] = now_us() - t0;
		lost += r;
		sum += lat[i];
	}
	qsort(lat, n, sizeof(*lat), cmp_double);
	printf("RR %s n=%d lost=%d p50_us=%.0f p99_us=%.0f mean_us=%.0f\n",
	       label, n, lost, lat[n / 2], lat[(n * 99) / 100], sum / n);
	free(lat);
	return 0;
}

static int run_stream(char dir, const char *host, int port,
		      unsigned long long bytes, const char *label)
{
	static char buf[65536];
	char cmd[1 + sizeof(unsigned long long)];
	struct sockaddr_in a;
	unsigned long long done = 0;
	double t0, us;
	size_t chunk;
	ssize_t n;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || peer_addr(&a, host, port) ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)))
		return perror("stream connect"), 1;
	cmd[0] = dir;
	memcpy(cmd + 1, &bytes, sizeof(bytes));
	t0 = now_us();
	if (write_all(fd, cmd, sizeof(cmd)))
		return perror("stream"), 1;
	if (dir == 'r') {
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			done += n;
	} else {
		while (done < bytes) {
			chunk = bytes - done < sizeof(buf) ? bytes - done : sizeof(buf);
			if (write_all(fd, buf, chunk))
				break;
			done += chunk;
		}
		shutdown(fd, SHUT_WR);
		while (read(fd, buf, sizeof(buf)) > 0)
			;
	}
	us = now_us() - t0;
	close(fd);
	printf("STREAM %s dir=%cx bytes=%llu us=%.0f mbit_s=%.1f\n", label,
	       dir, done, us, done * 8 / us);
	return done == bytes ? 0 : 1;
}

static int run_ux(const char *host, int port, long n, long pps,
		  const char *label)
{
	struct timeval tv = { .tv_sec = 2 };
	static char buf[UX_LEN + 1];
	double first = 0, last = 0;
	struct sockaddr_in a;
	char req[MSG_LEN];
	long got = 0;
	int fd, tries;
	ssize_t r;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || peer_addr(&a, host, port) ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)))
		return perror("ux setup"), 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	snprintf(req, sizeof(req), "U%ld %ld", n, pps);
	/* Asked again only while nothing came (the request was lost). */
	for (tries = 0; tries < 3 && !got; tries++) {
		if (send(fd, req, strlen(req), 0) < 0)
			return perror("ux"), 1;
		while ((r = recv(fd, buf, sizeof(buf), 0)) > 0) {
			if (buf[0] == 'F')
				break;
			if (buf[0] != 'D' || r != UX_LEN)
				continue;
			last = now_us();
			if (!got++)
				first = last;
		}
		if (r > 0)
			break;
	}
	close(fd);
	printf("STREAM %s dir=ux bytes=%ld us=%.0f mbit_s=%.1f sent=%ld got=%ld\n",
	       label, got * UX_LEN, last - first,
	       last > first ? got * UX_LEN * 8 / (last - first) : 0.0, n, got);
	return got ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "serve")) {
		ncounters = argc - 3 > MAX_COUNTERS ? MAX_COUNTERS : argc - 3;
		counter_files = argv + 3;
		return serve(atoi(argv[2]));
	}
	if (argc == 6 && !strcmp(argv[1], "mark") &&
	    (argv[2][0] == 'B' || argv[2][0] == 'E'))
		return run_mark(argv[2][0], argv[3], atoi(argv[4]), argv[5]);
	if (argc == 6 && !strcmp(argv[1], "rr"))
		return run_rr(argv[2], atoi(argv[3]), atoi(argv[4]) > 0 ?
			  atoi(argv[4]) : 1, argv[5]);
	if (argc == 6 && (!strcmp(argv[1], "rx") || !strcmp(argv[1], "tx")))
		return run_stream(argv[1][0] == 'r' ? 'r' : 't', argv[2],
			      atoi(argv[3]), strtoull(argv[4], NULL, 0),
			      argv[5]);
	if (argc == 7 && !strcmp(argv[1], "ux"))
		return run_ux(argv[2], atoi(argv[3]), atol(argv[4]),
			      atol(argv[5]), argv[6]);
	fprintf(stderr,
		"usage: %s serve PORT [COUNTER_FILE...]\n"
		"       %s mark B|E HOST PORT LABEL\n"
		"       %s rr HOST PORT N LABEL\n"
		"       %s rx|tx HOST PORT BYTES LABEL\n"
		"       %s ux HOST PORT N PPS LABEL\n",
		argv[0], argv[0], argv[0], argv[0], argv[0]);
	return 2;
}
