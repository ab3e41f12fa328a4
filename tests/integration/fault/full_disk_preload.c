/* LD_PRELOAD shim for test_disk_full.py: while the file named by GREGOR_FULL_DISK_FLAG exists,
 * writes to files under GREGOR_FULL_DISK_DIR behave as on a full disk. A large write takes half
 * its bytes (as a filesystem does with its last free blocks), a small one fails with ENOSPC, so
 * the broker meets torn writes as well as refused ones. While GREGOR_SYNC_FAIL_FLAG exists,
 * fdatasync and fsync of those files fail with EIO, as after a failed writeback. Everything
 * else passes through. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

typedef ssize_t (*pwrite_fn)(int, const void*, size_t, off_t);
typedef ssize_t (*write_fn)(int, const void*, size_t);
typedef int (*sync_fn)(int);

static int flagged_for(const char* flag_env, int fd) {
  const char* flag = getenv(flag_env);
  const char* dir = getenv("GREGOR_FULL_DISK_DIR");
  if (!flag || !dir || access(flag, F_OK) != 0) return 0;
  char link[64], path[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n < 0) return 0;
  path[n] = '\0';
  return strncmp(path, dir, strlen(dir)) == 0;
}

/* Applies a full disk to a write of *count bytes to fd: a large write is cut to half its
 * bytes, a small one fails with ENOSPC (-1). 0: go on with *count bytes. */
static int full_disk(int fd, size_t* count) {
  if (!flagged_for("GREGOR_FULL_DISK_FLAG", fd)) return 0;
  *count = *count > 64 ? *count / 2 : 0;
  if (*count > 0) return 0;
  errno = ENOSPC;
  return -1;
}

/* -1 with EIO when syncs of fd are to fail. */
static int failed_sync(int fd) {
  if (!flagged_for("GREGOR_SYNC_FAIL_FLAG", fd)) return 0;
  errno = EIO;
  return -1;
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  static pwrite_fn real;
  if (!real) real = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite");
  return full_disk(fd, &count) < 0 ? -1 : real(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off_t offset) {
  return pwrite(fd, buf, count, offset);
}

ssize_t write(int fd, const void* buf, size_t count) {
  static write_fn real;
  if (!real) real = (write_fn)dlsym(RTLD_NEXT, "write");
  return full_disk(fd, &count) < 0 ? -1 : real(fd, buf, count);
}

int fdatasync(int fd) {
  static sync_fn real;
  if (!real) real = (sync_fn)dlsym(RTLD_NEXT, "fdatasync");
  return failed_sync(fd) < 0 ? -1 : real(fd);
}

int fsync(int fd) {
  static sync_fn real;
  if (!real) real = (sync_fn)dlsym(RTLD_NEXT, "fsync");
  return failed_sync(fd) < 0 ? -1 : real(fd);
}
