/*
 * uring_ring.h: one io_uring driven with raw system calls on
 * <linux/io_uring.h> (no liburing), shared by uring_server.c and
 * uring_loadgen.c: set it up, take a submission entry, submit what is
 * queued and wait for completions in one io_uring_enter. One ring per
 * process, used from one thread. The completions are walked by the caller
 * between *cq_head and *cq_tail (acquire), then *cq_head is stored (release).
 */
#include <errno.h>
#include <linux/io_uring.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int ring_fd;
static unsigned *sq_head, *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
static struct io_uring_sqe *sqes;
static struct io_uring_cqe *cqes;
static unsigned sq_entries, to_submit, sq_local_tail;
static unsigned long ring_enters; /* io_uring_enter calls */

/* ring_submit_wait hands the queued entries to the kernel and, if wait > 0,
 * waits until that many completions are there: io_uring_enter's result. */
static int ring_submit_wait(unsigned wait)
{
	__atomic_store_n(sq_tail, sq_local_tail, __ATOMIC_RELEASE);
	ring_enters++;
	int r = (int)syscall(__NR_io_uring_enter, ring_fd, to_submit, wait, wait ? IORING_ENTER_GETEVENTS : 0, NULL, 0);
	if (r >= 0)
		to_submit -= (unsigned)r < to_submit ? (unsigned)r : to_submit;
	return r;
}

/* ring_sqe returns a zeroed submission entry, submitting what is queued
 * first if the queue is full; NULL if there is still no room. */
static struct io_uring_sqe *ring_sqe(void)
{
	if (sq_local_tail - __atomic_load_n(sq_head, __ATOMIC_ACQUIRE) >= sq_entries &&
	    (ring_submit_wait(0) < 0 || sq_local_tail - __atomic_load_n(sq_head, __ATOMIC_ACQUIRE) >= sq_entries))
		return NULL;
	unsigned idx = sq_local_tail & *sq_mask;
	struct io_uring_sqe *s = &sqes[idx];
	memset(s, 0, sizeof *s);
	sq_array[idx] = idx;
	sq_local_tail++;
	to_submit++;
	return s;
}

/* ring_setup makes a ring of at least entries submission entries with the
 * setup flags; -1 with errno set if the kernel refuses it. */
static int ring_setup(unsigned entries, unsigned flags)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	p.flags = flags;
	ring_fd = (int)syscall(__NR_io_uring_setup, entries, &p);
	if (ring_fd < 0)
		return -1;
	size_t sqsz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	size_t cqsz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP)
		sqsz = cqsz = sqsz > cqsz ? sqsz : cqsz;
	uint8_t *sq = mmap(NULL, sqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_SQ_RING);
	uint8_t *cq = sq;
	if (!(p.features & IORING_FEAT_SINGLE_MMAP))
		cq = mmap(NULL, cqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_CQ_RING);
	sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		    ring_fd, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		return -1;
	sq_head = (unsigned *)(sq + p.sq_off.head);
	sq_tail = (unsigned *)(sq + p.sq_off.tail);
	sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	sq_array = (unsigned *)(sq + p.sq_off.array);
	cq_head = (unsigned *)(cq + p.cq_off.head);
	cq_tail = (unsigned *)(cq + p.cq_off.tail);
	cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	sq_entries = p.sq_entries;
	sq_local_tail = *sq_tail;
	return 0;
}
