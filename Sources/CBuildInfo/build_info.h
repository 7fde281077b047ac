#ifndef DRIFT_BUILD_INFO_H
#define DRIFT_BUILD_INFO_H
/* scripts/dist.sh passes -Xcc -DDRIFT_GIT_COMMIT='"<sha>"'; a plain `swift build` has none. */
#ifdef DRIFT_GIT_COMMIT
static inline const char *drift_git_commit(void) { return DRIFT_GIT_COMMIT; }
#else
static inline const char *drift_git_commit(void) { return ""; }
#endif
/* scripts/dist.sh passes -DDRIFT_DOCS_URL='"https://…/blob/<sha>/docs/gate.md"' when it knows the repository. */
#ifdef DRIFT_DOCS_URL
static inline const char *drift_docs_url(void) { return DRIFT_DOCS_URL; }
#else
static inline const char *drift_docs_url(void) { return ""; }
#endif
#endif
