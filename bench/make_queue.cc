// bench/make_queue.cc: fills a spool's queue/ with N entries for the growth
// curves of bench/run (issue 19 item 5), through the queue module's own
// encoder (EncodeHead, EncodeTrailer) and ID maker, so that a million
// entries take seconds instead of a million sendmail runs, and every entry
// is exactly what sendmail would have written. Built only with
// -DRELAY_BENCH=ON; never installed.
//
//   relay-bench-make-queue SPOOL N RECIPIENTS BODY_BYTES
//
// Entries arrive 10 us apart, ending now; each is written straight into
// queue/ (no tmp/ and no fsync: bench/run syncs once after), owned by the
// owner of queue/, mode 0600. Exit 0, or 1 with one line.
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "relay/queue/queue_file.h"
#include "relay/queue/queue_id.h"
#include "relay/queue/spool.h"

namespace {

std::string Content(long body_bytes) {
  std::string c = "From: cron@example.com\r\nTo: admin@example.net\r\nSubject: growth curve\r\n\r\n";
  const std::string line = "a line of generated job output, about seventy characters long......\r\n";
  while (static_cast<long>(c.size()) < body_bytes) c += line;
  return c;
}

int64_t NowMicros() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: relay-bench-make-queue SPOOL N RECIPIENTS BODY_BYTES\n");
    return 1;
  }
  relay::SpoolPaths paths(argv[1]);
  const long n = atol(argv[2]), rcpts = atol(argv[3]);
  const std::string content = Content(atol(argv[4]));
  struct stat qst;
  if (stat(paths.queue().c_str(), &qst) != 0) {
    perror(paths.queue().c_str());
    return 1;
  }
  relay::Envelope env;
  env.uid = qst.st_uid;
  env.sender = "cron@example.com";
  for (long r = 0; r < rcpts; ++r)
    env.recipients.emplace_back(rcpts == 1 ? "admin@example.net" : "user" + std::to_string(r) + "@example.net");
  relay::Trailer trailer;
  trailer.content_size = content.size();
  const int64_t base = NowMicros() - n * 10;
  std::string head;
  for (long i = 0; i < n; ++i) {
    env.arrival_micros = base + i * 10;
    env.id = relay::NewQueueId(env.arrival_micros);
    if (!relay::EncodeHead(env, &head).ok()) {
      fprintf(stderr, "relay-bench-make-queue: cannot encode entry %ld\n", i);
      return 1;
    }
    const std::string data = head + content + relay::EncodeTrailer(trailer);
    const std::string path = paths.queue_file(env.id);
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size()) ||
        fchown(fd, qst.st_uid, qst.st_gid) != 0 || close(fd) != 0) {
      perror(path.c_str());
      return 1;
    }
  }
  return 0;
}
