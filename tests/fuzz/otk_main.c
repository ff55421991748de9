/* The otk tool's main, renamed so that the command-line fuzz target can call
 * it in-process (tests/fuzz/target_cli.c). */
int otk_cli_main(int argc, char **argv);
#define main otk_cli_main
#include "otk.c"
