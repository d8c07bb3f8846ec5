#!/usr/bin/python3
"""A stand-in OAuth 2.0 authorization server over HTTPS, for relay's tests.

Run it with Debian's /usr/bin/python3 (standard library only):

  /usr/bin/python3 tests/oauth_provider.py --port PORT --cert server.pem
      --key server.key --dir DIR [--access-ttl 5] [--client-id ID]
      [--client-secret SECRET] [--max-seconds 300] [--ready-file FILE]
      [--device-interval 1] [--device-approve-after N] [--host 127.0.0.1]

It listens on 127.0.0.1 (or ::1; nothing else is allowed) over TLS with the
certificate given (the tests make their own CA with openssl), serves each
request in its own thread, and exits by itself after --max-seconds, on
SIGTERM/SIGINT, or when DIR/stop appears.  --port 0 picks a free port;
--ready-file is written with the port once it listens.

What it follows
  RFC 6749  OAuth 2.0: the token endpoint (3.2, form-encoded POST,
            client_id/client_secret in the body or HTTP Basic), the
            authorization code (4.1), client credentials (4.4), refreshing
            (6) and the error response (5.2: invalid_grant, invalid_client,
            invalid_request, unsupported_grant_type).
  RFC 7636  PKCE: code_challenge_method S256 (plain is refused).
  RFC 8628  Device authorization: device_code/user_code, the polling
            errors authorization_pending, slow_down, expired_token.
  Google    developers.google.com/identity/protocols/oauth2/native-app
            (loopback redirect, PKCE) and
            developers.google.com/gmail/imap/xoauth2-protocol (XOAUTH2, the
            334 + base64 JSON error, answered with an empty line).
  Microsoft learn.microsoft.com/entra/identity-platform/
            v2-oauth2-device-code, v2-oauth-ropc/-client-creds-grant-flow,
            refresh-tokens (rotation: each refresh returns a new refresh
            token), AADSTS70000/700082 as invalid_grant descriptions.

Endpoints (any path prefix, so /TENANT/oauth2/v2.0/token works too)
  POST .../token        grant_type = refresh_token | authorization_code |
                        client_credentials |
                        urn:ietf:params:oauth:grant-type:device_code
  POST .../devicecode   (and .../device/code) RFC 8628 3.1-3.2
  GET  .../authorize    (and .../auth) response_type=code, client_id,
                        redirect_uri (loopback only), code_challenge,
                        code_challenge_method=S256, state: the "user"
                        consents at once: 302 to redirect_uri?code=..&state=..
  GET  .../device?user_code=XXXX   the "user" approves a device code
  POST .../control      body JSON: merged into the switches (below)

Tokens
  Refresh tokens rotate: every refresh returns a new one, and each can be
  used once; using one again is invalid_grant ("reused", logged as event
  "reuse").  Access tokens live --access-ttl seconds.  The seed refresh
  token is written to DIR/seed-refresh-token at start.  DIR/access-tokens
  is rewritten atomically at every issue: a JSON object {token: expiry}
  (unix seconds), which tests/fault_server.py --oauth-tokens checks
  XOAUTH2 and OAUTHBEARER logins against.  DIR/issued-tokens lists every
  token and code issued, one a line, so a test can scan for leaks.

Switches (DIR/control, JSON, read at every request; or POST .../control)
  {"mode": "ok"}                 normal
  {"mode": "invalid_grant"}      every refresh: 400 invalid_grant,
                                 "AADSTS700082: The refresh token has
                                 expired due to inactivity"
  {"mode": "slow", "seconds": N} answer every request N seconds late
  {"mode": "down"}               close every connection without a reply
  {"mode": "hang_after_rotate"}  a refresh spends its token and makes the
                                 new one, then never answers (the client
                                 is lost between getting and storing it)
  {"reuse_grace": true}          a spent refresh token still works once
                                 more, as Microsoft's old ones do until
                                 they expire (default false: strict)

Log (DIR/log, JSON lines, flushed): every record has "t" and "event":
  {"event": "listening", "port": P}
  {"event": "grant", "grant": "refresh_token", "rt_in": H, "rt_out": H,
   "at": H, "ok": true}       (H: the first 12 hex digits of the sha256
                               of a token, never the token)
  {"event": "reuse", "rt_in": H}
  {"event": "error", "grant": G, "error": "invalid_grant", ...}
  {"event": "down"} {"event": "hang", "rt_out": H}
  {"event": "device_code", ...} {"event": "authorize", ...}
"""

import argparse
import base64
import hashlib
import http.server
import json
import os
import secrets
import signal
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

START = time.monotonic()


def digest(tok):
    return hashlib.sha256(tok.encode()).hexdigest()[:12]


class Provider:
    def __init__(self, args):
        self.args = args
        self.dir = args.dir
        self.lock = threading.RLock()
        self.logf = open(os.path.join(self.dir, "log"), "a", encoding="utf-8")
        self.refresh = {}   # token -> {"uses": n, "scope": s}
        self.access = {}    # token -> expiry (unix seconds)
        self.codes = {}     # code -> {"challenge", "redirect_uri", "scope"}
        self.devices = {}   # device_code -> {"user_code", "approved", "last_poll", "interval", "polls", "expiry"}
        self.switches = {"mode": "ok"}
        self.stopping = threading.Event()
        seed = self.new_refresh("")
        self.write_file("seed-refresh-token", seed + "\n")

    # -- bookkeeping -----------------------------------------------------
    def log(self, event, **kw):
        rec = {"t": round(time.monotonic() - START, 4), "event": event}
        rec.update(kw)
        with self.lock:
            self.logf.write(json.dumps(rec) + "\n")
            self.logf.flush()

    def write_file(self, name, text):
        path = os.path.join(self.dir, name)
        tmp = path + ".tmp%d" % threading.get_ident()
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)

    def remember(self, tok):
        with open(os.path.join(self.dir, "issued-tokens"), "a", encoding="utf-8") as f:
            f.write(tok + "\n")

    def new_refresh(self, scope):
        tok = "rt-" + secrets.token_urlsafe(24)
        self.refresh[tok] = {"uses": 0, "scope": scope}
        self.remember(tok)
        return tok

    def new_access(self):
        tok = "at-" + secrets.token_urlsafe(32)
        self.access[tok] = time.time() + self.args.access_ttl
        self.remember(tok)
        now = time.time()
        live = {k: v for k, v in self.access.items() if v > now - 60}
        self.write_file("access-tokens", json.dumps(live))
        return tok

    def current_switches(self):
        path = os.path.join(self.dir, "control")
        sw = dict(self.switches)
        try:
            with open(path, encoding="utf-8") as f:
                sw.update(json.load(f))
        except (OSError, ValueError):
            pass
        return sw

    # -- grants ----------------------------------------------------------
    def client_ok(self, form, basic, public_ok=True):
        """A secret sent must be right; none at all is a public client
        (Microsoft's "allow public client flows", an installed app),
        accepted except for client_credentials."""
        cid = form.get("client_id") or (basic[0] if basic else None)
        csec = form.get("client_secret") or (basic[1] if basic else None)
        if cid != self.args.client_id:
            return False
        if csec is None:
            return public_ok
        return csec == self.args.client_secret

    def grant(self, form, basic, sw):
        """-> (http status, JSON body, after) ; after: "hang" or None"""
        g = form.get("grant_type", "")
        if g == "client_credentials":
            if not self.args.client_secret or not self.client_ok(form, basic, public_ok=False):
                return self.error(g, 401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
            return self.issue(g, None, None)
        if not self.client_ok(form, basic):
            return self.error(g, 401, "invalid_client", "unknown client")
        if g == "refresh_token":
            return self.grant_refresh(form, sw)
        if g == "authorization_code":
            return self.grant_code(form)
        if g == "urn:ietf:params:oauth:grant-type:device_code":
            return self.grant_device(form)
        return self.error(g, 400, "unsupported_grant_type", "grant_type %r" % g)

    def error(self, grant, status, err, desc, **kw):
        self.log("error", grant=grant, error=err, description=desc, **kw)
        return status, {"error": err, "error_description": desc}, None

    def issue(self, grant, rt_in, scope, rotate=True, **kw):
        at = self.new_access()
        body = {"access_token": at, "token_type": "Bearer", "expires_in": self.args.access_ttl}
        rt_out = None
        if rotate and grant != "client_credentials":
            rt_out = self.new_refresh(scope or "")
            body["refresh_token"] = rt_out
        if scope:
            body["scope"] = scope
        self.log("grant", grant=grant, ok=True, rt_in=digest(rt_in) if rt_in else None,
                 rt_out=digest(rt_out) if rt_out else None, at=digest(at), **kw)
        return 200, body, None

    def grant_refresh(self, form, sw):
        rt = form.get("refresh_token", "")
        with self.lock:
            info = self.refresh.get(rt)
            if info is None:
                unknown = True
            else:
                unknown = False
                info["uses"] += 1
                uses = info["uses"]
        if unknown:
            return self.error("refresh_token", 400, "invalid_grant", "AADSTS70000: unknown refresh token",
                              rt_in=digest(rt))
        if sw.get("mode") == "invalid_grant":
            return self.error("refresh_token", 400, "invalid_grant",
                              "AADSTS700082: The refresh token has expired due to inactivity.",
                              rt_in=digest(rt))
        if uses > 1:
            self.log("reuse", rt_in=digest(rt), uses=uses)
            if not (sw.get("reuse_grace") and uses == 2):
                return self.error("refresh_token", 400, "invalid_grant",
                                  "Token has been expired or revoked (reused).", rt_in=digest(rt))
        status, body, _ = self.issue("refresh_token", rt, info["scope"] or form.get("scope"))
        if sw.get("mode") == "hang_after_rotate":
            self.log("hang", rt_out=digest(body["refresh_token"]))
            return status, body, "hang"
        return status, body, None

    def grant_code(self, form):
        code = form.get("code", "")
        with self.lock:
            c = self.codes.pop(code, None)
        if c is None:
            return self.error("authorization_code", 400, "invalid_grant", "unknown or used code")
        if form.get("redirect_uri") != c["redirect_uri"]:
            return self.error("authorization_code", 400, "invalid_grant", "redirect_uri does not match")
        verifier = form.get("code_verifier", "")
        want = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if not (43 <= len(verifier) <= 128) or want != c["challenge"]:
            return self.error("authorization_code", 400, "invalid_grant", "PKCE verification failed")
        return self.issue("authorization_code", None, c["scope"])

    def grant_device(self, form):
        dc = form.get("device_code", "")
        now = time.monotonic()
        with self.lock:
            d = self.devices.get(dc)
            if d is None:
                unknown = True
            else:
                unknown = False
                too_soon = d["last_poll"] is not None and now - d["last_poll"] < d["interval"]
                d["last_poll"] = now
                d["polls"] += 1
                if too_soon:
                    d["interval"] += 5   # RFC 8628 3.5
                if self.args.device_approve_after and d["polls"] >= self.args.device_approve_after:
                    d["approved"] = True
                expired = now > d["expiry"]
                approved = d["approved"]
                if approved and not too_soon:
                    del self.devices[dc]
        if unknown:
            return self.error("device_code", 400, "invalid_grant", "unknown device_code")
        if expired:
            return self.error("device_code", 400, "expired_token", "the device code expired")
        if too_soon:
            return self.error("device_code", 400, "slow_down", "polling faster than the interval")
        if not approved:
            return self.error("device_code", 400, "authorization_pending", "the user has not approved yet")
        return self.issue("device_code", None, d["scope"])

    def device_authorization(self, form):
        if form.get("client_id") != self.args.client_id:
            return 400, {"error": "invalid_client"}, None
        dc = secrets.token_urlsafe(24)
        uc = "%04d-%04d" % (secrets.randbelow(10000), secrets.randbelow(10000))
        self.remember(dc)
        with self.lock:
            self.devices[dc] = {"user_code": uc, "approved": False, "last_poll": None,
                                "interval": self.args.device_interval, "polls": 0,
                                "expiry": time.monotonic() + 900, "scope": form.get("scope", "")}
        self.log("device_code", user_code=uc)
        base = "https://127.0.0.1:%d" % self.port
        return 200, {"device_code": dc, "user_code": uc, "verification_uri": base + "/device",
                     "expires_in": 900, "interval": self.args.device_interval,
                     "message": "To sign in, open %s/device and enter the code %s." % (base, uc)}, None

    def approve_device(self, user_code):
        with self.lock:
            for d in self.devices.values():
                if d["user_code"] == user_code:
                    d["approved"] = True
                    self.log("device_approved", user_code=user_code)
                    return True
        return False

    def authorize(self, q):
        redirect = q.get("redirect_uri", "")
        host = urllib.parse.urlsplit(redirect).hostname
        if q.get("client_id") != self.args.client_id or host not in ("127.0.0.1", "::1", "localhost"):
            return 400, None
        if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256" \
                or not q.get("code_challenge"):
            return 400, None
        code = secrets.token_urlsafe(24)
        self.remember(code)
        with self.lock:
            self.codes[code] = {"challenge": q["code_challenge"], "redirect_uri": redirect,
                                "scope": q.get("scope", "")}
        self.log("authorize", redirect_uri=redirect)
        params = {"code": code}
        if "state" in q:
            params["state"] = q["state"]
        sep = "&" if "?" in redirect else "?"
        return 302, redirect + sep + urllib.parse.urlencode(params)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):  # the JSON log is the record
        pass

    def reply(self, status, body=None, location=None):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def gate(self):
        """Applies the down and slow switches; False: no reply at all."""
        p = self.server.provider
        sw = p.current_switches()
        if sw.get("mode") == "down":
            p.log("down", path=self.path)
            self.close_connection = True
            return None
        if sw.get("mode") == "slow":
            p.stopping.wait(float(sw.get("seconds", 30)))
        return sw

    def do_GET(self):
        p = self.server.provider
        if self.gate() is None:
            return
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        if u.path.endswith("/authorize") or u.path.endswith("/auth"):
            status, loc = p.authorize(q)
            return self.reply(status, None if status == 302 else {"error": "invalid_request"}, loc)
        if u.path.endswith("/device"):
            ok = p.approve_device(q.get("user_code", ""))
            return self.reply(200 if ok else 404, {"approved": ok})
        self.reply(404, {"error": "not_found"})

    def do_POST(self):
        p = self.server.provider
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if 0 < n < 65536 else b""
        u = urllib.parse.urlsplit(self.path)
        if u.path.endswith("/control"):
            p.switches.update(json.loads(raw or b"{}"))
            p.log("control", switches=p.switches)
            return self.reply(200, p.switches)
        sw = self.gate()
        if sw is None:
            return
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype != "application/x-www-form-urlencoded":
            return self.reply(400, {"error": "invalid_request", "error_description": "not form-encoded"})
        form = dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace")))
        basic = None
        auth = self.headers.get("Authorization") or ""
        if auth.startswith("Basic "):
            try:
                pair = base64.b64decode(auth[6:]).decode()
                basic = tuple(urllib.parse.unquote(x) for x in pair.split(":", 1))
            except ValueError:
                basic = None
        if u.path.endswith("/devicecode") or u.path.endswith("/device/code"):
            status, body, _ = p.device_authorization(form)
            return self.reply(status, body)
        if not u.path.endswith("/token"):
            return self.reply(404, {"error": "not_found"})
        status, body, after = p.grant(form, basic, sw)
        if after == "hang":
            p.stopping.wait(p.args.max_seconds)
            self.close_connection = True
            return
        self.reply(status, body)


class TLSServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--access-ttl", type=int, default=5)
    ap.add_argument("--client-id", default="relay-test-client")
    ap.add_argument("--client-secret")
    ap.add_argument("--max-seconds", type=float, default=300)
    ap.add_argument("--ready-file")
    ap.add_argument("--device-interval", type=int, default=1)
    ap.add_argument("--device-approve-after", type=int, default=0)
    args = ap.parse_args()
    if args.host not in ("127.0.0.1", "::1"):
        ap.error("--host must be a loopback address (127.0.0.1 or ::1)")
    provider = Provider(args)
    if args.host == "::1":
        TLSServer.address_family = __import__("socket").AF_INET6
    srv = TLSServer((args.host, args.port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    # The handshake runs in the request's thread (at its first read), so
    # a client that connects and says nothing holds up no one else.
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    srv.provider = provider
    provider.port = srv.server_address[1]
    provider.log("listening", port=provider.port, pid=os.getpid())
    if args.ready_file:
        provider.write_file(os.path.abspath(args.ready_file), "%d\n" % provider.port)

    def stop(*_):
        provider.stopping.set()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    deadline = time.monotonic() + args.max_seconds
    stop_file = os.path.join(args.dir, "stop")
    while not provider.stopping.wait(0.2):
        if time.monotonic() > deadline or os.path.exists(stop_file):
            provider.stopping.set()
    provider.log("stopped")
    srv.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
