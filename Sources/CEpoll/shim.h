// Linux epoll(7) and eventfd(2), which Swift's Glibc module does not export; PostgresClient's socket poller waits with it.
#include <sys/epoll.h>
#include <sys/eventfd.h>
