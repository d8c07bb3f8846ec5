// bench/tls_sink.cc: an SMTP sink with STARTTLS and AUTH PLAIN, fast enough
// that the client under test, not the sink, is the limit (issue 19 item 3),
// and a load generator to show the sink's own ceiling. Benchmark tool only:
// it is built by bench/run, never installed, and listens on 127.0.0.1 only.
//
//   tls_sink serve PORT CERT KEY USER PASSWORD_FILE COUNT_FILE MAX_SECONDS
//       Serves every connection in its own thread: 220, EHLO (STARTTLS
//       before TLS, AUTH PLAIN after), STARTTLS, AUTH PLAIN (USER and the
//       first line of PASSWORD_FILE; anything else is 535), MAIL, RCPT,
//       DATA (discarded up to <CRLF>.<CRLF>), RSET, NOOP, QUIT. Replies to
//       pipelined commands go out in one write. COUNT_FILE is rewritten
//       with "mesg=N conn=C" (smtp-sink's word, so bench/tools.py
//       sink-count reads it) every 20 ms while it changes. MAIL without
//       AUTH is refused (530), so a client that skips AUTH is not counted.
//   tls_sink load PORT CA USER PASSWORD_FILE CLIENTS MESSAGES
//       CLIENTS threads each open one connection, STARTTLS (verifying the
//       certificate against CA), AUTH PLAIN, and send MESSAGES messages of
//       3 KB, pipelining MAIL/RCPT/DATA; prints "MSGS SECONDS MSG/S".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<long> g_messages{0};
std::atomic<long> g_connections{0};
std::string g_auth_plain;  // base64 of "\0USER\0PASSWORD"

std::string Base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(n);
  return out;
}

std::string FirstLine(const char* path) {
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  return line;
}

// One side of a connection, plain until StartTls.
class Stream {
 public:
  explicit Stream(int fd) : fd_(fd) {}
  ~Stream() {
    if (ssl_) SSL_free(ssl_);
    close(fd_);
  }
  bool StartTls(SSL_CTX* ctx, bool server) {
    buf_.clear();  // plaintext sent after STARTTLS is not taken as encrypted
    pos_ = 0;
    ssl_ = SSL_new(ctx);
    SSL_set_fd(ssl_, fd_);
    if (!server) SSL_set_tlsext_host_name(ssl_, "localhost");
    return (server ? SSL_accept(ssl_) : SSL_connect(ssl_)) == 1;
  }
  // A line without its CRLF; false at EOF or error.
  bool ReadLine(std::string* line) {
    for (;;) {
      size_t nl = buf_.find("\r\n", pos_);
      if (nl != std::string::npos) {
        line->assign(buf_, pos_, nl - pos_);
        pos_ = nl + 2;
        return true;
      }
      buf_.erase(0, pos_);
      pos_ = 0;
      char tmp[65536];
      int n = ssl_ ? SSL_read(ssl_, tmp, sizeof tmp) : static_cast<int>(read(fd_, tmp, sizeof tmp));
      if (n <= 0) return false;
      buf_.append(tmp, n);
    }
  }
  bool Buffered() const { return pos_ < buf_.size() || (ssl_ && SSL_pending(ssl_) > 0); }
  bool Write(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      int n = ssl_ ? SSL_write(ssl_, s.data() + off, static_cast<int>(s.size() - off))
                   : static_cast<int>(write(fd_, s.data() + off, s.size() - off));
      if (n <= 0) return false;
      off += n;
    }
    return true;
  }

 private:
  int fd_;
  SSL* ssl_ = nullptr;
  std::string buf_;
  size_t pos_ = 0;
};

bool Starts(const std::string& line, const char* word) { return strncasecmp(line.c_str(), word, strlen(word)) == 0; }

void Serve(int fd, SSL_CTX* ctx) {
  Stream s(fd);
  bool tls = false, authed = false;
  std::string out = "220 tls-sink ESMTP\r\n", line;
  s.Write(out);
  out.clear();
  while (s.ReadLine(&line)) {
    if (Starts(line, "EHLO")) {
      out += tls ? "250-tls-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 AUTH PLAIN\r\n"
                 : "250-tls-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 STARTTLS\r\n";
    } else if (Starts(line, "STARTTLS") && !tls) {
      if (!s.Write("220 2.0.0 go\r\n") || !s.StartTls(ctx, true)) return;
      tls = true;
      continue;
    } else if (Starts(line, "AUTH PLAIN")) {
      std::string resp = line.size() > 11 ? line.substr(11) : "";
      if (resp.empty()) {
        if (!s.Write("334 \r\n") || !s.ReadLine(&resp)) return;
      }
      authed = tls && resp == g_auth_plain;
      out += authed ? "235 2.7.0 ok\r\n" : "535 5.7.8 bad\r\n";
    } else if (Starts(line, "MAIL")) {
      out += authed ? "250 2.1.0 ok\r\n" : "530 5.7.0 auth first\r\n";
    } else if (Starts(line, "RCPT") || Starts(line, "RSET") || Starts(line, "NOOP")) {
      out += "250 2.0.0 ok\r\n";
    } else if (Starts(line, "DATA")) {
      if (!authed) { out += "530 5.7.0 auth first\r\n"; continue; }
      if (!s.Write(out + "354 go\r\n")) return;
      out.clear();
      while (s.ReadLine(&line) && line != ".") {}
      g_messages.fetch_add(1, std::memory_order_relaxed);
      out += "250 2.0.0 queued\r\n";
    } else if (Starts(line, "QUIT")) {
      s.Write(out + "221 2.0.0 bye\r\n");
      return;
    } else {
      out += "502 5.5.2 no\r\n";
    }
    if (!s.Buffered()) {
      if (!s.Write(out)) return;
      out.clear();
    }
  }
}

int Listen(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 512) != 0) {
    perror("tls_sink: bind/listen");
    exit(1);
  }
  return fd;
}

int RunServe(char** a) {
  int port = atoi(a[0]);
  g_auth_plain = Base64(std::string(1, '\0') + a[3] + std::string(1, '\0') + FirstLine(a[4]));
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (SSL_CTX_use_certificate_chain_file(ctx, a[1]) != 1 || SSL_CTX_use_PrivateKey_file(ctx, a[2], SSL_FILETYPE_PEM) != 1) {
    fprintf(stderr, "tls_sink: cannot load %s / %s\n", a[1], a[2]);
    return 1;
  }
  const std::string count_file = a[5];
  const int max_seconds = atoi(a[6]);
  int lfd = Listen(port);
  std::thread([count_file, max_seconds] {
    long last = -1, last_c = -1;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(max_seconds);
    while (std::chrono::steady_clock::now() < end) {
      long m = g_messages.load(), c = g_connections.load();
      if (m != last || c != last_c) {
        std::string tmp = count_file + ".tmp";
        FILE* f = fopen(tmp.c_str(), "w");
        if (f) {
          fprintf(f, "mesg=%ld conn=%ld\n", m, c);
          fclose(f);
          rename(tmp.c_str(), count_file.c_str());
        }
        last = m;
        last_c = c;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    _exit(0);  // the bound: a benchmark never leaves a sink behind
  }).detach();
  for (;;) {
    int fd = accept(lfd, nullptr, nullptr);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    g_connections.fetch_add(1);
    std::thread(Serve, fd, ctx).detach();
  }
}

// One load client: true when every message was accepted.
bool LoadClient(int port, SSL_CTX* ctx, const std::string& auth, int messages) {
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return false;
  Stream s(fd);
  std::string line;
  auto expect = [&](int lines) {
    for (int i = 0; i < lines; ++i)
      if (!s.ReadLine(&line) || line[0] >= '4') return false;
    return true;
  };
  auto multi = [&] {  // a multi-line reply
    do {
      if (!s.ReadLine(&line) || line[0] >= '4') return false;
    } while (line.size() > 3 && line[3] == '-');
    return true;
  };
  if (!expect(1) || !s.Write("EHLO load\r\n") || !multi() || !s.Write("STARTTLS\r\n") || !expect(1) ||
      !s.StartTls(ctx, false) || !s.Write("EHLO load\r\n") || !multi() || !s.Write("AUTH PLAIN " + auth + "\r\n") ||
      !expect(1))
    return false;
  std::string body;
  for (int i = 0; i < 40; ++i) body += "Line of job output, seventy-odd characters long, to make up a 3 KB mail.\r\n";
  for (int m = 0; m < messages; ++m) {
    if (!s.Write("MAIL FROM:<cron@example.com>\r\nRCPT TO:<admin@example.net>\r\nDATA\r\n") || !expect(3) ||
        !s.Write("Subject: load\r\n\r\n" + body + ".\r\n") || !expect(1))
      return false;
  }
  s.Write("QUIT\r\n");
  return true;
}

int RunLoad(char** a) {
  int port = atoi(a[0]), clients = atoi(a[4]), messages = atoi(a[5]);
  std::string auth = Base64(std::string(1, '\0') + a[2] + std::string(1, '\0') + FirstLine(a[3]));
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_load_verify_locations(ctx, a[1], nullptr) != 1) {
    fprintf(stderr, "tls_sink: cannot load CA %s\n", a[1]);
    return 1;
  }
  std::atomic<int> failed{0};
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> ts;
  for (int i = 0; i < clients; ++i)
    ts.emplace_back([&] { if (!LoadClient(port, ctx, auth, messages)) failed++; });
  for (auto& t : ts) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (failed) {
    fprintf(stderr, "tls_sink load: %d of %d clients failed\n", failed.load(), clients);
    return 1;
  }
  long n = static_cast<long>(clients) * messages;
  printf("%ld %.6f %.1f\n", n, secs, n / secs);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 9 && strcmp(argv[1], "serve") == 0) return RunServe(argv + 2);
  if (argc == 8 && strcmp(argv[1], "load") == 0) return RunLoad(argv + 2);
  fprintf(stderr,
          "usage: tls_sink serve PORT CERT KEY USER PASSWORD_FILE COUNT_FILE MAX_SECONDS\n"
          "       tls_sink load PORT CA USER PASSWORD_FILE CLIENTS MESSAGES\n");
  return 64;
}
