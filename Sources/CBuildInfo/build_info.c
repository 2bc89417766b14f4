#include "build_info.h"

#ifndef SLOTWORKER_GIT_REVISION
#define SLOTWORKER_GIT_REVISION "unknown"
#endif

const char *slotworker_git_revision(void) { return SLOTWORKER_GIT_REVISION; }
