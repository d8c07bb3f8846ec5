// relayctl import from nullmailer: remotes and the control files beside it
// (adminaddr, defaultdomain, defaulthost, me, helohost, ...).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "relay/config.h"
#include "relay/strings.h"

#include "import_internal.h"

namespace relay::import_internal {

// ---------------------------------------------------------------- nullmailer

namespace {

std::string FirstLine(const std::string& text) {
  for (std::string_view l : Lines(text)) {
    std::string_view t = Trim(l);
    if (!t.empty() && t.front() != '#') return std::string(t);
  }
  return "";
}

}  // namespace

Status ImportNullmailer(const ImportSource& src, Builder& b) {
  const std::string* remotes = FindFile(src, "remotes");
  if (!remotes) {
    if (src.unreadable.count("remotes"))
      return Status::DataErr("remotes could not be read (" + src.unreadable.at("remotes") + ")");
    return Status::DataErr("no remotes file: nullmailer had no relay host to import");
  }
  if (!HasSettings(*remotes)) return Status::DataErr("remotes is empty: no relay host to import");

  std::string ca_file, ca_file_from, cert_file;
  bool auth_login = false;
  int n = 0;
  for (std::string_view raw : Lines(*remotes)) {
    ++n;
    std::string_view t = Trim(raw);
    if (t.empty() || t.front() == '#') continue;
    std::string where = "remotes:" + std::to_string(n);
    std::vector<std::string_view> w = Words(t);
    std::string host(w[0]);
    size_t i = 1;
    std::string proto = "smtp";
    if (w.size() > 1 && w[1].substr(0, 1) != "-") proto = std::string(w[1]), i = 2;
    if (proto == "qmqp") {
      b.Warn(where + ": " + host + " qmqp: relay speaks SMTP only; not carried over");
      continue;
    }
    if (proto != "smtp") {
      b.Warn(where + ": " + host + ": unknown protocol '" + Printable(proto) + "'; not carried over");
      continue;
    }
    unsigned port = 0;
    bool ssl = false, starttls = false;
    std::string user, pass;
    bool have_user = false, have_pass = false;
    for (; i < w.size(); ++i) {
      std::string_view opt = w[i];
      // Options as nullmailer-smtp takes them, with or without the dashes.
      while (!opt.empty() && opt.front() == '-') opt.remove_prefix(1);
      std::string_view name = opt, value;
      bool has_value = false;
      if (size_t eq = opt.find('='); eq != std::string_view::npos) {
        name = opt.substr(0, eq);
        value = opt.substr(eq + 1);
        has_value = true;
      }
      std::string oname(name);
      if ((oname == "port" || oname == "p") && !has_value && i + 1 < w.size()) value = w[++i], has_value = true;
      if (oname == "port" || oname == "p") {
        if (!ParsePort(value, &port))
          return Status::DataErr(where + ": --port=" + std::string(value) + " is not a port number");
      } else if (oname == "user") {
        user = value, have_user = true;
      } else if (oname == "pass") {
        pass = value, have_pass = true;
      } else if (oname == "ssl") {
        ssl = true;
      } else if (oname == "starttls") {
        starttls = true;
      } else if (oname == "insecure") {
        b.Warn(where + ": --insecure: relay always verifies the smarthost's certificate (the "
               "system's CAs and the name " + host + "); if it is self-signed, set tls_ca_file or "
               "tls_fingerprint");
      } else if (oname == "auth-login") {
        auth_login = true;
      } else if (oname == "x509cafile") {
        std::string v(value);
        if (!ca_file.empty() && ca_file != v)
          b.Warn(where + ": --x509cafile: relay has one CA file for every smarthost; kept " + ca_file_from);
        else if (ca_file.empty())
          ca_file = v, ca_file_from = where + ": --x509cafile";
      } else if (oname == "x509certfile") {
        std::string v(value);
        if (cert_file.empty()) {
          cert_file = v;
          b.Set("tls_cert_file", v, where + ": --x509certfile", where + ": --x509certfile");
          b.Set("tls_key_file", v, where + ": --x509certfile (the key is in the same file)", where + ": --x509certfile");
        } else if (cert_file != v) {
          b.Warn(where + ": --x509certfile: relay has one client certificate for every smarthost; not carried over");
        }
      } else if (oname == "x509crlfile") {
        b.Warn(where + ": --x509crlfile: relay does not check certificate revocation lists; not carried over");
      } else if (oname == "x509fmtder") {
        b.Warn(where + ": --x509fmtder: relay reads PEM files only: convert them with "
               "'openssl x509 -inform der'");
      } else if (oname == "source") {
        b.Warn(where + ": --source: relay does not choose the local address it connects from; not carried over");
      } else if (oname == "options-file") {
        b.Warn(where + ": --options-file=" + std::string(value) + ": not read: carry its options "
               "(perhaps --user and --pass) over by hand");
      } else if (oname == "syslog" || oname == "daemon" || oname == "s" || oname == "d") {
        // Logging: relayd logs to syslog anyway.
      } else {
        b.Warn(where + ": --" + Printable(oname) + ": not a nullmailer option relay knows; not carried over");
      }
    }
    if (port == 0) port = ssl ? 465 : 25;
    TlsMode tls = ssl ? TlsMode::kSmtps : starttls ? TlsMode::kStartTls : TlsMode::kNone;
    std::string from = where + ": " + host + (ssl ? " --ssl" : starttls ? " --starttls" : " (no TLS)");
    if (!b.AddHost(host, port, tls, from, where)) continue;
    if (tls == TlsMode::kNone && !IsLoopback(host) && !have_user)
      b.Warn(where + ": " + host + ": mail went without TLS, and still will (tls none); add "
             "starttls or smtps to the smarthost line if the server offers it");
    if (have_user) {
      if (b.auth_user.empty()) {
        b.auth_user = user;
        b.auth_from = where + ": --user";
        if (have_pass) b.secret = pass, b.secret_from = where + ": --pass";
      } else if (b.auth_user != user || (have_pass && b.secret != pass)) {
        b.Warn(where + ": --user/--pass: relay logs in to every smarthost with one user and "
               "password; kept those of " + b.auth_from.substr(0, b.auth_from.find(':', 8)));
      }
    } else if (have_pass) {
      if (b.secret.empty()) b.secret = pass, b.secret_from = where + ": --pass";
    }
  }
  // A host without --user while another has one: relay logs in everywhere.
  if (!b.auth_user.empty()) {
    int ln = 0;
    for (std::string_view raw : Lines(*remotes)) {
      ++ln;
      std::string_view t = Trim(raw);
      if (t.empty() || t.front() == '#') continue;
      if (t.find("user=") == std::string_view::npos)
        b.Warn("remotes:" + std::to_string(ln) + ": " + std::string(Words(t)[0]) +
               ": no --user, but relay logs in to every smarthost as " + b.auth_user);
    }
  }
  if (b.hops().empty()) return Status::DataErr("remotes names no SMTP relay host relay can use");
  SetCaFile(b, ca_file, ca_file_from, ca_file_from);
  if (auth_login) b.Set("auth_mechanisms", "LOGIN", "remotes: --auth-login", "remotes: --auth-login");

  auto control = [&](const char* name) -> std::string {
    const std::string* t = FindFile(src, name);
    return t ? FirstLine(*t) : "";
  };
  std::string defaultdomain = control("defaultdomain");
  std::string defaulthost = control("defaulthost");
  std::string me = control("me");
  std::string helohost = control("helohost");
  // nullmailer qualifies "user" as user@defaulthost, and a host name
  // without a dot with .defaultdomain; defaulthost defaults to me.
  if (!defaulthost.empty()) {
    std::string d = defaulthost;
    if (d.find('.') == std::string::npos && !defaultdomain.empty()) d += "." + defaultdomain;
    b.Set("domain", d, "defaulthost" + std::string(d != defaulthost ? " and defaultdomain" : ""), "defaulthost");
  } else if (!defaultdomain.empty()) {
    b.Set("domain", defaultdomain, "defaultdomain", "defaultdomain");
  }
  if (!helohost.empty()) b.Set("helo_name", helohost, "helohost", "helohost");
  else if (!me.empty()) b.Set("helo_name", me, "me", "me");

  if (const std::string* admin = FindFile(src, "adminaddr")) {
    std::string list;
    for (std::string_view l : Lines(*admin)) {
      std::string_view t = Trim(l);
      if (t.empty() || t.front() == '#') continue;
      list += (list.empty() ? "" : ", ") + std::string(t);
    }
    if (!list.empty()) {
      b.alias_lines.push_back("root: " + list);
      b.Warn("adminaddr: nullmailer sent all local mail (to any name without a domain) to " + list +
             "; the alias 'root: " + list + "' covers root only: add '*: " + list +
             "' to the aliases to keep sending every local name there");
    }
  }
  if (!control("idhost").empty())
    b.Warn("idhost: relay's Message-IDs end in domain; not carried over");
  if (!control("allmailfrom").empty())
    b.Warn("allmailfrom: relay does not give every message one fixed envelope sender; not carried over");
  if (!control("pausetime").empty() || !control("maxpause").empty())
    b.Warn("pausetime/maxpause: relay retries after retry_min (5m), doubling up to retry_max (1h); "
           "not carried over");
  if (!control("sendtimeout").empty())
    b.Warn("sendtimeout: relay times each SMTP step (timeout_command and the others); not carried over");
  std::string lifetime = control("queuelifetime");
  if (!lifetime.empty()) {
    int64_t secs = 0;
    if (ParseDuration(lifetime, &secs)) b.Set("queue_lifetime", lifetime, "queuelifetime", "queuelifetime");
    else b.Warn("queuelifetime: '" + Printable(lifetime) + "' is not a number of seconds; not carried over");
  }
  return Status::Ok();
}

}  // namespace relay::import_internal
