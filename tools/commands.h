/*
 * commands.h — the subcommands of otk, one file each (cmd_*.c), listed in
 * otk.c's table.  Each takes argv with argv[0] the subcommand's name and
 * returns the exit status (cli.h).  No subcommand calls another.
 */
#ifndef OTK_TOOLS_COMMANDS_H
#define OTK_TOOLS_COMMANDS_H

int cmd_sinkhorn(int argc, char **argv);     /* cmd_sinkhorn.c */
int cmd_grid(int argc, char **argv);         /* cmd_grid.c */
int cmd_demo(int argc, char **argv);         /* cmd_demo.c */
int cmd_divergence(int argc, char **argv);   /* cmd_divergence.c */
int cmd_sinkd(int argc, char **argv);        /* cmd_sinkd.c */
int cmd_monge_gap(int argc, char **argv);    /* cmd_monge_gap.c */
int cmd_entropic_map(int argc, char **argv); /* cmd_entropic_map.c */
int cmd_mesh(int argc, char **argv);         /* cmd_mesh.c */
int cmd_fit_map(int argc, char **argv);      /* cmd_mapfit.c */
int cmd_apply_map(int argc, char **argv);    /* cmd_mapfit.c */
int cmd_fdiv(int argc, char **argv);         /* cmd_fdiv.c */
int cmd_emd(int argc, char **argv);          /* cmd_emd.c */
int cmd_sliced(int argc, char **argv);       /* cmd_sliced.c */

#endif /* OTK_TOOLS_COMMANDS_H */
