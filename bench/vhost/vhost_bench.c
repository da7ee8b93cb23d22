// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost_bench - vmaccel_vhost_net against upstream vhost_net, same run.
 *
 * The bench is the VMM and the guest: guest RAM is a memfd, the rings are
 * kept full by a thread that recycles used buffers, the backend is a tap.
 * Workloads: TX of 64 B, 1500 B and 64 KiB TCP GSO frames, which leave the
 * tap through a bridge to a dummy NIC (as a VM's traffic leaves through a
 * bridge to a physical NIC; without bridge and dummy they go to the local
 * stack, which copies zero-copy pages), and RX of 64 B and 1500 B frames
 * injected into the tap by a sender thread.  "TX 64KiB slow" is the 64 KiB
 * workload with every 8th frame sent to a second port whose netem qdisc
 * holds it 2 ms (a congested or shaped egress): the zero-copy buffers of
 * those frames complete late, which stalls in-order completion (upstream)
 * but not out-of-order completion (vmaccel).  Devices:
 *   vmaccel-copy  /dev/vmaccel-vhost-net, zero-copy off
 *   vmaccel-zc    /dev/vmaccel-vhost-net, zero-copy on (its default policy)
 *   upstream      /dev/vhost-net (experimental_zcopytx=0, upstream default)
 *   upstream-zc   /dev/vhost-net reloaded with experimental_zcopytx=1
 * For each: packets/s, the device worker's CPU per packet (the vhost
 * kthread of this process), and the whole machine's CPU per packet
 * (/proc/stat, includes the bench's own threads, which do the same work for
 * every device).  Ratios are vmaccel / upstream; > 1 is better for pps,
 * < 1 is better for CPU.
 *
 * usage: vhost_bench [seconds per case, default 3] [rounds, default 3]
 *                    [workloads, default all: tx64,tx1500,txgso,txslow,
 *                     rx64,rx1500;
 *                     tx512 (512 B frames) only when named]
 *                    [devices, default all: vmcopy,vmzc,up,upzc]
 *
 * Rounds are interleaved: each round runs every workload on every device,
 * the devices of a workload back to back, in an order rotated from round
 * to round, so a burst of load from elsewhere (TCG test VMs share their
 * host's CPUs) hits all devices alike.  The table gives the best and the
 * median round of each case; the ratios use the medians (and the best
 * rounds in brackets).
 */
#define VH_NO_HARNESS
#include "../../selftests/vhost/vhost_util.h"

#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

enum { W_TX64, W_TX1500, W_TX512, W_TXGSO, W_TXHOL, W_RX64, W_RX1500, NW };
static const char *const wname[NW] = {
	"TX 64B", "TX 1500B", "TX 512B", "TX 64KiB GSO", "TX 64KiB slow",
	"RX 64B", "RX 1500B"
};

/* W_TXHOL: every HOL_EVERY-th frame goes to a port that holds it HOL_DELAY. */
#define HOL_EVERY	8
#define HOL_DELAY	"2ms"

enum { D_VM_COPY, D_VM_ZC, D_UP, D_UP_ZC, ND };
static const char *const dname[ND] = {
	"vmaccel-copy", "vmaccel-zc", "upstream", "upstream-zc"
};

struct result {
	double pps, worker_ns, sys_ns;
	unsigned long long zc_sent, zc_failed, copies;
	bool ok;
};

#define MAX_ROUNDS 15

static struct result res[ND][NW][MAX_ROUNDS];
static int nres[ND][NW];
static int upstream_loaded = -1;	/* experimental_zcopytx of vhost_net */
static atomic_bool running;
static atomic_ulong rx_sent;

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Busy CPU time of the whole machine, ns. */
static __u64 sys_busy_ns(void)
{
	unsigned long long v[10] = { 0 }, busy;
	FILE *f = fopen("/proc/stat", "r");

	if (!f)
		return 0;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
		   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
		v[0] = 0;
	fclose(f);
	busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];	/* not idle, iowait */
	return busy * (1000000000ull / sysconf(_SC_CLK_TCK));
}

/* The pid of the task in @dir (/proc or a task list) named @want1/@want2. */
static int find_comm(const char *dir, const char *want1, const char *want2)
{
	char path[300], comm[64];
	struct dirent *e;
	DIR *d = opendir(dir);
	int found = -1;

	while (d && (e = readdir(d))) {
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/%s/comm", dir, e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) &&
		    (!strcmp(comm, want1) || !strcmp(comm, want2)))
			found = atoi(e->d_name);
		fclose(f);
	}
	if (d)
		closedir(d);
	return found;
}

/*
 * The device's worker: a kthread (ours; upstream before 6.4) or, upstream
 * since 6.4, a vhost_task, a thread of this process.
 */
static int find_worker(void)
{
	char want1[64], want2[64];
	int pid;

	snprintf(want1, sizeof(want1), "vhost-%d\n", getpid());
	snprintf(want2, sizeof(want2), "vhost-vmaccel-%d\n", getpid());
	pid = find_comm("/proc", want1, want2);
	return pid > 0 ? pid : find_comm("/proc/self/task", want1, want2);
}

static __u64 task_cpu_ns(int pid)
{
	unsigned long long ut = 0, st = 0;
	char path[64], buf[1024], *p;
	FILE *f;

	/* The thread's own times: /proc/<tid>/stat has its process's. */
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return 0;
	return (ut + st) * (1000000000ull / sysconf(_SC_CLK_TCK));
}

static size_t build_tx(__u8 *p, int w)
{
	struct virtio_net_hdr_mrg_rxbuf *h = (void *)p;
	__u8 *f = p + VH_HLEN;
	size_t flen = w == W_TX64 ? 64 : w == W_TX1500 ? 1514 :
		      w == W_TX512 ? 512 : 14 + 65000;

	memset(p, 0, VH_HLEN);
	vh_frame(f, flen, 1);
	if (w == W_TXGSO || w == W_TXHOL) {
		/* IPv4/TCP, checksum offload, segments of 1448 bytes. */
		unsigned int iplen = flen - 14, sum = 0, i;

		f[12] = 0x08;
		f[13] = 0x00;
		memset(f + 14, 0, 40);
		f[14] = 0x45;
		f[16] = iplen >> 8;
		f[17] = iplen & 0xff;
		f[22] = 64;
		f[23] = 6;
		f[26] = 10; f[29] = 2;	/* 10.0.0.2 -> 10.99.0.3 */
		f[30] = 10; f[31] = 99; f[33] = 3;
		for (i = 14; i < 34; i += 2)
			sum += (f[i] << 8) | f[i + 1];
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		f[24] = ~sum >> 8;
		f[25] = ~sum & 0xff;
		f[34] = 0x30; f[35] = 0x39; f[36] = 0x00; f[37] = 0x50;
		f[46] = 0x50;	/* data offset 5 */
		f[47] = 0x10;	/* ACK */
		h->hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		h->hdr.hdr_len = 54;
		h->hdr.gso_size = 1448;
		h->hdr.csum_start = 34;
		h->hdr.csum_offset = 16;
	}
	return VH_HLEN + flen;
}

static void *rx_sender(void *arg)
{
	struct vh_vm *vm = arg;
	__u8 f[1514];
	size_t len = vm->buf_next == 64 ? 64 : 1514;

	vh_frame(f, sizeof(f), 2);
	while (atomic_load(&running)) {
		if (!vh_inject(vm, f, len))
			atomic_fetch_add(&rx_sent, 1);
	}
	return NULL;
}

static bool bridged, slow_port;

/* Bridge vhbbr with dummy vhbd0; frames to 02:00:00:00:00:02 go there. */
static bool bridge_setup(void)
{
	static const char *const steps[] = {
		"modprobe -q bridge; modprobe -q dummy; true",
		"ip link add vhbbr type bridge",
		"ip link add vhbd0 type dummy",
		"ip link set vhbd0 master vhbbr",
		"ip link set vhbbr up",
		"ip link set vhbd0 up",
		"bridge fdb add 02:00:00:00:00:02 dev vhbd0 master static",
	};
	unsigned int i;

	for (i = 0; i < VH_ARRAY_SIZE(steps); i++)
		if (system(steps[i]))
			return false;
	return true;
}

/*
 * A second port, dummy vhbd1 behind a netem qdisc that holds every frame
 * HOL_DELAY before it leaves (a congested or shaped egress): frames to
 * 02:00:00:00:00:03 go there, and their zero-copy buffers complete late.
 */
static bool slow_port_setup(void)
{
	static const char *const steps[] = {
		"modprobe -q sch_netem",
		"ip link add vhbd1 type dummy",
		"ip link set vhbd1 master vhbbr",
		"ip link set vhbd1 up",
		"tc qdisc add dev vhbd1 root netem delay " HOL_DELAY " limit 100000",
		"bridge fdb add 02:00:00:00:00:03 dev vhbd1 master static",
	};
	unsigned int i;

	for (i = 0; i < VH_ARRAY_SIZE(steps); i++)
		if (system(steps[i]))
			return false;
	return true;
}

/* Address the frame in the buffer at @gpa to the slow port or the fast one. */
static void hol_dest(struct vh_vm *vm, __u64 gpa, __u64 seq)
{
	__u8 *dst = (__u8 *)vh_hva(vm, gpa) + VH_HLEN;

	dst[5] = seq % HOL_EVERY ? 0x02 : 0x03;
}

/* One case: returns false when the device could not be set up. */
static bool run_case(int dev, int w, double secs, struct result *r)
{
	static __u8 pkt[VH_HLEN + 66000];
	struct vh_vm vm;
	struct vh_q *q;
	size_t len = 0, buflen;
	__u64 t0, t1, s0, s1, c0, c1, done = 0, seq = 0, bufs[VH_NUM];
	__u16 last_used = 0, i;
	int worker;
	pthread_t snd;
	bool rx = w >= W_RX64;

	if (w == W_TXHOL && !slow_port)
		return false;

	setenv("VHOST_TEST_DEV", dev <= D_VM_ZC ? VH_DEV_DEFAULT : "/dev/vhost-net", 1);
	if (vh_vm_init(&vm, VH_BASE_FEATURES | (1ull << VIRTIO_NET_F_MRG_RXBUF))) {
		vh_vm_close(&vm);
		return false;
	}
	if (dev <= D_VM_ZC) {
		struct vmaccel_vhost_zcopy z;

		if (ioctl(vm.dev, VMACCEL_VHOST_GET_ZCOPY, &z))
			return false;
		if (dev == D_VM_ZC)
			z.flags |= VMACCEL_VHOST_ZCOPY_ENABLE;
		else
			z.flags &= ~VMACCEL_VHOST_ZCOPY_ENABLE;
		if (ioctl(vm.dev, VMACCEL_VHOST_SET_ZCOPY, &z))
			return false;
	}
	if (vh_tap_create(&vm) || vh_set_backend(&vm, 0, vm.tap) ||
	    vh_set_backend(&vm, 1, vm.tap)) {
		vh_vm_close(&vm);
		return false;
	}
	/* Nobody reads the packet socket during the run: close it. */
	if (!rx) {
		close(vm.pkt);
		vm.pkt = -1;
		/*
		 * TX leaves through a bridge to a dummy NIC, as a VM's traffic
		 * leaves through a bridge to a physical one: nothing copies the
		 * guest pages on the way (the local stack would).
		 */
		if (bridged && vh_sh("ip link set %s master vhbbr", vm.ifname)) {
			vh_vm_close(&vm);
			return false;
		}
	}
	q = &vm.q[rx ? 0 : 1];
	if (!rx) {
		len = build_tx(pkt, w);
		/* Unicast to the dummy's static FDB entry. */
		memcpy(pkt + VH_HLEN, "\x02\x00\x00\x00\x00\x02", 6);
	}
	buflen = rx ? 2048 : len;
	/* One buffer per descriptor; descriptor i always uses buffer i. */
	for (i = 0; i < VH_NUM; i++) {
		bufs[i] = vh_alloc(&vm, buflen, 4096);
		if (!rx)
			memcpy(vh_hva(&vm, bufs[i]), pkt, len);
		if (w == W_TXHOL)
			hol_dest(&vm, bufs[i], seq++);
		q->desc[i].addr = bufs[i];
		q->desc[i].len = buflen;
		q->desc[i].flags = rx ? VRING_DESC_F_WRITE : 0;
		vh_offer(q, i, false);
	}
	vh_kick(q);
	worker = find_worker();
	atomic_store(&running, true);
	if (rx) {
		vm.buf_next = w == W_RX64 ? 64 : 1514;	/* tells the sender */
		pthread_create(&snd, NULL, rx_sender, &vm);
	}
	t0 = now_ns();
	s0 = sys_busy_ns();
	c0 = worker > 0 ? task_cpu_ns(worker) : 0;
	do {
		__u16 u = vh_used_idx(q);

		while (last_used != u) {
			__u16 id = q->used->ring[last_used % VH_NUM].id;

			/* The n-th frame sent goes slow when n % HOL_EVERY is 0. */
			if (w == W_TXHOL)
				hol_dest(&vm, bufs[id], seq++);
			vh_offer(q, id, false);
			last_used++;
			done++;
		}
		if (!(q->used->flags & VRING_USED_F_NO_NOTIFY))
			vh_kick(q);
		else
			sched_yield();
		t1 = now_ns();
	} while (t1 - t0 < secs * 1e9);
	s1 = sys_busy_ns();
	c1 = worker > 0 ? task_cpu_ns(worker) : 0;
	if (dev <= D_VM_ZC && !rx) {
		struct vmaccel_vhost_vq_stats st;

		if (!vh_stats(&vm, 1, &st)) {
			r->zc_sent = st.zcopy_sent;
			r->zc_failed = st.zcopy_failed;
			r->copies = st.copies;
		}
	}
	atomic_store(&running, false);
	if (rx)
		pthread_join(snd, NULL);
	vh_vm_close(&vm);
	if (!done)
		return false;
	r->pps = done / ((t1 - t0) / 1e9);
	r->worker_ns = worker > 0 ? (double)(c1 - c0) / done : -1;
	r->sys_ns = (double)(s1 - s0) / done;
	r->ok = true;
	return true;
}

static int reload_upstream(int zcopy)
{
	char cmd[160];

	if (upstream_loaded == zcopy)
		return 0;
	upstream_loaded = zcopy;

	snprintf(cmd, sizeof(cmd),
		 "rmmod vhost_net 2>/dev/null; modprobe vhost_net experimental_zcopytx=%d",
		 zcopy);
	return system(cmd);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median (what = 0: pps, 1: worker ns, 2: system ns) or best pps (3). */
static double stat(int d, int w, int what)
{
	double v[MAX_ROUNDS];
	int i, n = nres[d][w];

	if (!n)
		return 0;
	for (i = 0; i < n; i++)
		v[i] = what == 1 ? res[d][w][i].worker_ns :
		       what == 2 ? res[d][w][i].sys_ns : res[d][w][i].pps;
	qsort(v, n, sizeof(v[0]), cmp_double);
	if (what == 3)
		return v[n - 1];
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void ratio(const char *what, int a, int b, int w)
{
	double wa = stat(a, w, 1), wb = stat(b, w, 1);

	if (!nres[a][w] || !nres[b][w]) {
		printf("  %-34s %-14s    n/a\n", what, wname[w]);
		return;
	}
	printf("  %-34s %-14s %6.2fx pps (best %5.2fx)  ", what, wname[w],
	       stat(a, w, 0) / stat(b, w, 0), stat(a, w, 3) / stat(b, w, 3));
	/* A worker not found (its CPU unknown) gives no ratio. */
	if (wa > 0 && wb > 0)
		printf("%6.2fx", wa / wb);
	else
		printf("%7s", "n/a");
	printf(" worker-CPU/pkt  %6.2fx system-CPU/pkt\n",
	       stat(a, w, 2) / stat(b, w, 2));
}

/* Is @key in the comma-separated @list (NULL or "all": everything)? */
static bool listed(const char *list, const char *key)
{
	const char *p = list;
	size_t n = strlen(key);

	if (!list || !strcmp(list, "all"))
		return true;
	while ((p = strstr(p, key))) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

static const char *only_dev;

static bool wanted(const char *list, int w)
{
	static const char *const key[NW] = {
		"tx64", "tx1500", "tx512", "txgso", "txslow", "rx64", "rx1500"
	};

	/* tx512 (the TX batching threshold's range) only when named. */
	if (w == W_TX512 && (!list || !strcmp(list, "all")))
		return false;
	return listed(list, key[w]);
}

static bool dev_wanted(int d)
{
	static const char *const key[ND] = { "vmcopy", "vmzc", "up", "upzc" };

	return listed(only_dev, key[d]);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3;
	int rounds = argc > 2 ? atoi(argv[2]) : 3, d, w, k, j;
	const char *only = argc > 3 ? argv[3] : NULL;
	unsigned long long z[3];

	if (access(VH_DEV_DEFAULT, F_OK)) {
		fprintf(stderr, "vhost_bench: %s missing (load the module)\n",
			VH_DEV_DEFAULT);
		return 4;
	}
	only_dev = argc > 4 ? argv[4] : NULL;
	if (rounds < 1 || rounds > MAX_ROUNDS || secs <= 0) {
		fprintf(stderr, "usage: vhost_bench [seconds] [rounds 1-%d] %s\n",
			MAX_ROUNDS, "[workloads] [devices]");
		return 2;
	}
	bridged = bridge_setup();
	slow_port = bridged && slow_port_setup();
	printf("vhost_bench: %.1f s per case, %d interleaved rounds, ring %u, %ld CPUs\n",
	       secs, rounds, VH_NUM, sysconf(_SC_NPROCESSORS_ONLN));
	printf("TX path: %s\n", bridged ?
	       "tap -> bridge -> dummy NIC (no copy on the way)" :
	       "tap -> local stack, dropped (no bridge/dummy: the stack copies zero-copy pages)");
	for (k = 0; k < rounds; k++) {
		for (w = 0; w < NW; w++) {
			if (!wanted(only, w))
				continue;
			for (j = 0; j < ND; j++) {
				struct result r = { 0 };

				/* Rotate the order; keep the two upstream modes apart. */
				d = (j + k + w) % ND;
				if (!dev_wanted(d))
					continue;
				if (d == D_UP && reload_upstream(0))
					fprintf(stderr, "vhost_bench: cannot load vhost_net\n");
				if (d == D_UP_ZC && reload_upstream(1))
					fprintf(stderr, "vhost_bench: %s\n",
						"cannot reload vhost_net (zcopytx)");
				if (run_case(d, w, secs, &r))
					res[d][w][nres[d][w]++] = r;
			}
		}
	}
	reload_upstream(0);
	if (slow_port && system("ip link del vhbd1"))
		fprintf(stderr, "vhost_bench: cannot remove the slow port\n");
	if (bridged && system("ip link del vhbd0; ip link del vhbbr"))
		fprintf(stderr, "vhost_bench: cannot remove the bridge\n");
	printf("%-13s %-14s %10s %10s %8s %8s %7s  %s\n", "device", "workload",
	       "median pps", "best pps", "spread", "worker", "system",
	       "zero-copy sent/failed, copies (one round)");
	printf("%-13s %-14s %10s %10s %8s %8s %7s\n", "", "", "", "", "min/med",
	       "ns/pkt", "ns/pkt");
	for (d = 0; d < ND; d++) {
		if (!dev_wanted(d))
			continue;
		for (w = 0; w < NW; w++) {
			int n = nres[d][w];
			double lo = 0;

			if (!wanted(only, w))
				continue;
			if (!n) {
				printf("%-13s %-14s %10s\n", dname[d], wname[w], "failed");
				continue;
			}
			for (j = 0; j < n; j++)
				if (!j || res[d][w][j].pps < lo)
					lo = res[d][w][j].pps;
			printf("%-13s %-14s %10.0f %10.0f %8.2f %8.0f %7.0f", dname[d],
			       wname[w], stat(d, w, 0), stat(d, w, 3),
			       lo / stat(d, w, 0), stat(d, w, 1), stat(d, w, 2));
			if (d <= D_VM_ZC && w < W_RX64) {
				z[0] = res[d][w][n / 2].zc_sent;
				z[1] = res[d][w][n / 2].zc_failed;
				z[2] = res[d][w][n / 2].copies;
				printf("  %llu/%llu, %llu", z[0], z[1], z[2]);
			}
			printf("\n");
		}
	}
	printf("\nratios (vmaccel / upstream, same run; median rounds, best in brackets):\n");
	for (w = 0; w < NW; w++) {
		if (!wanted(only, w))
			continue;
		ratio("vmaccel-zc   / upstream (copy)", D_VM_ZC, D_UP, w);
		ratio("vmaccel-zc   / upstream-zc", D_VM_ZC, D_UP_ZC, w);
		ratio("vmaccel-copy / upstream (copy)", D_VM_COPY, D_UP, w);
	}
	return 0;
}
