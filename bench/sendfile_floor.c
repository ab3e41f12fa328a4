// sendfile_floor: what serving bytes with sendfile(2) over loopback TCP costs the sender on this
// machine, with no broker at all. A file already in the page cache is sent in 1 MiB sendfile
// calls to a child process that reads and discards it, as a fetch response is sent to a
// consumer. The sender's CPU (user + system, which on loopback includes the receive-side TCP
// work done in its softirqs) per GB is the floor under the broker's consume CPU.
// Prints one JSON line: {"ok":true,"cpu_s_per_gb":...,"mb_per_s":...}.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "perf/perf.h"

// Writes `bytes` of non-zero data to `path` and reads it back once so it sits in the page cache.
static int make_file(const char* path, long bytes) {
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) die("open", strerror(errno));
  unlink(path);  // gone when we exit, whatever happens
  char* chunk = malloc(1 << 20);
  for (int i = 0; i < (1 << 20); ++i) chunk[i] = (char)(i * 131 + 7);
  for (long done = 0; done < bytes; done += 1 << 20) {
    if (write(fd, chunk, 1 << 20) != 1 << 20) die("write", strerror(errno));
  }
  for (long at = 0; at < bytes; at += 1 << 20) {
    if (pread(fd, chunk, 1 << 20, at) <= 0) die("pread", strerror(errno));
  }
  free(chunk);
  return fd;
}

static void receive_all(const struct sockaddr_in* addr) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0 || connect(s, (const struct sockaddr*)addr, sizeof *addr) != 0) _exit(2);
  char* buf = malloc(1 << 20);
  while (recv(s, buf, 1 << 20, 0) > 0) {
  }
  _exit(0);
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: sendfile_floor DIR FILE_MB ROUNDS\n");
    return 1;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/sendfile-floor.%d", argv[1], (int)getpid());
  const long file_bytes = atol(argv[2]) << 20;
  const int rounds = atoi(argv[3]);
  int fd = make_file(path, file_bytes);

  int listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof addr;
  if (listener < 0 || bind(listener, (struct sockaddr*)&addr, sizeof addr) != 0 ||
      getsockname(listener, (struct sockaddr*)&addr, &len) != 0 || listen(listener, 1) != 0) {
    die("listen", strerror(errno));
  }
  pid_t child = fork();
  if (child < 0) die("fork", strerror(errno));
  if (child == 0) receive_all(&addr);
  int s = accept(listener, NULL, NULL);
  if (s < 0) die("accept", strerror(errno));
  int one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // as the broker's sockets

  const double cpu0 = process_cpu_s(), t0 = (double)mono_ns() / 1e9;
  long sent = 0;
  for (int r = 0; r < rounds; ++r) {
    off_t at = 0;
    while (at < file_bytes) {
      long step = file_bytes - at < (1 << 20) ? file_bytes - at : (1 << 20);
      ssize_t n = sendfile(s, fd, &at, (size_t)step);
      if (n <= 0) die("sendfile", strerror(errno));
      sent += n;
    }
  }
  shutdown(s, SHUT_WR);
  int status = 0;
  waitpid(child, &status, 0);
  const double cpu = process_cpu_s() - cpu0, elapsed = (double)mono_ns() / 1e9 - t0;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    printf("{\"ok\":false,\"error\":\"receiver failed\"}\n");
    return 1;
  }
  printf("{\"ok\":true,\"bytes\":%ld,\"cpu_s_per_gb\":%.4f,\"mb_per_s\":%.1f}\n", sent,
         cpu / ((double)sent / 1e9), (double)sent / 1e6 / elapsed);
  return 0;
}
