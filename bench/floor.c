/* bench/floor.c: the least work a durable injection can do, for bench/run's
 * floor row. Static, so its exec costs no dynamic loading. It reads the
 * message from standard input, writes it to a new file in DIR, fsyncs the
 * file, renames it into place and fsyncs DIR: what any MTA must do before
 * it may exit 0 (the copy, the data on disk, the name on disk). Nothing
 * else: no parsing, no headers, no queue id, no privileges.
 *
 *   floor DIR < message
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 2) return 64;
  char tmp[4096], name[4096];
  snprintf(tmp, sizeof tmp, "%s/t%ld", argv[1], (long)getpid());
  snprintf(name, sizeof name, "%s/q%ld", argv[1], (long)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return 73;
  char buf[65536];
  ssize_t n;
  while ((n = read(0, buf, sizeof buf)) > 0)
    if (write(fd, buf, (size_t)n) != n) return 74;
  if (n < 0 || fsync(fd) != 0 || close(fd) != 0) return 74;
  if (rename(tmp, name) != 0) return 73;
  int d = open(argv[1], O_RDONLY | O_DIRECTORY);
  if (d < 0 || fsync(d) != 0) return 74;
  return 0;
}
