// sendmail, mailq, newaliases: see man/sendmail.8.
#include "relay/sendmail.h"

int main(int argc, char** argv) { return relay::RunSendmail(argc, argv); }
