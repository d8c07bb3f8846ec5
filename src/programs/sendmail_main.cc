// sendmail, mailq, newaliases: see man/sendmail.8.
#include "relay/inject/sendmail.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sys/auxv.h>
// Sanitizer builds only: LeakSanitizer cannot run in a setgid process (it
// needs ptrace) and would turn every exit into a failure there, so it is
// off when the kernel marks this exec as secure. Other runs keep it.
extern "C" const char* __asan_default_options() {
  return getauxval(AT_SECURE) ? "detect_leaks=0" : "";
}
#endif

int main(int argc, char** argv) { return relay::RunSendmail(argc, argv); }
