#include "relay/inject/inject.h"

#include <cstdint>
#include <cstring>
#include <set>

#include "relay/message/address.h"
#include "relay/base/strings.h"

namespace relay {
namespace {

// Whether a byte of s has its high bit set (the 8bit flag), 32 bytes at a
// time in four independent words: it runs over every byte of every
// message, and the byte loop it replaced (a member written through a char
// pointer, so never vectorised) was half of the instructions of a large
// injection (callgrind, 20 MB: 136 M of 262 M in EmitPiece).
bool HasHighBit(std::string_view s) {
  uint64_t acc = 0, a[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 32 <= s.size(); i += 32) {
    uint64_t w[4];
    std::memcpy(w, s.data() + i, 32);
    for (int k = 0; k < 4; ++k) a[k] |= w[k];
  }
  acc = a[0] | a[1] | a[2] | a[3];
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    acc |= w;
  }
  for (; i < s.size(); ++i) acc |= static_cast<unsigned char>(s[i]);
  return (acc & 0x8080808080808080ull) != 0;
}

bool IsRemovedHeader(const HeaderField& f) {
  return f.Is("Bcc") || f.Is("Resent-Bcc") || f.Is("Return-Path") || f.Is("Content-Length");
}

bool IsAddressHeader(const HeaderField& f) {
  std::string_view n = f.name();
  if (StartsWithIgnoreCase(n, "Resent-")) n.remove_prefix(7);
  for (std::string_view h : {"From", "Sender", "Reply-To", "To", "Cc", "Bcc"})
    if (EqualsIgnoreCase(n, h)) return true;
  return false;
}

bool HasHeader(const std::vector<HeaderField>& hs, std::string_view name) {
  for (const HeaderField& f : hs)
    if (f.Is(name)) return true;
  return false;
}

// A skipped element as the log shows it: a header line may be 1 MiB.
std::string Shortened(const std::string& text) {
  constexpr size_t kMax = 200;
  return text.size() <= kMax ? text : text.substr(0, kMax) + "...";
}

std::string NoRecipientsLeft(const std::vector<SkippedRecipient>& skipped) {
  std::string m = "no recipients found in the message header (-t)";
  if (skipped.empty()) return m;
  m += "; skipped " + std::to_string(skipped.size()) + " that cannot be used, the first in " +
       skipped[0].field + ": '" + Printable(skipped[0].text) + "' (" + skipped[0].reason + ")";
  return m;
}

}  // namespace

std::string SkippedRecipient::Describe() const {
  return "-t: skipped '" + Printable(text) + "' in the " + field + " header: " + reason;
}

Status ArgumentRecipients(const Options& opts, std::vector<std::string>* out) {
  out->clear();
  for (size_t i = 0; i < opts.recipients.size(); ++i) {
    const std::string& arg = opts.recipients[i];
    if (Trim(arg).empty()) return Status::Usage("empty recipient argument");
    if (arg[0] == '-' && !opts.after_dashdash[i])
      return Status::Usage("recipient '" + Printable(arg) +
                           "' starts with '-' (options must come first; use -- before such an address)");
    // The length bound is for each address (checked below), not for a
    // list of them; a line break, NUL or control character is refused in
    // any argument however long, even inside a comment. Checked in pieces
    // no longer than one address, so only those bytes can fail here.
    Status s;
    for (size_t k = 0; s.ok() && k < arg.size(); k += kMaxAddressLength)
      s = CheckEnvelopeAddress(std::string_view(arg).substr(k, kMaxAddressLength));
    if (!s.ok()) {
      std::string shown = arg.size() <= kMaxAddressLength ? arg : arg.substr(0, 64) + "...";
      return Status::Usage("recipient '" + Printable(shown) + "': " + s.message());
    }
    AddressList list = ParseAddressList(arg);
    if (list.errors > 0 || list.mailboxes.empty())
      return Status::Usage("bad recipient address '" + Printable(arg) + "'");
    for (const Mailbox& m : list.mailboxes) {
      std::string a = m.addr_spec();
      s = CheckEnvelopeAddress(a);
      if (!s.ok()) return Status::Usage("recipient '" + Printable(a.substr(0, 64)) + "': " + s.message());
      out->push_back(std::move(a));
    }
  }
  return Status::Ok();
}

std::vector<Recipient> ExpandRecipients(const std::vector<std::string>& addrs,
                                        const Aliases* aliases, const LocalPolicy& local,
                                        const std::vector<std::string>* originals,
                                        const std::vector<std::string>* notifies,
                                        const std::string& default_notify) {
  std::vector<Recipient> out;
  std::set<std::string> seen;
  static const Aliases kNone;
  if (!aliases) aliases = &kNone;
  for (size_t i = 0; i < addrs.size(); ++i) {
    const std::string& a = addrs[i];
    std::string original = Qualified(a, local.domain);
    if (originals && i < originals->size() && !(*originals)[i].empty()) original = (*originals)[i];
    // ORCPT is advisory (RFC 3461 4.2): one the queue file could not keep
    // (over 320 octets once qualified, say) is left out, not the message.
    if (!CheckEnvelopeAddress(original).ok()) original.clear();
    std::string notify = default_notify;
    if (notifies && i < notifies->size() && !(*notifies)[i].empty()) notify = (*notifies)[i];
    for (std::string& r : aliases->Expand(a, local)) {
      if (!seen.insert(ToLower(r)).second) continue;
      Recipient rcpt{r, original.empty() || EqualsIgnoreCase(r, original) ? "" : original, notify};
      out.push_back(std::move(rcpt));
    }
  }
  return out;
}

Injector::Injector(InjectParams params, MessageSink* out)
    : p_(std::move(params)), out_(out), splitter_(this) {
  wire_.reserve(kWireBatch + 8192);
}

bool Injector::Fail(Status s) {
  if (status_.ok()) status_ = std::move(s);
  phase_ = Phase::kDone;
  wire_.clear();
  // What was written is of no use now: its space (and what it reserved)
  // goes back at once, not when the sender closes its end, however long
  // that takes (the rest of the input is still read, so that the sender
  // does not die of SIGPIPE).
  if (out_) out_->Abort();
  return false;
}

Status Injector::Start() {
  Status s = ArgumentRecipients(p_.opts, &arg_recipients_);
  if (!s.ok()) return s;
  if (arg_recipients_.empty() && !p_.opts.extract_recipients)
    return Status::Usage("no recipients given (name them as arguments, or use -t)");
  if (p_.opts.sender) {
    s = ParseSenderArgument(*p_.opts.sender, &sender_);
    if (!s.ok()) return s;
    if (!sender_.empty()) {
      sender_ = Qualified(sender_, p_.domain);
      s = CheckEnvelopeAddress(sender_);
      if (!s.ok()) return Status::Usage("sender: " + s.message());
    }
  } else {
    sender_ = p_.submitter.login + "@" + p_.domain;
  }
  return Status::Ok();
}

bool Injector::Feed(std::string_view data) {
  if (phase_ == Phase::kDone) return false;
  return splitter_.Feed(data);
}

bool Injector::OnPiece(std::string_view text, bool end_of_line) {
  if (!mid_line_) {
    // The lone "." ends the input unless -i; it is never part of the message.
    if (!p_.opts.ignore_dots && end_of_line && text == ".") {
      phase_ = Phase::kDone;
      return false;
    }
    if (!StartLine(text, end_of_line)) return false;
  } else if (dest_ == Dest::kHeader) {
    headers_.back().text.append(text);
    header_bytes_ += text.size();
    if (header_bytes_ > kMaxHeaderBytes)
      return Fail(Status::DataErr("message header is larger than 1 MiB"));
  } else if (dest_ == Dest::kBody) {
    if (!EmitPiece(text, false, end_of_line)) return false;
  }
  mid_line_ = !end_of_line;
  return true;
}

// Decides where a new input line goes and handles its first piece.
bool Injector::StartLine(std::string_view text, bool end_of_line) {
  if (phase_ == Phase::kLeading) {
    // mbox separator lines before the header are dropped.
    if (text.substr(0, 5) == "From " || text.substr(0, 6) == ">From ") {
      dest_ = Dest::kSkip;
      return true;
    }
    phase_ = Phase::kHeaders;
  }
  if (phase_ == Phase::kHeaders) {
    size_t name_size = 0;
    if (IsHeaderStart(text, &name_size)) {
      headers_.push_back({std::string(text), name_size});
    } else if (IsContinuation(text) && !headers_.empty()) {
      headers_.back().text.push_back('\n');
      headers_.back().text.append(text);
    } else {
      // A blank line ends the header; any other line starts the body, and
      // EndHeaders writes the blank line that separates the two.
      Status s = EndHeaders();
      if (!s.ok()) return Fail(s);
      phase_ = Phase::kBody;
      if (text.empty()) {
        dest_ = Dest::kSkip;
        return true;
      }
      dest_ = Dest::kBody;
      return EmitPiece(text, true, end_of_line);
    }
    dest_ = Dest::kHeader;
    header_bytes_ += text.size() + 1;
    if (header_bytes_ > kMaxHeaderBytes)
      return Fail(Status::DataErr("message header is larger than 1 MiB"));
    return true;
  }
  dest_ = Dest::kBody;
  return EmitPiece(text, true, end_of_line);
}

Status Injector::ResolveEnvelope() {
  std::vector<std::string> addrs = arg_recipients_;
  if (p_.opts.extract_recipients) {
    bool resent = HasHeader(headers_, "Resent-To") || HasHeader(headers_, "Resent-Cc") ||
                  HasHeader(headers_, "Resent-Bcc");
    for (const HeaderField& f : headers_) {
      bool take = resent ? (f.Is("Resent-To") || f.Is("Resent-Cc") || f.Is("Resent-Bcc"))
                         : (f.Is("To") || f.Is("Cc") || f.Is("Bcc"));
      if (!take) continue;
      // As Postfix does, an element that cannot be parsed costs only
      // itself: it is skipped and reported (see skipped()), and the
      // message goes to the others. Refusing the whole message would lose
      // it for everyone, since cron and many daemons ignore the exit code.
      AddressList list = ParseAddressList(f.Unfolded());
      for (const std::string& text : list.skipped)
        skipped_.push_back({std::string(f.name()), Shortened(text), "cannot be parsed as an address"});
      for (const Mailbox& m : list.mailboxes) {
        std::string a = m.addr_spec();
        Status s = CheckEnvelopeAddress(a);
        if (!s.ok()) {
          skipped_.push_back({std::string(f.name()), a.substr(0, 64), s.message()});
          continue;
        }
        addrs.push_back(std::move(a));
      }
    }
    if (addrs.empty()) return Status::Usage(NoRecipientsLeft(skipped_));
  }
  envelope_.id = p_.queue_id;
  envelope_.arrival_micros = p_.now_micros;
  envelope_.uid = p_.submitter.uid;
  envelope_.sender = sender_;
  // ORCPT lines up with the arguments only when each gave one address.
  bool aligned = !p_.opts.extract_recipients && arg_recipients_.size() == p_.orcpts.size();
  bool notify_aligned = !p_.opts.extract_recipients && arg_recipients_.size() == p_.notifies.size();
  envelope_.recipients = ExpandRecipients(addrs, p_.aliases, p_.local, aligned ? &p_.orcpts : nullptr,
                                          notify_aligned ? &p_.notifies : nullptr, p_.opts.dsn_notify);
  envelope_.dsn_ret = p_.opts.dsn_ret;
  envelope_.envid = p_.opts.envid;
  envelope_.body_type = p_.opts.body_type;
  envelope_.queue_only = p_.opts.queue_only;
  for (const Recipient& r : envelope_.recipients) {
    Status s = CheckEnvelopeAddress(r.address);
    if (!s.ok()) return Status::DataErr("alias expansion gave a bad address: " + s.message());
  }
  // The reader's own checks: what is refused here is refused before 250.
  Status s = CheckEnvelope(envelope_);
  if (!s.ok()) return Status::DataErr("the envelope cannot be queued: " + s.message());
  return Status::Ok();
}

Status Injector::EndHeaders() {
  int received = 0;
  for (const HeaderField& f : headers_)
    if (f.Is("Received")) ++received;
  if (received > kMaxReceivedHeaders)
    return Status::DataErr("mail loop: the message has " + std::to_string(received) +
                           " Received headers (limit " + std::to_string(kMaxReceivedHeaders) + ")");
  Status s = ResolveEnvelope();
  if (!s.ok()) return s;
  std::string head;
  s = EncodeHead(envelope_, &head);
  if (s.ok()) s = out_->Append(head);
  if (s.ok()) s = WriteHeaders();
  return s;
}

void Injector::AddMissingHeaders(std::vector<std::string>* added) const {
  std::string date = FormatRfc5322Date(p_.now_micros / 1000000, p_.gmtoff);
  std::string msgid = "<" + p_.queue_id + "." + p_.msgid_nonce + "@" + p_.domain + ">";
  std::string from;
  if (sender_.empty()) {
    from = "MAILER-DAEMON@" + p_.domain;
  } else {
    std::string name = p_.opts.full_name ? *p_.opts.full_name : p_.submitter.full_name;
    from = name.empty() ? sender_ : EncodeDisplayName(name) + " <" + sender_ + ">";
  }
  auto add = [&](std::string_view name, const std::string& value) {
    if (!HasHeader(headers_, name)) added->push_back(std::string(name) + ": " + value);
  };
  add("Message-ID", msgid);
  // Distinct from Message-ID when both are added.
  std::string resent_msgid = "<" + p_.queue_id + ".R" + p_.msgid_nonce + "@" + p_.domain + ">";
  add("Date", date);
  add("From", from);
  bool resent = false;
  for (const HeaderField& f : headers_)
    if (StartsWithIgnoreCase(f.name(), "Resent-")) resent = true;
  if (resent) {
    add("Resent-Message-ID", resent_msgid);
    add("Resent-Date", date);
    add("Resent-From", from);
  }
}

Status Injector::WriteHeaders() {
  std::string date = FormatRfc5322Date(p_.now_micros / 1000000, p_.gmtoff);
  if (p_.received_from.empty()) {
    EmitLine("Received: by " + p_.hostname + " (relay, from userid " +
             std::to_string(p_.submitter.uid) + ")");
    EmitLine("\tid " + p_.queue_id + "; " + date);
  } else {
    EmitLine("Received: from " + Printable(p_.received_from));
    if (!p_.received_auth.empty()) EmitLine("\t(Authenticated sender: " + Printable(p_.received_auth) + ")");
    EmitLine("\tby " + p_.hostname + " (relay) with " + p_.received_with + " id " + p_.queue_id + ";");
    EmitLine("\t" + date);
  }
  for (const HeaderField& f : headers_) {
    if (IsRemovedHeader(f)) continue;
    std::string text = f.text;
    if (IsAddressHeader(f)) {
      std::string_view value = f.raw_value();
      size_t value_at = f.text.size() - value.size();
      text = f.text.substr(0, value_at) + QualifyAddresses(value, p_.domain);
    }
    for (std::string_view line : Split(text, '\n')) EmitLine(line);
  }
  std::vector<std::string> added;
  AddMissingHeaders(&added);
  for (const std::string& line : added) EmitLine(line);
  EmitLine("");
  return status_;
}

bool Injector::EmitPiece(std::string_view text, bool starts_line, bool ends_line) {
  if (!status_.ok()) return false;
  // Lines gather in wire_ and reach the sink kWireBatch at a time: one
  // Append per batch, not per line, and a batch that size goes from here
  // to write() with no copy in between (PosixWritableFile, DropClient).
  std::string& buf = wire_;
  size_t before = buf.size();
  if (starts_line) {
    column_ = 0;
    if (!text.empty() && text[0] == '.') {  // dot-stuffing (RFC 5321 4.5.2)
      buf.push_back('.');
      column_ = 1;
    }
  }
  if (column_ + text.size() <= kMaxLineLength) {  // the usual case: no fold
    buf.append(text);
    column_ += text.size();
    text = {};
  }
  while (!text.empty()) {
    if (column_ == kMaxLineLength) {
      buf.append("\r\n ", 3);
      column_ = 1;
    }
    size_t take = std::min(kMaxLineLength - column_, text.size());
    buf.append(text.substr(0, take));
    column_ += take;
    text.remove_prefix(take);
  }
  if (ends_line) {  // two push_backs: inlined, where a 2-byte append is a call
    buf.push_back('\r');
    buf.push_back('\n');
  }
  content_size_ += buf.size() - before;
  if (p_.size_limit != 0 && content_size_ > p_.size_limit)
    return Fail(Status::DataErr("message is larger than message_size_limit (" +
                                std::to_string(p_.size_limit) + " bytes)"));
  if (p_.space_check && content_size_ >= next_space_check_) {
    // The space up to the next check is taken first, then the floor is
    // checked: each writer's check sees what every other writer may still
    // add before its own next check, so writers that stall just short of
    // it (or are killed there) cannot together fill the spool. An input
    // already read whole cannot stall, so its first check reserves nothing
    // (WholeInputFollows).
    bool reserve = !(whole_input_ && next_space_check_ == 0);
    next_space_check_ = content_size_ + kSpaceCheckBytes;
    Status s = reserve ? out_->Reserve(buf.size() + kSpaceCheckBytes) : Status::Ok();
    if (s.ok()) s = p_.space_check();
    if (!s.ok()) return Fail(s);
  }
  if (buf.size() >= kWireBatch) return FlushWire();
  return true;
}

bool Injector::FlushWire() {
  // The 8bit flag, over a whole batch at a time: what the wire form adds
  // (".", CR, LF, space) is ASCII, so the batch has a high byte exactly when
  // the lines it came from did.
  if (!eight_bit_) eight_bit_ = HasHighBit(wire_);
  Status s = out_->Append(wire_);
  wire_.clear();
  if (!s.ok()) return Fail(s);
  return true;
}

Status Injector::Finish() {
  if (status_.ok()) splitter_.Finish();
  if (status_.ok() && (phase_ == Phase::kLeading || phase_ == Phase::kHeaders ||
                       (phase_ == Phase::kDone && envelope_.id.empty()))) {
    Status s = EndHeaders();
    if (!s.ok()) Fail(s);
  }
  // A final line that came in pieces and was cut by EOF was ended by the
  // splitter; nothing else can be left open here.
  if (status_.ok()) FlushWire();
  if (status_.ok()) {
    Status s = out_->Append(EncodeTrailer({content_size_, eight_bit_}));
    if (!s.ok()) Fail(s);
  }
  phase_ = Phase::kDone;
  return status_;
}

}  // namespace relay
