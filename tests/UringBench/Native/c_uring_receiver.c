// The c-io_uring receiver: the device's receive mechanism with nothing around it, in C, without liburing (raw
// io_uring_setup / io_uring_enter / io_uring_register system calls, the kernel's <linux/io_uring.h>). One UDP socket
// on 127.0.0.1:port, one multishot IORING_OP_RECV drawing from a provided-buffer ring; each completion's buffer is read
// (its send timestamp) and handed straight back to the ring. Built at run time by the benchmark with the machine's
// gcc as a shared library and called from a thread of the benchmark's receiver process, so it is measured by the same
// harness as every other receiver. Stops on a datagram shorter than 16 bytes (the benchmark's are 64).
#define _GNU_SOURCE
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ENTRIES 4096
#define BUFFER_BYTES 2048
#define GROUP 1

static long now_ticks(void) {
    // CLOCK_MONOTONIC in nanoseconds: the clock and the unit of .NET's Stopwatch.GetTimestamp on Linux, which the
    // sender wrote into the payload.
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static int fail(int *stage, int at) {
    *stage = at;
    return -errno;
}

// One multishot receive: it stays armed, posting a completion per datagram, until the kernel ends it (a completion
// without IORING_CQE_F_MORE, e.g. when the buffer ring ran empty); the loop then arms it again.
static void arm_receive(struct io_uring_sqe *sqes, unsigned *sq_tail, unsigned sq_mask, unsigned *sq_array, int sock) {
    unsigned tail = *sq_tail;
    unsigned index = tail & sq_mask;
    struct io_uring_sqe *sqe = &sqes[index];
    memset(sqe, 0, sizeof *sqe);
    sqe->opcode = IORING_OP_RECV;
    sqe->fd = sock;
    sqe->ioprio = IORING_RECV_MULTISHOT;
    sqe->flags = IOSQE_BUFFER_SELECT;
    sqe->buf_group = GROUP;
    sq_array[index] = index;
    __atomic_store_n(sq_tail, tail + 1, __ATOMIC_RELEASE);
}

// Returns 0 after the stop datagram, or -errno with *stage saying which step failed. *ready becomes 1 once the
// receive is armed. latencies[i] gets the i-th datagram's read time minus its send time (ns), while i < capacity.
int bench_receive(int port, volatile long *delivered, long *latencies, long capacity, volatile int *ready, int *stage) {
    int sock = socket(AF_INET, SOCK_DGRAM, 0);
    if (sock < 0) return fail(stage, 1);
    int rcvbuf = 4 << 20;
    setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(0x7F000001) };
    if (bind(sock, (struct sockaddr *)&address, sizeof address) < 0) return fail(stage, 2);

    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    params.flags = IORING_SETUP_CQSIZE;
    params.cq_entries = 2 * ENTRIES;
    int ring = (int)syscall(__NR_io_uring_setup, 8, &params);
    if (ring < 0) return fail(stage, 3);
    size_t sq_bytes = params.sq_off.array + params.sq_entries * sizeof(unsigned);
    size_t cq_bytes = params.cq_off.cqes + params.cq_entries * sizeof(struct io_uring_cqe);
    char *sq = mmap(0, sq_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
    char *cq = mmap(0, cq_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
    struct io_uring_sqe *sqes = mmap(0, params.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
    if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) return fail(stage, 4);
    unsigned *sq_tail = (unsigned *)(sq + params.sq_off.tail);
    unsigned *sq_mask = (unsigned *)(sq + params.sq_off.ring_mask);
    unsigned *sq_array = (unsigned *)(sq + params.sq_off.array);
    unsigned *cq_head = (unsigned *)(cq + params.cq_off.head);
    unsigned *cq_tail = (unsigned *)(cq + params.cq_off.tail);
    unsigned cq_mask = *(unsigned *)(cq + params.cq_off.ring_mask);
    struct io_uring_cqe *cqes = (struct io_uring_cqe *)(cq + params.cq_off.cqes);

    // The provided-buffer ring: ENTRIES descriptors in page-aligned memory shared with the kernel, and the buffers.
    struct io_uring_buf_ring *buffers = mmap(0, ENTRIES * sizeof(struct io_uring_buf), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    char *memory = mmap(0, (size_t)ENTRIES * BUFFER_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (buffers == MAP_FAILED || memory == MAP_FAILED) return fail(stage, 5);
    struct io_uring_buf_reg registration;
    memset(&registration, 0, sizeof registration);
    registration.ring_addr = (unsigned long)buffers;
    registration.ring_entries = ENTRIES;
    registration.bgid = GROUP;
    if (syscall(__NR_io_uring_register, ring, IORING_REGISTER_PBUF_RING, &registration, 1) < 0) return fail(stage, 6);
    for (int i = 0; i < ENTRIES; i++) {
        buffers->bufs[i].addr = (unsigned long)(memory + (size_t)i * BUFFER_BYTES);
        buffers->bufs[i].len = BUFFER_BYTES;
        buffers->bufs[i].bid = (unsigned short)i;
    }
    unsigned short buffer_tail = ENTRIES;
    __atomic_store_n(&buffers->tail, buffer_tail, __ATOMIC_RELEASE);

    long count = 0;
    int stopping = 0;
    arm_receive(sqes, sq_tail, *sq_mask, sq_array, sock);
    if (syscall(__NR_io_uring_enter, ring, 1, 0, 0, 0, 0) < 0) return fail(stage, 7);
    *ready = 1;
    int to_submit = 0;
    int arm = 0;
    while (!stopping) {
        if (arm) {
            arm_receive(sqes, sq_tail, *sq_mask, sq_array, sock);
            to_submit = 1;
            arm = 0;
        }

        if (syscall(__NR_io_uring_enter, ring, to_submit, 1, IORING_ENTER_GETEVENTS, 0, 0) < 0) {
            if (errno == EINTR) continue;
            return fail(stage, 7);
        }

        to_submit = 0;
        unsigned head = *cq_head;
        unsigned available = __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE);
        for (; head != available; head++) {
            struct io_uring_cqe *cqe = &cqes[head & cq_mask];
            if (!(cqe->flags & IORING_CQE_F_MORE)) arm = 1;
            if (cqe->res < 0) {
                if (cqe->res == -ENOBUFS) continue;
                *stage = 8;
                return cqe->res;
            }

            if (!(cqe->flags & IORING_CQE_F_BUFFER)) continue;
            unsigned short bid = (unsigned short)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
            char *data = memory + (size_t)bid * BUFFER_BYTES;
            if (cqe->res < 16) {
                stopping = 1;
            } else {
                long sent;
                memcpy(&sent, data + 8, sizeof sent);
                if (count < capacity) latencies[count] = now_ticks() - sent;
                count++;
                __atomic_store_n(delivered, count, __ATOMIC_RELEASE);
            }

            // The buffer goes straight back: it was only read above.
            struct io_uring_buf *slot = &buffers->bufs[buffer_tail & (ENTRIES - 1)];
            slot->addr = (unsigned long)data;
            slot->len = BUFFER_BYTES;
            slot->bid = bid;
            buffer_tail++;
        }

        __atomic_store_n(&buffers->tail, buffer_tail, __ATOMIC_RELEASE);
        __atomic_store_n(cq_head, head, __ATOMIC_RELEASE);
    }

    close(ring);
    close(sock);
    munmap(memory, (size_t)ENTRIES * BUFFER_BYTES);
    munmap(buffers, ENTRIES * sizeof(struct io_uring_buf));
    return 0;
}
