/* What the agent sends a model leaves the machine: text from the notebook (outputs, tracebacks,
 * earlier cells) passes through here first. Strings that look like credentials become
 * "[masked]": OpenAI and Anthropic keys (sk-..., sk-proj-..., sk-ant-...), AWS access key ids
 * (AKIA...), GitHub tokens (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_), Slack tokens (xox?-),
 * Google API keys (AIza...), and any run of 32 or more letters, digits, '_' and '-' that mixes
 * letters and digits (a hex digest is masked too: a small price). Terminal colour codes are
 * removed (a model reads text, and they cost tokens). */
#ifndef WARDEN_MASK_H
#define WARDEN_MASK_H

#include <stddef.h>

/* A malloc'd copy of text with credentials masked and ANSI escape sequences removed; NULL when
 * out of memory. */
char *mask_for_model(const char *text);

#endif
