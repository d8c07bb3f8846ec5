// relayctl import from dma: dma.conf and its AUTHPATH file (auth.conf).
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/strings.h"

#include "import_internal.h"

namespace relay::import_internal {

namespace {

// dma.conf: "KEY [value]" lines, and where each one is written.
struct DmaConf {
  struct Setting {
    std::string value;
    int line = 0;
  };
  std::map<std::string, Setting> set;  // by the key in upper case

  const Setting* Get(const char* k) const {
    auto it = set.find(k);
    return it == set.end() ? nullptr : &it->second;
  }
  std::string Where(const char* k) const { return "dma.conf:" + std::to_string(Get(k)->line) + ": " + k; }
};

DmaConf ParseDmaConf(const std::string& text) {
  DmaConf c;
  int n = 0;
  for (std::string_view raw : Lines(text)) {
    ++n;
    std::string_view l = Trim(raw.substr(0, raw.find('#')));  // dma: '#' starts a comment anywhere
    if (l.empty()) continue;
    auto [word, value] = FirstWord(l);
    c.set[ToUpper(word)] = {std::string(value), n};
  }
  return c;
}

// ---------------------------------------------------------------- the host and TLS

// The smarthost line: SMARTHOST, PORT, and TLS as SECURETRANSFER and
// STARTTLS meant it.
Status DmaHost(const DmaConf& c, Builder& b, TlsMode* mode) {
  const DmaConf::Setting* smarthost = c.Get("SMARTHOST");
  if (!smarthost || smarthost->value.empty())
    return Status::DataErr("dma.conf names no SMARTHOST: dma delivered straight to the recipients' "
                           "MX hosts, which relay never does; nothing to import");
  std::string host = smarthost->value;
  unsigned port = 25;
  if (const DmaConf::Setting* p = c.Get("PORT"); p && !ParsePort(p->value, &port))
    return Status::DataErr(c.Where("PORT") + " '" + p->value + "' is not a port number");
  bool secure = c.Get("SECURETRANSFER") != nullptr;
  bool starttls = c.Get("STARTTLS") != nullptr;
  *mode = !secure ? TlsMode::kNone : starttls ? TlsMode::kStartTls : TlsMode::kSmtps;
  std::string from = c.Where("SMARTHOST") + " " + host +
                     (c.Get("PORT") ? ", PORT " + c.Get("PORT")->value : ", port 25 (dma's default)");
  from += !secure     ? ", no SECURETRANSFER (no TLS)"
          : starttls ? ", SECURETRANSFER and STARTTLS"
                     : ", SECURETRANSFER (TLS from the first byte)";
  if (!b.AddHost(host, port, *mode, from, c.Where("SMARTHOST")))
    return Status::DataErr(c.Where("SMARTHOST") + " " + host + " is not a host name relay can use");
  if (starttls && !secure)
    b.Warn(c.Where("STARTTLS") + ": dma ignored it without SECURETRANSFER; mail went without TLS, and "
           "still will (tls none): set starttls on the smarthost line if the server offers it");
  else if (*mode == TlsMode::kNone && !IsLoopback(host) && !c.Get("AUTHPATH"))
    b.Warn(c.Where("SMARTHOST") + ": mail went to " + host + " without TLS (no SECURETRANSFER), and "
           "still will (tls none); set starttls or smtps if the server offers it");
  if (c.Get("OPPORTUNISTIC_TLS") && *mode == TlsMode::kStartTls)
    b.Warn(c.Where("OPPORTUNISTIC_TLS") + ": relay requires STARTTLS to succeed; if the server offers "
           "none, set tls none on the smarthost line");
  return Status::Ok();
}

// The pin and the client certificate; INSECURE is warned of.
void DmaTls(const DmaConf& c, Builder& b, TlsMode mode) {
  if (const DmaConf::Setting* fp = c.Get("FINGERPRINT")) {
    size_t digits = 0;
    std::string pin = Sha256Pin(fp->value, &digits);
    if (!pin.empty()) b.Set("tls_fingerprint", pin, c.Where("FINGERPRINT"), c.Where("FINGERPRINT"));
    else b.Warn(c.Where("FINGERPRINT") + ": not a SHA-256 fingerprint; not carried over");
  } else if (mode != TlsMode::kNone) {
    b.Warn(c.Where("SECURETRANSFER") + ": dma did not verify the smarthost's certificate; relay does "
           "(the system's CAs, and the name " + c.Get("SMARTHOST")->value + "): if it is self-signed, "
           "set tls_ca_file or tls_fingerprint");
  }
  if (const DmaConf::Setting* s = c.Get("CERTFILE")) {
    b.Set("tls_cert_file", s->value, c.Where("CERTFILE"), c.Where("CERTFILE"));
    b.Set("tls_key_file", s->value, c.Where("CERTFILE") + " (the key is in the same file)", c.Where("CERTFILE"));
  }
  if (c.Get("INSECURE"))
    b.Warn(c.Where("INSECURE") + ": dma allowed the login without TLS; relay never sends the password "
           "unencrypted, except to a smarthost on loopback with auth_without_tls = yes");
}

// ---------------------------------------------------------------- the login

// The first "user|smarthost:password" line of the AUTHPATH file (name)
// for host; false when there is none.
bool DmaAuthLine(const std::string& name, const std::string& text, const std::string& host, Builder& b) {
  bool found = false;
  int ln = 0;
  for (std::string_view raw : Lines(text)) {
    ++ln;
    if (raw.empty() || raw.front() == '#') continue;  // dma: comments only at the start
    size_t bar = raw.find('|');
    size_t colon = bar == std::string_view::npos ? bar : raw.find(':', bar + 1);
    if (bar == std::string_view::npos || colon == std::string_view::npos) {
      b.Warn(name + ":" + std::to_string(ln) + ": not 'user|smarthost:password'; ignored");
      continue;
    }
    std::string_view ahost = Trim(raw.substr(bar + 1, colon - bar - 1));
    if (!EqualsIgnoreCase(ahost, host)) continue;
    if (found) continue;  // dma takes the first line for the host
    found = true;
    b.auth_user = std::string(raw.substr(0, bar));
    b.auth_from = name + ":" + std::to_string(ln) + " (user|" + host + ")";
    b.secret = std::string(raw.substr(colon + 1));
    b.secret_from = name + ":" + std::to_string(ln);
  }
  return found;
}

void DmaLogin(const ImportSource& src, const DmaConf& c, Builder& b) {
  const DmaConf::Setting* ap = c.Get("AUTHPATH");
  if (!ap) return;
  std::string name = BaseName(ap->value);
  const std::string& host = c.Get("SMARTHOST")->value;
  if (const std::string* auth = FindFile(src, name)) {
    if (!DmaAuthLine(name, *auth, host, b))
      b.Warn(c.Where("AUTHPATH") + ": " + name + " has no line for " + host + "; no login imported");
  } else if (!src.unreadable.count(name)) {  // an unreadable one is warned of already
    b.Warn(c.Where("AUTHPATH") + " " + ap->value + ": not found; no login imported");
  }
}

// ---------------------------------------------------------------- names, aliases, leftovers

// domain from MASQUERADE, else MAILNAME; helo_name from MAILNAME; aliases.
void DmaNames(const DmaConf& c, Builder& b) {
  if (const DmaConf::Setting* m = c.Get("MASQUERADE")) {
    std::string v = m->value;
    size_t at = v.find('@');
    std::string dom = at == std::string::npos ? v : v.substr(at + 1);
    if (at != std::string::npos)
      b.Warn(c.Where("MASQUERADE") + " " + v + ": relay does not rewrite every sender to the user " +
             v.substr(0, at) + "; only the domain is carried over");
    if (!dom.empty()) b.Set("domain", dom, c.Where("MASQUERADE"), c.Where("MASQUERADE"));
  }
  if (const DmaConf::Setting* m = c.Get("MAILNAME")) {
    if (!m->value.empty() && m->value.front() == '/') {
      if (m->value != "/etc/mailname")
        b.Warn(c.Where("MAILNAME") + " " + m->value + ": relay takes its domain from /etc/mailname; "
               "set domain and helo_name to the name in " + m->value);
    } else if (!m->value.empty()) {
      b.Set("helo_name", m->value, c.Where("MAILNAME"), c.Where("MAILNAME"));
      if (!b.Has("domain")) b.Set("domain", m->value, c.Where("MAILNAME"), c.Where("MAILNAME"));
    }
  }
  if (const DmaConf::Setting* a = c.Get("ALIASES"); a && a->value != "/etc/aliases")
    b.Set("aliases", a->value, c.Where("ALIASES"), c.Where("ALIASES"));
}

// The queueing settings, and a warning for each setting relay does not know.
void DmaLeftovers(const DmaConf& c, Builder& b) {
  if (c.Get("SPOOLDIR"))
    b.Warn(c.Where("SPOOLDIR") + ": relay has its own spool (spool_dir); messages still in " +
           c.Get("SPOOLDIR")->value + " are not moved: flush them with 'dma -q' first");
  if (c.Get("DEFER"))
    b.Warn(c.Where("DEFER") + ": relay hands every message to relayd at once; to queue only, run "
           "sendmail -odq; not carried over");
  if (c.Get("FULLBOUNCE"))
    b.Warn(c.Where("FULLBOUNCE") + ": relay's bounces carry the original up to bounce_size_limit "
           "(50000 bytes by default); not carried over");
  static const std::set<std::string> kKnown = {
      "SMARTHOST", "PORT", "SECURETRANSFER", "STARTTLS", "OPPORTUNISTIC_TLS", "FINGERPRINT", "CERTFILE",
      "INSECURE", "AUTHPATH", "MASQUERADE", "MAILNAME", "ALIASES", "SPOOLDIR", "DEFER", "FULLBOUNCE",
      "NULLCLIENT",  // relay is always a null client
      "SECURE"};     // the opposite of INSECURE: relay's only way
  for (const auto& [k, s] : c.set)
    if (!kKnown.count(k))
      b.Warn("dma.conf:" + std::to_string(s.line) + ": " + Printable(k) + ": not a dma setting relay knows; "
             "not carried over");
}

}  // namespace

Status ImportDma(const ImportSource& src, Builder& b) {
  const std::string* text = nullptr;
  Status s = MainFileText(src, "dma.conf", &text);
  if (!s.ok()) return s;
  DmaConf c = ParseDmaConf(*text);
  TlsMode mode = TlsMode::kNone;
  s = DmaHost(c, b, &mode);
  if (!s.ok()) return s;
  DmaTls(c, b, mode);
  DmaLogin(src, c, b);
  DmaNames(c, b);
  DmaLeftovers(c, b);
  return Status::Ok();
}

}  // namespace relay::import_internal
