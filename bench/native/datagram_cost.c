// What the kernel charges for 64 small messages in flight, with no JavaScript:
// 64 datagrams of 66 bytes (peerlink's small echo) sent by one sendmmsg on a
// SOCK_SEQPACKET pair and taken by recvmmsg, against the same 64 frames
// coalesced into one write on a SOCK_STREAM pair (what peerlink's stream
// transport does with frames that are ready in one turn) and read back.
// Build and run: gcc -O2 -o /tmp/datagram_cost bench/native/datagram_cost.c && taskset -c 0 /tmp/datagram_cost
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
int main(void) {
  enum { N = 64, SIZE = 66, ROUNDS = 100000 };
  static char buf[N * SIZE], rbuf[65536];
  int sp[2], st[2];
  socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp);
  socketpair(AF_UNIX, SOCK_STREAM, 0, st);
  struct mmsghdr msgs[N]; struct iovec iov[N]; struct mmsghdr rmsgs[N]; struct iovec riov[N]; static char rb[N][256];
  for (int i = 0; i < N; i++) {
    iov[i] = (struct iovec){ buf + i * SIZE, SIZE }; memset(&msgs[i], 0, sizeof msgs[i]); msgs[i].msg_hdr.msg_iov = &iov[i]; msgs[i].msg_hdr.msg_iovlen = 1;
    riov[i] = (struct iovec){ rb[i], 256 }; memset(&rmsgs[i], 0, sizeof rmsgs[i]); rmsgs[i].msg_hdr.msg_iov = &riov[i]; rmsgs[i].msg_hdr.msg_iovlen = 1;
  }
  for (int pass = 0; pass < 2; pass++) {
    double t0 = now();
    for (int r = 0; r < ROUNDS; r++) {
      int sent = sendmmsg(sp[0], msgs, N, 0); int got = 0;
      while (got < sent) { int n = recvmmsg(sp[1], rmsgs, N, 0, NULL); if (n <= 0) return 1; got += n; }
    }
    double t1 = now();
    for (int r = 0; r < ROUNDS; r++) {
      ssize_t w = write(st[0], buf, sizeof buf); ssize_t got = 0;
      while (got < w) { ssize_t n = read(st[1], rbuf, sizeof rbuf); if (n <= 0) return 1; got += n; }
    }
    double t2 = now();
    printf("per message: seqpacket sendmmsg+recvmmsg %.0f ns, stream coalesced write+read %.0f ns\n", (t1 - t0) / ROUNDS / N, (t2 - t1) / ROUNDS / N);
  }
  return 0;
}
