#ifndef SLOTWORKER_BUILD_INFO_H
#define SLOTWORKER_BUILD_INFO_H

/* The git revision this binary was built from ("unknown" when the build did not say; see Package.swift). */
const char *slotworker_git_revision(void);

#endif
