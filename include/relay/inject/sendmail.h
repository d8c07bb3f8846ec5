// The sendmail program (also mailq and newaliases): the process-level part
// of the front end. It guards the process (file descriptors, environment,
// signals, privileges), then dispatches on the mode. All message handling
// is in Injector; this file is the edge where the outside world comes in.
#ifndef RELAY_INJECT_SENDMAIL_H_
#define RELAY_INJECT_SENDMAIL_H_

namespace relay {

// Runs sendmail and returns its exit status (0 or a sysexits code). Writes
// at most one line to stderr on failure, and nothing at all on success.
int RunSendmail(int argc, char** argv);

}  // namespace relay

#endif  // RELAY_INJECT_SENDMAIL_H_
