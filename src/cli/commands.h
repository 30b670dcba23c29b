/* commands.h - one function per `tta` subcommand; main.c dispatches on argv[1].
 * Each takes the subcommand's own argc/argv (argv[0] is the subcommand name), prints its
 * results on stdout, one line per error on stderr ("tta: FILE: problem"), and returns the
 * process exit code (0 ok, 1 failure, 2 usage error). */
#ifndef TTA_CLI_COMMANDS_H
#define TTA_CLI_COMMANDS_H

int tta_cmd_info(int argc, char **argv);
int tta_cmd_run(int argc, char **argv);
int tta_cmd_conformance(int argc, char **argv);
int tta_cmd_augment(int argc, char **argv);
int tta_cmd_compare(int argc, char **argv);
int tta_cmd_predict(int argc, char **argv);
int tta_cmd_eval(int argc, char **argv);
int tta_cmd_bench(int argc, char **argv);
int tta_cmd_data(int argc, char **argv);
int tta_cmd_search(int argc, char **argv);
int tta_cmd_frontier(int argc, char **argv);
int tta_cmd_detect(int argc, char **argv);
int tta_cmd_detect_eval(int argc, char **argv);
int tta_cmd_detect_search(int argc, char **argv);
int tta_cmd_detect_bench(int argc, char **argv);
int tta_cmd_segment(int argc, char **argv);
int tta_cmd_segment_search(int argc, char **argv);
int tta_cmd_segment_bench(int argc, char **argv);
int tta_cmd_serve(int argc, char **argv);

#endif
