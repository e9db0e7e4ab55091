/* show.h - print a scenario as an indented tree for people. */
#ifndef ASYNCFUZZ_SHOW_H
#define ASYNCFUZZ_SHOW_H

#include <stdio.h>

#include "scenarios/ir.h"

/* Prints the header (description, expected verdicts, primitives) and the
 * task tree of a valid scenario. */
void af_show(const af_scenario *s, FILE *out);

#endif
