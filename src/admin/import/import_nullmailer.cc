// relayctl import from nullmailer: remotes and the control files beside it
// (adminaddr, defaultdomain, defaulthost, me, helohost, ...).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/config.h"
#include "relay/base/strings.h"

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

// The first line of a control file (defaultdomain, me, ...); "" when the
// file is not there.
std::string Control(const ImportSource& src, const char* name) {
  const std::string* t = FindFile(src, name);
  return t ? FirstLine(*t) : "";
}

// ---------------------------------------------------------------- remotes: hosts, TLS, login

// A line of remotes: a host, and how nullmailer-smtp was told to reach it.
struct Remote {
  std::string host;
  unsigned port = 0;
  bool ssl = false, starttls = false;
  std::string user, pass;
  bool have_user = false, have_pass = false;
};

// What relay has once for all smarthosts: the first line to give it wins.
struct RemotesShared {
  std::string ca_file, ca_file_from, cert_file;
  bool auth_login = false;
};

// One option of a remotes line, its dashes removed; where is "remotes:N".
Status RemoteOption(const std::string& oname, std::string_view value, const std::string& where, Remote* r,
                    RemotesShared* shared, Builder& b) {
  if (oname == "port" || oname == "p") {
    if (!ParsePort(value, &r->port))
      return Status::DataErr(where + ": --port=" + std::string(value) + " is not a port number");
  } else if (oname == "user") {
    r->user = value, r->have_user = true;
  } else if (oname == "pass") {
    r->pass = value, r->have_pass = true;
  } else if (oname == "ssl") {
    r->ssl = true;
  } else if (oname == "starttls") {
    r->starttls = true;
  } else if (oname == "insecure") {
    b.Warn(where + ": --insecure: relay always verifies the smarthost's certificate (the "
           "system's CAs and the name " + r->host + "); if it is self-signed, set tls_ca_file or "
           "tls_fingerprint");
  } else if (oname == "auth-login") {
    shared->auth_login = true;
  } else if (oname == "x509cafile") {
    std::string v(value);
    if (!shared->ca_file.empty() && shared->ca_file != v)
      b.Warn(where + ": --x509cafile: relay has one CA file for every smarthost; kept " + shared->ca_file_from);
    else if (shared->ca_file.empty())
      shared->ca_file = v, shared->ca_file_from = where + ": --x509cafile";
  } else if (oname == "x509certfile") {
    std::string v(value);
    if (shared->cert_file.empty()) {
      shared->cert_file = v;
      b.Set("tls_cert_file", v, where + ": --x509certfile", where + ": --x509certfile");
      b.Set("tls_key_file", v, where + ": --x509certfile (the key is in the same file)", where + ": --x509certfile");
    } else if (shared->cert_file != v) {
      b.Warn(where + ": --x509certfile: relay has one client certificate for every smarthost; not carried over");
    }
  } else if (oname == "x509crlfile") {
    b.Warn(where + ": --x509crlfile: relay does not check certificate revocation lists; not carried over");
  } else if (oname == "x509fmtder") {
    b.Warn(where + ": --x509fmtder: relay reads PEM files only: convert them with 'openssl x509 -inform der'");
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
  return Status::Ok();
}

// The options of a remotes line, from w[i] on.
Status RemoteOptions(const std::vector<std::string_view>& w, size_t i, const std::string& where, Remote* r,
                     RemotesShared* shared, Builder& b) {
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
    if ((oname == "port" || oname == "p") && !has_value && i + 1 < w.size()) value = w[++i];
    Status s = RemoteOption(oname, value, where, r, shared, b);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// The smarthost line of a remotes line, and its login: relay has one for
// every smarthost, the first line's.
void AddRemote(const Remote& r, const std::string& where, Builder& b) {
  unsigned port = r.port != 0 ? r.port : r.ssl ? 465 : 25;
  TlsMode tls = r.ssl ? TlsMode::kSmtps : r.starttls ? TlsMode::kStartTls : TlsMode::kNone;
  std::string from = where + ": " + r.host + (r.ssl ? " --ssl" : r.starttls ? " --starttls" : " (no TLS)");
  if (!b.AddHost(r.host, port, tls, from, where)) return;
  if (tls == TlsMode::kNone && !IsLoopback(r.host) && !r.have_user)
    b.Warn(where + ": " + r.host + ": mail went without TLS, and still will (tls none); add "
           "starttls or smtps to the smarthost line if the server offers it");
  if (r.have_user) {
    if (b.auth_user.empty()) {
      b.auth_user = r.user;
      b.auth_from = where + ": --user";
      if (r.have_pass) b.secret = r.pass, b.secret_from = where + ": --pass";
    } else if (b.auth_user != r.user || (r.have_pass && b.secret != r.pass)) {
      b.Warn(where + ": --user/--pass: relay logs in to every smarthost with one user and "
             "password; kept those of " + b.auth_from.substr(0, b.auth_from.find(':', 8)));
    }
  } else if (r.have_pass) {
    if (b.secret.empty()) b.secret = r.pass, b.secret_from = where + ": --pass";
  }
}

// Each line of remotes: "host [protocol] [options]".
Status ImportRemotes(const std::string& remotes, RemotesShared* shared, Builder& b) {
  int n = 0;
  for (std::string_view raw : Lines(remotes)) {
    ++n;
    std::string_view t = Trim(raw);
    if (t.empty() || t.front() == '#') continue;
    std::string where = "remotes:" + std::to_string(n);
    std::vector<std::string_view> w = Words(t);
    Remote r;
    r.host = std::string(w[0]);
    size_t i = 1;
    std::string proto = "smtp";
    if (w.size() > 1 && w[1].substr(0, 1) != "-") proto = std::string(w[1]), i = 2;
    if (proto == "qmqp") {
      b.Warn(where + ": " + r.host + " qmqp: relay speaks SMTP only; not carried over");
      continue;
    }
    if (proto != "smtp") {
      b.Warn(where + ": " + r.host + ": unknown protocol '" + Printable(proto) + "'; not carried over");
      continue;
    }
    Status s = RemoteOptions(w, i, where, &r, shared, b);
    if (!s.ok()) return s;
    AddRemote(r, where, b);
  }
  return Status::Ok();
}

// A host without --user while another has one: relay logs in everywhere.
void WarnRemotesWithoutUser(const std::string& remotes, Builder& b) {
  if (b.auth_user.empty()) return;
  int ln = 0;
  for (std::string_view raw : Lines(remotes)) {
    ++ln;
    std::string_view t = Trim(raw);
    if (t.empty() || t.front() == '#') continue;
    if (t.find("user=") == std::string_view::npos)
      b.Warn("remotes:" + std::to_string(ln) + ": " + std::string(Words(t)[0]) +
             ": no --user, but relay logs in to every smarthost as " + b.auth_user);
  }
}

// ---------------------------------------------------------------- names, aliases, leftovers

// domain and helo_name from the control files.
void NullmailerNames(const ImportSource& src, Builder& b) {
  std::string defaultdomain = Control(src, "defaultdomain");
  std::string defaulthost = Control(src, "defaulthost");
  // nullmailer qualifies "user" as user@defaulthost, and a host name
  // without a dot with .defaultdomain; defaulthost defaults to me.
  if (!defaulthost.empty()) {
    std::string d = defaulthost;
    if (d.find('.') == std::string::npos && !defaultdomain.empty()) d += "." + defaultdomain;
    b.Set("domain", d, "defaulthost" + std::string(d != defaulthost ? " and defaultdomain" : ""), "defaulthost");
  } else if (!defaultdomain.empty()) {
    b.Set("domain", defaultdomain, "defaultdomain", "defaultdomain");
  }
  std::string me = Control(src, "me");
  std::string helohost = Control(src, "helohost");
  if (!helohost.empty()) b.Set("helo_name", helohost, "helohost", "helohost");
  else if (!me.empty()) b.Set("helo_name", me, "me", "me");
}

// adminaddr: where nullmailer sent all local mail; an alias for root.
void NullmailerAdmin(const ImportSource& src, Builder& b) {
  const std::string* admin = FindFile(src, "adminaddr");
  if (!admin) return;
  std::string list;
  for (std::string_view l : Lines(*admin)) {
    std::string_view t = Trim(l);
    if (t.empty() || t.front() == '#') continue;
    list += (list.empty() ? "" : ", ") + std::string(t);
  }
  if (list.empty()) return;
  b.alias_lines.push_back("root: " + list);
  b.Warn("adminaddr: nullmailer sent all local mail (to any name without a domain) to " + list +
         "; the alias 'root: " + list + "' covers root only: add '*: " + list +
         "' to the aliases to keep sending every local name there");
}

// The times (queuelifetime alone carries over) and the other control files.
void NullmailerLeftovers(const ImportSource& src, Builder& b) {
  if (!Control(src, "idhost").empty())
    b.Warn("idhost: relay's Message-IDs end in domain; not carried over");
  if (!Control(src, "allmailfrom").empty())
    b.Warn("allmailfrom: relay does not give every message one fixed envelope sender; not carried over");
  if (!Control(src, "pausetime").empty() || !Control(src, "maxpause").empty())
    b.Warn("pausetime/maxpause: relay retries after retry_min (5m), doubling up to retry_max (1h); "
           "not carried over");
  if (!Control(src, "sendtimeout").empty())
    b.Warn("sendtimeout: relay times each SMTP step (timeout_command and the others); not carried over");
  std::string lifetime = Control(src, "queuelifetime");
  if (!lifetime.empty()) {
    int64_t secs = 0;
    if (ParseDuration(lifetime, &secs)) b.Set("queue_lifetime", lifetime, "queuelifetime", "queuelifetime");
    else b.Warn("queuelifetime: '" + Printable(lifetime) + "' is not a number of seconds; not carried over");
  }
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

  RemotesShared shared;
  Status s = ImportRemotes(*remotes, &shared, b);
  if (!s.ok()) return s;
  WarnRemotesWithoutUser(*remotes, b);
  if (b.hops().empty()) return Status::DataErr("remotes names no SMTP relay host relay can use");
  SetCaFile(b, shared.ca_file, shared.ca_file_from, shared.ca_file_from);
  if (shared.auth_login) b.Set("auth_mechanisms", "LOGIN", "remotes: --auth-login", "remotes: --auth-login");

  NullmailerNames(src, b);
  NullmailerAdmin(src, b);
  NullmailerLeftovers(src, b);
  return Status::Ok();
}

}  // namespace relay::import_internal
