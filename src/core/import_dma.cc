// relayctl import from dma: dma.conf and its AUTHPATH file (auth.conf).
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "relay/strings.h"

#include "import_internal.h"

namespace relay::import_internal {

// ---------------------------------------------------------------- dma

Status ImportDma(const ImportSource& src, Builder& b) {
  const std::string* conf = FindFile(src, "dma.conf");
  if (!conf) return Status::DataErr("no dma.conf to import");
  if (!HasSettings(*conf)) return Status::DataErr("dma.conf is empty: no settings to import");

  struct Setting {
    std::string value;
    int line = 0;
  };
  std::map<std::string, Setting> set;
  int n = 0;
  for (std::string_view raw : Lines(*conf)) {
    ++n;
    std::string_view l = Trim(raw.substr(0, raw.find('#')));  // dma: '#' starts a comment anywhere
    if (l.empty()) continue;
    auto [word, value] = FirstWord(l);
    set[ToUpper(word)] = {std::string(value), n};
  }
  auto get = [&](const char* k) -> const Setting* {
    auto it = set.find(k);
    return it == set.end() ? nullptr : &it->second;
  };
  auto where = [&](const char* k) { return "dma.conf:" + std::to_string(get(k)->line) + ": " + k; };

  const Setting* smarthost = get("SMARTHOST");
  if (!smarthost || smarthost->value.empty())
    return Status::DataErr("dma.conf names no SMARTHOST: dma delivered straight to the recipients' "
                           "MX hosts, which relay never does; nothing to import");
  std::string host = smarthost->value;
  unsigned port = 25;
  if (const Setting* p = get("PORT"); p && !ParsePort(p->value, &port))
    return Status::DataErr(where("PORT") + " '" + p->value + "' is not a port number");
  bool secure = get("SECURETRANSFER") != nullptr;
  bool starttls = get("STARTTLS") != nullptr;
  bool opportunistic = get("OPPORTUNISTIC_TLS") != nullptr;
  TlsMode mode = !secure ? TlsMode::kNone : starttls ? TlsMode::kStartTls : TlsMode::kSmtps;
  std::string from = where("SMARTHOST") + " " + host + (get("PORT") ? ", PORT " + get("PORT")->value : ", port 25 (dma's default)");
  from += !secure ? ", no SECURETRANSFER (no TLS)" : starttls ? ", SECURETRANSFER and STARTTLS" : ", SECURETRANSFER (TLS from the first byte)";
  if (!b.AddHost(host, port, mode, from, where("SMARTHOST")))
    return Status::DataErr(where("SMARTHOST") + " " + host + " is not a host name relay can use");
  if (starttls && !secure)
    b.Warn(where("STARTTLS") + ": dma ignored it without SECURETRANSFER; mail went without TLS, and "
           "still will (tls none): set starttls on the smarthost line if the server offers it");
  else if (mode == TlsMode::kNone && !IsLoopback(host) && !get("AUTHPATH"))
    b.Warn(where("SMARTHOST") + ": mail went to " + host + " without TLS (no SECURETRANSFER), and still "
           "will (tls none); set starttls or smtps if the server offers it");
  if (opportunistic && mode == TlsMode::kStartTls)
    b.Warn(where("OPPORTUNISTIC_TLS") + ": relay requires STARTTLS to succeed; if the server offers "
           "none, set tls none on the smarthost line");
  if (const Setting* fp = get("FINGERPRINT")) {
    size_t digits = 0;
    std::string pin = Sha256Pin(fp->value, &digits);
    if (!pin.empty()) b.Set("tls_fingerprint", pin, where("FINGERPRINT"), where("FINGERPRINT"));
    else b.Warn(where("FINGERPRINT") + ": not a SHA-256 fingerprint; not carried over");
  } else if (mode != TlsMode::kNone) {
    b.Warn(where("SECURETRANSFER") + ": dma did not verify the smarthost's certificate; relay does "
           "(the system's CAs, and the name " + host + "): if it is self-signed, set tls_ca_file or "
           "tls_fingerprint");
  }
  if (const Setting* s = get("CERTFILE")) {
    b.Set("tls_cert_file", s->value, where("CERTFILE"), where("CERTFILE"));
    b.Set("tls_key_file", s->value, where("CERTFILE") + " (the key is in the same file)", where("CERTFILE"));
  }
  if (get("INSECURE"))
    b.Warn(where("INSECURE") + ": dma allowed the login without TLS; relay never sends the password "
           "unencrypted, except to a smarthost on loopback with auth_without_tls = yes");

  if (const Setting* ap = get("AUTHPATH")) {
    std::string name = BaseName(ap->value);
    const std::string* auth = FindFile(src, name);
    if (!auth) {
      if (!src.unreadable.count(name))
        b.Warn(where("AUTHPATH") + " " + ap->value + ": not found; no login imported");
    } else {
      bool found = false;
      int ln = 0;
      for (std::string_view raw : Lines(*auth)) {
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
        if (found) continue;
        found = true;
        b.auth_user = std::string(raw.substr(0, bar));
        b.auth_from = name + ":" + std::to_string(ln) + " (user|" + host + ")";
        b.secret = std::string(raw.substr(colon + 1));
        b.secret_from = name + ":" + std::to_string(ln);
      }
      if (!found) b.Warn(where("AUTHPATH") + ": " + name + " has no line for " + host + "; no login imported");
    }
  }

  std::string mailname_from;
  if (const Setting* m = get("MASQUERADE")) {
    std::string v = m->value;
    size_t at = v.find('@');
    std::string dom = at == std::string::npos ? v : v.substr(at + 1);
    if (at != std::string::npos)
      b.Warn(where("MASQUERADE") + " " + v + ": relay does not rewrite every sender to the user " +
             v.substr(0, at) + "; only the domain is carried over");
    if (!dom.empty()) b.Set("domain", dom, where("MASQUERADE"), where("MASQUERADE"));
  }
  if (const Setting* m = get("MAILNAME")) {
    if (!m->value.empty() && m->value.front() == '/') {
      if (m->value != "/etc/mailname")
        b.Warn(where("MAILNAME") + " " + m->value + ": relay takes its domain from /etc/mailname; "
               "set domain and helo_name to the name in " + m->value);
    } else if (!m->value.empty()) {
      b.Set("helo_name", m->value, where("MAILNAME"), where("MAILNAME"));
      if (!b.Has("domain")) b.Set("domain", m->value, where("MAILNAME"), where("MAILNAME"));
    }
  }
  if (const Setting* a = get("ALIASES"); a && a->value != "/etc/aliases")
    b.Set("aliases", a->value, where("ALIASES"), where("ALIASES"));
  if (get("SPOOLDIR"))
    b.Warn(where("SPOOLDIR") + ": relay has its own spool (spool_dir); messages still in " +
           get("SPOOLDIR")->value + " are not moved: flush them with 'dma -q' first");
  if (get("DEFER"))
    b.Warn(where("DEFER") + ": relay hands every message to relayd at once; to queue only, run "
           "sendmail -odq; not carried over");
  if (get("FULLBOUNCE"))
    b.Warn(where("FULLBOUNCE") + ": relay's bounces carry the original up to bounce_size_limit "
           "(50000 bytes by default); not carried over");
  static const std::set<std::string> kKnown = {
      "SMARTHOST", "PORT", "SECURETRANSFER", "STARTTLS", "OPPORTUNISTIC_TLS", "FINGERPRINT", "CERTFILE",
      "INSECURE", "AUTHPATH", "MASQUERADE", "MAILNAME", "ALIASES", "SPOOLDIR", "DEFER", "FULLBOUNCE",
      "NULLCLIENT",  // relay is always a null client
      "SECURE"};     // the opposite of INSECURE: relay's only way
  for (const auto& [k, s] : set)
    if (!kKnown.count(k))
      b.Warn("dma.conf:" + std::to_string(s.line) + ": " + Printable(k) + ": not a dma setting relay knows; not carried over");
  return Status::Ok();
}

}  // namespace relay::import_internal
