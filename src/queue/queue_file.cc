#include "relay/queue/queue_file.h"

#include <charconv>

#include "relay/message/address.h"
#include "relay/base/strings.h"

namespace relay {
namespace {

constexpr std::string_view kMagic = "relay-queue 2";
constexpr std::string_view kMagicV1 = "relay-queue 1";

bool SafeValue(std::string_view v) {
  for (char c : v)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

Status Put(std::string* out, std::string_view key, std::string_view value) {
  if (!SafeValue(value))
    return Status::Software("queue record '" + std::string(key) + "' holds a line break or NUL");
  out->append(key);
  out->push_back(' ');
  out->append(value);
  out->push_back('\n');
  return Status::Ok();
}

Status Malformed(int line, std::string_view what) {
  return Status::DataErr("queue file line " + std::to_string(line) + ": " + std::string(what));
}

// Applies one "key value" record of a file of the given version to env.
// Returns false for an unknown key. A version 1 "notify" goes to
// *v1_notify, for every recipient once the head is read.
bool ApplyRecord(int version, std::string_view key, std::string_view value, Envelope* env,
                 std::string* v1_notify, bool* ok) {
  *ok = true;
  if (key == "id") {
    env->id = value;
  } else if (key == "time") {
    *ok = WholeNumber(value, &env->arrival_micros);
  } else if (key == "uid") {
    *ok = WholeNumber(value, &env->uid);
  } else if (key == "from") {
    env->sender = value;
  } else if (key == "rcpt") {
    *ok = !value.empty();
    env->recipients.push_back({std::string(value), ""});
  } else if (key == "orcpt") {
    *ok = !env->recipients.empty() && !value.empty();
    if (*ok) env->recipients.back().original = value;
  } else if (key == "rcpt-notify" && version == 2) {
    *ok = !env->recipients.empty() && !value.empty() && env->recipients.back().notify.empty();
    if (*ok) env->recipients.back().notify = value;
  } else if (key == "notify" && version == 1) {
    *v1_notify = value;
  } else if (key == "ret") {
    env->dsn_ret = value;
  } else if (key == "envid") {
    env->envid = value;
  } else if (key == "body") {
    env->body_type = value;
  } else if (key == "queue-only") {
    env->queue_only = true;
  } else if (key == "double-bounce") {
    env->double_bounce = true;
  } else {
    return false;
  }
  return true;
}

// An envelope address as the injector writes it: what the address parser
// makes of it is one mailbox whose addr-spec is the value itself. A space,
// a bracket or a comment outside quotes, a CR or a second address cannot
// pass, so nothing forged reaches MAIL FROM or RCPT TO raw.
Status CheckAddressRecord(std::string_view key, std::string_view value) {
  Status s = CheckEnvelopeAddress(value);
  if (s.ok()) {
    AddressList list = ParseAddressList(value);
    if (list.errors > 0 || list.mailboxes.size() != 1 || list.mailboxes[0].addr_spec() != value)
      s = Status::DataErr("not a single plain address");
  }
  if (s.ok()) return s;
  return Status::DataErr("queue file record '" + std::string(key) + " " + Printable(value.substr(0, 80)) +
                         "': " + s.message());
}

}  // namespace

// The values that go into MAIL and RCPT parameters as they are (ENVID and
// ORCPT are xtext-encoded when sent, so only their addresses are checked).
Status CheckEnvelope(const Envelope& env) {
  Status s = env.sender.empty() ? Status::Ok() : CheckAddressRecord("from", env.sender);
  for (const Recipient& r : env.recipients) {
    if (s.ok()) s = CheckAddressRecord("rcpt", r.address);
    if (s.ok() && !r.original.empty()) {
      Status o = CheckEnvelopeAddress(r.original);
      if (!o.ok()) s = Status::DataErr("queue file record 'orcpt': " + o.message());
    }
  }
  if (!s.ok()) return s;
  for (const Recipient& r : env.recipients) {
    if (r.notify.empty() || r.notify == "NEVER") continue;
    for (std::string_view item : Split(r.notify, ','))
      if (item != "SUCCESS" && item != "FAILURE" && item != "DELAY")
        return Status::DataErr("queue file: the NOTIFY of rcpt " + Printable(r.address) + ", '" +
                               Printable(r.notify) + "', is not a DSN NOTIFY value");
  }
  if (!env.dsn_ret.empty() && env.dsn_ret != "FULL" && env.dsn_ret != "HDRS")
    return Status::DataErr("queue file record 'ret " + Printable(env.dsn_ret) + "' is not FULL or HDRS");
  if (!env.body_type.empty() && env.body_type != "7BIT" && env.body_type != "8BITMIME")
    return Status::DataErr("queue file record 'body " + Printable(env.body_type) + "' is not 7BIT or 8BITMIME");
  return Status::Ok();
}

Status EncodeHead(const Envelope& env, std::string* out) {
  out->clear();
  out->append(kMagic);
  out->push_back('\n');
  Status s = Put(out, "id", env.id);
  if (s.ok()) s = Put(out, "time", std::to_string(env.arrival_micros));
  if (s.ok()) s = Put(out, "uid", std::to_string(env.uid));
  if (s.ok()) s = Put(out, "from", env.sender);
  for (const Recipient& r : env.recipients) {
    if (s.ok()) s = Put(out, "rcpt", r.address);
    if (s.ok() && !r.original.empty()) s = Put(out, "orcpt", r.original);
    if (s.ok() && !r.notify.empty()) s = Put(out, "rcpt-notify", r.notify);
  }
  if (s.ok() && !env.dsn_ret.empty()) s = Put(out, "ret", env.dsn_ret);
  if (s.ok() && !env.envid.empty()) s = Put(out, "envid", env.envid);
  if (s.ok() && !env.body_type.empty()) s = Put(out, "body", env.body_type);
  if (s.ok() && env.queue_only) out->append("queue-only\n");
  if (s.ok() && env.double_bounce) out->append("double-bounce\n");
  out->append("content\n");
  return s;
}

std::string EncodeTrailer(const Trailer& t) {
  return "end " + std::to_string(t.content_size) + (t.eight_bit ? " 8bit\n" : " 7bit\n");
}

Status ParseHead(std::string_view data, Envelope* env, size_t* head_size, bool* incomplete) {
  *env = Envelope();
  *incomplete = false;
  size_t pos = 0;
  int version = 0;
  std::string v1_notify;
  for (int line = 1;; ++line) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string_view::npos) {
      *incomplete = true;
      return Status::DataErr("queue file head is incomplete");
    }
    std::string_view rec = data.substr(pos, nl - pos);
    pos = nl + 1;
    if (line == 1) {
      if (rec == kMagic) version = 2;
      else if (rec == kMagicV1) version = 1;
      else return Malformed(line, "not a relay queue file (bad magic)");
      continue;
    }
    if (rec == "content") break;
    size_t sp = rec.find(' ');
    std::string_view key = rec.substr(0, sp);
    std::string_view value = sp == std::string_view::npos ? "" : rec.substr(sp + 1);
    bool ok;
    if (!ApplyRecord(version, key, value, env, &v1_notify, &ok))
      return Malformed(line, "unknown record '" + std::string(key) + "'");
    if (!ok) return Malformed(line, "bad value for '" + std::string(key) + "'");
  }
  if (env->id.empty() || env->recipients.empty())
    return Status::DataErr("queue file head lacks its id or recipients");
  if (!v1_notify.empty())
    for (Recipient& r : env->recipients) r.notify = v1_notify;
  Status s = CheckEnvelope(*env);
  if (!s.ok()) return s;
  *head_size = pos;
  return Status::Ok();
}

Status ParseTrailer(std::string_view tail, Trailer* t, size_t* trailer_size) {
  if (tail.empty() || tail.back() != '\n') return Status::DataErr("queue file has no end record");
  size_t start = tail.rfind('\n', tail.size() - 2);
  start = start == std::string_view::npos ? 0 : start + 1;
  std::string_view rec = tail.substr(start, tail.size() - 1 - start);
  if (rec.substr(0, 4) != "end ") return Status::DataErr("queue file has no end record");
  rec.remove_prefix(4);
  size_t sp = rec.find(' ');
  if (sp == std::string_view::npos || !WholeNumber(rec.substr(0, sp), &t->content_size))
    return Status::DataErr("queue file end record is malformed");
  std::string_view bits = rec.substr(sp + 1);
  if (bits != "7bit" && bits != "8bit") return Status::DataErr("queue file end record is malformed");
  t->eight_bit = bits == "8bit";
  *trailer_size = tail.size() - start;
  return Status::Ok();
}

Status ContentHeaderBlock(std::string_view file, std::string_view* block) {
  Envelope env;
  size_t head_size = 0;
  bool incomplete = false;
  Status s = ParseHead(file, &env, &head_size, &incomplete);
  if (!s.ok()) return s;
  if (incomplete) return Status::DataErr("queue file ends inside its head");
  std::string_view content = file.substr(head_size);
  size_t end = content.find("\r\n\r\n");
  *block = end == std::string_view::npos ? std::string_view() : content.substr(0, end);
  return Status::Ok();
}

}  // namespace relay
