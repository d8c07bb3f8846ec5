// libFuzzer target for the queue file head and trailer. The first byte picks
// what the rest is:
//  - even: the bytes of a queue file. ParseHead and ParseTrailer must not
//    crash, and what ParseHead accepts must encode and parse back to itself;
//  - odd: an Envelope, its fields taken from the input. EncodeHead must
//    refuse any value with CR, LF or NUL, and otherwise ParseHead must give
//    back exactly that Envelope, whatever the values hold (keywords,
//    "content"), or refuse by name a value the injector would not write
//    (an address with spaces, say), and see every proper prefix as merely
//    incomplete.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "relay/queue/queue_file.h"

namespace {

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "queue_file_fuzz: invariant failed: %s\n", what);
    std::abort();
  }
}

bool Safe(std::string_view v) { return v.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos; }

bool Same(const relay::Envelope& a, const relay::Envelope& b) {
  if (a.recipients.size() != b.recipients.size()) return false;
  for (size_t i = 0; i < a.recipients.size(); ++i)
    if (a.recipients[i].address != b.recipients[i].address ||
        a.recipients[i].original != b.recipients[i].original || a.recipients[i].notify != b.recipients[i].notify)
      return false;
  return a.id == b.id && a.arrival_micros == b.arrival_micros && a.uid == b.uid && a.sender == b.sender &&
         a.dsn_ret == b.dsn_ret && a.envid == b.envid &&
         a.body_type == b.body_type && a.queue_only == b.queue_only && a.double_bounce == b.double_bounce;
}

bool AllSafe(const relay::Envelope& e) {
  bool ok = Safe(e.id) && Safe(e.sender) && Safe(e.dsn_ret) && Safe(e.envid) &&
            Safe(e.body_type);
  for (const relay::Recipient& r : e.recipients) ok = ok && Safe(r.address) && Safe(r.original) && Safe(r.notify);
  return ok;
}

// The reader's refusal of an envelope value the injector would not write
// (queue_file.h, ParseHead): a DataErr that names the record, or the
// recipient whose NOTIFY it is.
bool Forged(const relay::Status& s, bool incomplete) {
  return s.kind() == relay::Status::Kind::kDataErr && !incomplete &&
         (s.message().rfind("queue file record '", 0) == 0 ||
          s.message().rfind("queue file: the NOTIFY of rcpt ", 0) == 0);
}

// A head that parsed: its encoding parses to the same envelope, and the
// encoding is a fixed point.
void CheckReencode(const relay::Envelope& env) {
  std::string head;
  relay::Status s = relay::EncodeHead(env, &head);
  if (!AllSafe(env)) {
    Require(!s.ok() && s.kind() == relay::Status::Kind::kSoftware, "unsafe values are refused");
    return;
  }
  Require(s.ok(), "EncodeHead accepts safe values");
  relay::Envelope back;
  size_t head_size = 0;
  bool incomplete = true;
  s = relay::ParseHead(head, &back, &head_size, &incomplete);
  // A value the injector never writes (from/rcpt not one plain address,
  // a notify/ret/body keyword out of place) is refused on reading, by
  // name; anything else encoded parses.
  if (!s.ok() && Forged(s, incomplete)) return;
  Require(s.ok(), "an encoded head parses");
  Require(!incomplete && head_size == head.size(), "the whole head is the head");
  Require(Same(env, back), "encode -> parse gives the envelope back");
  std::string head2;
  Require(relay::EncodeHead(back, &head2).ok() && head2 == head, "encoding is canonical");
}

void FuzzFile(std::string_view data) {
  relay::Envelope env;
  size_t head_size = 0;
  bool incomplete = false;
  relay::Status s = relay::ParseHead(data, &env, &head_size, &incomplete);
  if (s.ok()) {
    Require(!incomplete, "ok is not incomplete");
    Require(head_size >= 22 && head_size <= data.size(), "head_size is inside the data");
    Require(data.substr(0, 14) == "relay-queue 2\n" || data.substr(0, 14) == "relay-queue 1\n",
            "a head starts with the magic of a version the reader knows");
    Require(data.substr(head_size - 8, 8) == "content\n", "a head ends with the content record");
    Require(!env.id.empty() && !env.recipients.empty(), "a head has an id and recipients");
    for (const relay::Recipient& r : env.recipients) Require(!r.address.empty(), "recipients are not empty");
    // The head alone parses the same; one byte less is incomplete.
    relay::Envelope again;
    size_t again_size = 0;
    bool again_incomplete = true;
    Require(relay::ParseHead(data.substr(0, head_size), &again, &again_size, &again_incomplete).ok(),
            "the head alone parses");
    Require(again_size == head_size && Same(env, again), "the head alone parses the same");
    relay::Status cut = relay::ParseHead(data.substr(0, head_size - 1), &again, &again_size, &again_incomplete);
    Require(!cut.ok() && again_incomplete, "a head cut short is incomplete");
    CheckReencode(env);
  } else {
    Require(s.kind() == relay::Status::Kind::kDataErr, "head errors are DataErr");
    if (incomplete) Require(s.message() == "queue file head is incomplete", "incomplete says so");
  }

  relay::Trailer t;
  size_t trailer_size = 0;
  s = relay::ParseTrailer(data, &t, &trailer_size);
  if (s.ok()) {
    Require(trailer_size >= 11 && trailer_size <= data.size(), "trailer_size is inside the data");
    std::string_view rec = data.substr(data.size() - trailer_size);
    Require(rec.substr(0, 4) == "end " && rec.back() == '\n', "the trailer is an end record");
    Require(rec.find('\n') == rec.size() - 1, "the trailer is one line");
    Require(trailer_size == data.size() || data[data.size() - trailer_size - 1] == '\n',
            "the trailer starts a line");
    relay::Trailer back;
    size_t back_size = 0;
    std::string enc = relay::EncodeTrailer(t);
    Require(relay::ParseTrailer(enc, &back, &back_size).ok(), "an encoded trailer parses");
    Require(back.content_size == t.content_size && back.eight_bit == t.eight_bit && back_size == enc.size(),
            "trailer round trip");
  } else {
    Require(s.kind() == relay::Status::Kind::kDataErr, "trailer errors are DataErr");
  }
}

void FuzzEnvelope(FuzzedDataProvider* in) {
  relay::Envelope env;
  env.id = in->ConsumeRandomLengthString(40);
  env.arrival_micros = in->ConsumeIntegral<int64_t>();
  env.uid = in->ConsumeIntegral<int64_t>();
  env.sender = in->ConsumeRandomLengthString(80);
  size_t n = in->ConsumeIntegralInRange<size_t>(0, 8);
  for (size_t i = 0; i < n; ++i) {
    relay::Recipient r;
    r.address = in->ConsumeRandomLengthString(80);
    if (in->ConsumeBool()) r.original = in->ConsumeRandomLengthString(80);
    if (in->ConsumeBool()) r.notify = in->ConsumeRandomLengthString(30);
    env.recipients.push_back(std::move(r));
  }
  if (in->ConsumeBool()) env.dsn_ret = in->ConsumeRandomLengthString(10);
  if (in->ConsumeBool()) env.envid = in->ConsumeRandomLengthString(110);
  if (in->ConsumeBool()) env.body_type = in->ConsumeRandomLengthString(10);
  env.queue_only = in->ConsumeBool();
  env.double_bounce = in->ConsumeBool();

  std::string head;
  relay::Status s = relay::EncodeHead(env, &head);
  if (!AllSafe(env)) {
    Require(!s.ok() && s.kind() == relay::Status::Kind::kSoftware, "unsafe values are refused");
    return;
  }
  Require(s.ok(), "safe values are accepted");

  // Every record is one line, and the last is "content".
  Require(head.size() >= 22 && head.compare(0, 14, "relay-queue 2\n") == 0, "magic first (the version written)");
  Require(head.compare(head.size() - 8, 8, "content\n") == 0, "content last");

  relay::Envelope back;
  size_t head_size = 0;
  bool incomplete = true;
  const std::string content = in->ConsumeRemainingBytesAsString();
  const std::string file = head + content;
  s = relay::ParseHead(file, &back, &head_size, &incomplete);
  bool parseable = !env.id.empty() && !env.recipients.empty();
  for (const relay::Recipient& r : env.recipients) parseable = parseable && !r.address.empty();
  if (!parseable) {
    // The encoder does not check these; the parser refuses them.
    Require(!s.ok() && !incomplete, "a head without id or recipients is refused");
    return;
  }
  if (!s.ok() && Forged(s, incomplete)) return;
  Require(s.ok(), "encode -> parse succeeds");
  Require(!incomplete && head_size == head.size(), "head_size is the encoded size");
  Require(Same(env, back), "encode -> parse gives the envelope back");

  // Proper prefixes of the head are incomplete, never malformed.
  for (size_t cut : {size_t{0}, head.size() / 3, head.size() / 2, head.size() - 1}) {
    relay::Envelope part;
    size_t part_size = 0;
    bool part_incomplete = false;
    s = relay::ParseHead(std::string_view(head).substr(0, cut), &part, &part_size, &part_incomplete);
    Require(!s.ok() && part_incomplete, "a prefix of a head is incomplete");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 65536) return 0;
  if (data[0] % 2 == 0) {
    FuzzFile(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  } else {
    FuzzedDataProvider in(data + 1, size - 1);
    FuzzEnvelope(&in);
  }
  return 0;
}
