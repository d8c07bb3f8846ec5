// relayctl import from ssmtp: ssmtp.conf and revaliases.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/strings.h"

#include "import_internal.h"

namespace relay::import_internal {

// ---------------------------------------------------------------- ssmtp
namespace {

// ssmtp.conf as ssmtp keeps it.
struct SsmtpConf {
  std::string mailhub, remote_port, hostname, rewrite, root, tls_cert, tls_key, ca_file, ca_dir;
  std::string auth_user, auth_pass, auth_method;
  bool have_user = false, have_pass = false, have_method = false, have_root = false;
  bool use_tls = false, use_starttls = false, use_cert = false;
  std::optional<bool> from_override;
};

// One setting: key is its name in lower case; where is "ssmtp.conf:N".
void SsmtpSetting(SsmtpConf& c, const std::string& key, const std::string& name, const std::string& value,
                  const std::string& where, Builder& b) {
  if (key == "root") c.root = value, c.have_root = true;
  else if (key == "mailhub") c.mailhub = value;
  else if (key == "hostname") c.hostname = value;
  else if (key == "rewritedomain") c.rewrite = value.substr(value.rfind('@') == std::string::npos ? 0 : value.rfind('@') + 1);
  else if (key == "fromlineoverride") c.from_override = IsYes(value);
  else if (key == "remoteport") c.remote_port = value;
  else if (key == "usetls") {
    c.use_tls = IsYes(value);
    if (!c.use_tls) c.use_starttls = false;
  } else if (key == "usestarttls") {
    c.use_starttls = IsYes(value);
    if (c.use_starttls) c.use_tls = true;
  } else if (key == "usetlscert") c.use_cert = IsYes(value);
  else if (key == "tlscert") c.tls_cert = value;
  else if (key == "tlskey") c.tls_key = value;
  else if (key == "tls_ca_file") c.ca_file = value;
  else if (key == "tls_ca_dir") c.ca_dir = value;
  else if (key == "authuser") {
    if (!c.have_user) c.auth_user = value, c.have_user = true;  // ssmtp keeps the first
  } else if (key == "authpass") {
    if (!c.have_pass) c.auth_pass = value, c.have_pass = true;
  } else if (key == "authmethod") {
    if (!c.have_method) c.auth_method = value, c.have_method = true;
  } else if (key == "useoldauth") {
    if (IsYes(value))
      b.Warn("ssmtp.conf: UseOldAUTH: relay logs in as libsasl2 does (the user name is never sent "
             "with AUTH LOGIN itself); not carried over");
  } else if (key == "debug") {
    if (IsYes(value))
      b.Warn("ssmtp.conf: Debug: relay has no debug switch; relayd logs every delivery, and "
             "'relayctl test ADDRESS' shows the whole dialogue; not carried over");
  } else if (key == "addheader") {
    b.Warn("ssmtp.conf: AddHeader: relay adds no header fields of its own choosing; not carried over");
  } else {
    b.Warn(where + ": " + Printable(name) + ": not an ssmtp setting relay knows; not carried over");
  }
}

SsmtpConf ParseSsmtpConf(const std::string& text, Builder& b) {
  SsmtpConf c;
  int n = 0;
  for (std::string_view raw : Lines(text)) {
    ++n;
    std::string where = "ssmtp.conf:" + std::to_string(n);
    // As ssmtp reads it: '#' starts a comment anywhere on a line.
    std::string_view l = raw.substr(0, raw.find('#'));
    l = Trim(l);
    if (l.empty()) continue;
    size_t eq = l.find('=');
    if (eq == std::string_view::npos) {
      b.Warn(where + ": no '=' on the line; ignored, as ssmtp did");
      continue;
    }
    std::string name(Trim(l.substr(0, eq)));
    std::string value(Trim(l.substr(eq + 1)));
    if (value.empty()) continue;  // ssmtp ignores a key without a value
    SsmtpSetting(c, ToLower(name), name, value, where, b);
  }
  return c;
}

// ---------------------------------------------------------------- the host, TLS, the login

// The smarthost line: mailhub, its port, and UseTLS or UseSTARTTLS.
Status SsmtpHost(const SsmtpConf& c, Builder& b) {
  if (c.mailhub.empty())
    return Status::DataErr("ssmtp.conf names no mailhub (the relay host): nothing to import");
  std::string host = c.mailhub, port_text;
  if (size_t colon = c.mailhub.find(':'); colon != std::string::npos) {
    host = c.mailhub.substr(0, colon);
    port_text = c.mailhub.substr(colon + 1);
  }
  std::string port_from = "mailhub=" + c.mailhub;
  if (port_text.empty() && !c.remote_port.empty())
    port_text = c.remote_port, port_from += ", RemotePort=" + c.remote_port;
  unsigned port = 25;  // ssmtp's default, TLS or not
  if (!port_text.empty() && !ParsePort(port_text, &port))
    return Status::DataErr("ssmtp.conf: mailhub=" + c.mailhub + ": '" + port_text + "' is not a port number");
  TlsMode tls = c.use_starttls ? TlsMode::kStartTls : c.use_tls ? TlsMode::kSmtps : TlsMode::kNone;
  std::string from = "ssmtp.conf: " + port_from;
  if (c.use_starttls) from += ", UseSTARTTLS=YES";
  else if (c.use_tls) from += ", UseTLS=YES (TLS from the first byte)";
  else from += ", no UseTLS (mail went without TLS)";
  if (port_text.empty()) from += "; port 25 is ssmtp's default";
  if (!b.AddHost(host, port, tls, from, "ssmtp.conf: mailhub"))
    return Status::DataErr("ssmtp.conf: mailhub=" + c.mailhub + " is not a host name relay can use");
  if (tls == TlsMode::kNone && !IsLoopback(host) && c.auth_user.empty())
    b.Warn("ssmtp.conf: UseTLS: mail went to " + host + " without TLS, and still will (tls none); "
           "set starttls or smtps if the mailhub offers it");
  if (tls != TlsMode::kNone)
    b.Warn("ssmtp.conf: UseTLS: ssmtp never checked the mailhub's certificate; relay does (the "
           "system's CAs, and the name " + host + "): if it is self-signed, set tls_ca_file or "
           "tls_fingerprint");
  return Status::Ok();
}

// The CAs and the client certificate.
void SsmtpTls(const SsmtpConf& c, Builder& b) {
  SetCaFile(b, c.ca_file, "ssmtp.conf: TLS_CA_File", "ssmtp.conf: TLS_CA_File");
  SetCaDir(b, c.ca_dir, "ssmtp.conf: TLS_CA_Dir", "ssmtp.conf: TLS_CA_Dir");
  if (c.use_cert && !c.tls_cert.empty()) {
    // ssmtp reads the key from the certificate file unless TLSKey names one.
    b.Set("tls_cert_file", c.tls_cert, "ssmtp.conf: UseTLSCert=YES, TLSCert", "ssmtp.conf: TLSCert");
    b.Set("tls_key_file", c.tls_key.empty() ? c.tls_cert : c.tls_key,
          c.tls_key.empty() ? "ssmtp.conf: TLSCert (the key is in the same file)" : "ssmtp.conf: TLSKey",
          "ssmtp.conf: TLSKey");
  } else if (!c.tls_cert.empty()) {
    b.Warn("ssmtp.conf: TLSCert: ssmtp did not use it (UseTLSCert is not YES); not carried over");
  }
}

void SsmtpLogin(const SsmtpConf& c, Builder& b) {
  if (!c.auth_user.empty()) {
    b.auth_user = c.auth_user;
    b.auth_from = "ssmtp.conf: AuthUser";
    b.secret = c.auth_pass;
    b.secret_from = "ssmtp.conf: AuthPass";
    if (!c.auth_method.empty())
      SetMechanism(b, c.auth_method, "ssmtp.conf: AuthMethod", "ssmtp.conf: AuthMethod");
  } else if (!c.auth_pass.empty()) {
    b.secret = c.auth_pass;
    b.secret_from = "ssmtp.conf: AuthPass";
  }
}

// ---------------------------------------------------------------- names and aliases

// domain from rewriteDomain, else hostname; helo_name from hostname.
// FromLineOverride is warned of: relay never rewrites the From header.
void SsmtpNames(const SsmtpConf& c, Builder& b) {
  if (!c.rewrite.empty()) {
    b.Set("domain", c.rewrite, "ssmtp.conf: rewriteDomain", "ssmtp.conf: rewriteDomain");
  } else if (!c.hostname.empty()) {
    b.Set("domain", c.hostname, "ssmtp.conf: hostname (ssmtp qualified addresses with it: no rewriteDomain)",
          "ssmtp.conf: hostname");
  }
  if (!c.hostname.empty()) b.Set("helo_name", c.hostname, "ssmtp.conf: hostname", "ssmtp.conf: hostname");
  if (!c.from_override) return;
  if (*c.from_override)
    b.Warn("ssmtp.conf: FromLineOverride=YES: relay always keeps the From header a message has; "
           "nothing to set");
  else
    b.Warn("ssmtp.conf: FromLineOverride=NO: ssmtp replaced the From header with the sender's "
           "address; relay always honours the From header a message has; not carried over");
}

// root= becomes an alias; revaliases (per-user senders) has no equivalent.
void SsmtpAliases(const ImportSource& src, const SsmtpConf& c, Builder& b) {
  if (c.have_root) {
    b.alias_lines.push_back("root: " + c.root);
    b.Warn("ssmtp.conf: root=" + c.root + ": ssmtp sent the mail of every user id below 1000 there; "
           "the alias 'root: " + c.root + "' covers root only: add aliases for other system users "
           "(or '*: " + c.root + "' for every local name)");
  }
  const std::string* rev = FindFile(src, "revaliases");
  if (!rev) return;
  int ln = 0;
  for (std::string_view raw : Lines(*rev)) {
    ++ln;
    std::string_view t = Trim(raw);
    if (t.empty() || t.front() == '#') continue;
    std::vector<std::string_view> f = Split(t, ':');
    std::string user(Trim(f[0]));
    std::string addr = f.size() > 1 ? std::string(Trim(f[1])) : "";
    std::string hub = f.size() > 2 ? std::string(Trim(f[2])) : "";
    b.Warn("revaliases:" + std::to_string(ln) + ": " + Printable(user) + " -> " + Printable(addr) +
           (hub.empty() ? "" : " via " + Printable(hub)) +
           ": per-user sender rewriting is not supported by relay (the sender is login@domain, "
           "or what -f gives); not carried over");
  }
}

}  // namespace

Status ImportSsmtp(const ImportSource& src, Builder& b) {
  const std::string* conf = nullptr;
  Status s = MainFileText(src, "ssmtp.conf", &conf);
  if (!s.ok()) return s;
  SsmtpConf c = ParseSsmtpConf(*conf, b);
  s = SsmtpHost(c, b);
  if (!s.ok()) return s;
  SsmtpTls(c, b);
  SsmtpLogin(c, b);
  SsmtpNames(c, b);
  SsmtpAliases(src, c, b);
  return Status::Ok();
}

}  // namespace relay::import_internal
