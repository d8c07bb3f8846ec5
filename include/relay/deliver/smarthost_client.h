// SmarthostClient: one connection to a smarthost, driven through an
// SmtpSession. Its bring-up (connect, TLS at connect for smtps, the
// greeting, EHLO, STARTTLS, EHLO again, AUTH) is the one both relay-deliver
// (Deliverer) and `relayctl test` use, so that the test shows what a
// delivery will meet: the same steps, checks and timeouts. Which host to
// try next is FailoverOrder's; what a caller shows of the bring-up (log
// lines, relayctl's steps) goes through an Observer: the client writes
// nothing itself.
//
// The connection may be broken from another thread (Abort), except in the
// final window, from the sending of a message's final dot to its reply:
// breaking off there could make a duplicate, so that reply is awaited.
#ifndef RELAY_DELIVER_SMARTHOST_CLIENT_H_
#define RELAY_DELIVER_SMARTHOST_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/config.h"
#include "relay/base/status.h"
#include "relay/smtp/smtp_reply.h"
#include "relay/smtp/smtp_session.h"

namespace relay {

class Connection;
class OAuthTokenSource;
class TlsContext;

// Which smarthosts failed recently, shared by the workers: a host that
// failed is skipped for kHostPenaltySeconds so that the next messages go
// straight to one that works; it is tried again after that (or at once if
// every host is marked down).
class HostHealth {
 public:
  static constexpr int64_t kHostPenaltySeconds = 60;
  void MarkDown(const std::string& host);
  void MarkUp(const std::string& host);
  bool IsDown(const std::string& host) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, int64_t> down_until_;  // micros
};

// "host:port": a smarthost's name in HostHealth and in logs.
std::string HostKey(const Smarthost& h);

// The smarthosts in the order to try them: those health does not mark
// down, in configured order, then those it does (still tried if nothing
// else answers). With nothing marked down, the configured order.
std::vector<const Smarthost*> FailoverOrder(const std::vector<Smarthost>& hosts, const HostHealth& health);

// How long to wait for the server at a stage: timeout_greeting for the
// greeting (and the TLS handshake at connect), timeout_data_init for the
// reply to DATA, timeout_data_done for the reply to the final dot,
// timeout_command for the rest.
int StageTimeoutMs(const Config& cfg, Stage stage);

class SmarthostClient {
 public:
  // Where a bring-up failed, for the caller's words.
  enum class Step {
    kConnect,   // no TCP connection
    kTlsSetup,  // the client TLS settings did not load (tls_ca_file...)
    kTls,       // the handshake at connect (smtps)
    kSecret,    // the login secret could not be loaded
    kSession,   // greeting, EHLO, STARTTLS or AUTH: the session ended
  };

  // What happens on the connection, for logs and relayctl's steps.
  class Observer {
   public:
    virtual ~Observer() = default;
    virtual void Connected(const std::string& /*peer*/, int64_t /*ms*/) {}
    // TLS is up: at connect (smtps) or after STARTTLS.
    virtual void TlsUp(const std::string& /*info*/, bool /*at_connect*/) {}
    // Bytes written while the session was at stage (kAuth: login data,
    // never to be shown).
    virtual void Sent(std::string_view /*out*/, Stage /*stage*/) {}
    // A reply read while the session was at stage, before it acts on it.
    virtual void Received(const Reply& /*r*/, Stage /*stage*/) {}
    // An event worth a log line (an OAuth token refreshed); no secret.
    virtual void Note(const std::string& /*line*/) {}
  };

  // Writes a message's content on the connection when the session wants
  // it. A DataErr: the content is not in wire form (wire_form.h).
  using BodyWriter = std::function<Status(Connection*)>;

  // tls: the client TLS settings to share, or null: loaded here at the
  // first host that needs them. helo_name: the name EHLO gives.
  SmarthostClient(const Config& cfg, std::string helo_name, std::shared_ptr<TlsContext> tls,
                  Observer* observer);
  ~SmarthostClient();
  SmarthostClient(const SmarthostClient&) = delete;
  SmarthostClient& operator=(const SmarthostClient&) = delete;

  // Drops any connection, then connects to h and brings the session up
  // until it is ready for a message. On failure *failed names the step
  // and the connection is dropped; the status says why.
  Status Open(const Smarthost& h, Step* failed);
  // Runs the session until it is ready for a message (true) or closed
  // (false). body is called when the session wants the content; content
  // not in wire form never gets its final dot: the connection is broken.
  bool Drive(const BodyWriter& body = nullptr);
  // Writes one command outside the session (relayctl's MAIL and RCPT
  // probe) and reads its reply, with timeout_command.
  Status Command(const std::string& line, Reply* reply);
  // QUIT when the session is idle, then drop the connection.
  void Close();
  // Drops the connection and the session at once.
  void Disconnect();

  // Ready for a message, with nothing unread from the server.
  bool ready() const;
  // The server sent something (bytes with no command outstanding, when
  // ready(): the connection is not to be reused).
  bool readable() const;
  SmtpSession* session() { return session_.get(); }
  // "host[address]:port" of the last connection tried, "" if none.
  const std::string& peer() const { return peer_; }
  // The name of the last smarthost tried, for TLS checks and bounces.
  const std::string& host() const { return host_; }
  // The OAuth token source of the last login (null without OAuth), for
  // its facts (state/.health, relayctl).
  const OAuthTokenSource* oauth() const { return oauth_.get(); }

  // From another thread: break the connection so that blocked I/O
  // returns, except in the final window, which runs to its end first.
  // Every wait for the server after this fails ("shutting down").
  void Abort();
  bool aborted() const { return aborted_; }
  // True from the sending of a message's final dot until LeaveFinal.
  bool in_final() const { return in_final_; }
  // Ends the final window (after its reply, or the connection's loss),
  // breaking the connection if an Abort came meanwhile.
  void LeaveFinal();

 private:
  void SetConnection(std::unique_ptr<Connection> c);
  Status StartSession(const Smarthost& h, Step* failed);
  // The login secret for h: an OAuth token (with its renewer) when OAuth
  // is on, else LoadSecret's.
  Status LoadLogin(const Smarthost& h, std::string* secret, std::function<bool(std::string*)>* renew);
  // One step of Drive for each thing the session wants.
  void Flush();
  void ReadReply();
  void StartTls();
  void SendBody(const BodyWriter& body);
  // Enters the final window unless already aborted (then false: the dot
  // must not be sent).
  bool EnterFinal();

  const Config& cfg_;
  std::string helo_name_;
  std::shared_ptr<TlsContext> tls_;
  Observer* observer_;
  std::unique_ptr<Connection> conn_;
  std::unique_ptr<OAuthTokenSource> oauth_;  // per host, made at its first login
  std::string oauth_key_;
  std::unique_ptr<SaslClientFactory> sasl_;  // outlives session_
  std::unique_ptr<SmtpSession> session_;
  ReplyParser parser_;
  std::string peer_;
  std::string host_;
  std::atomic<bool> aborted_{false};
  std::atomic<bool> in_final_{false};  // set and cleared under conn_mu_
  std::mutex conn_mu_;  // conn_ is replaced by its user, aborted by another thread
};

}  // namespace relay

#endif  // RELAY_DELIVER_SMARTHOST_CLIENT_H_
