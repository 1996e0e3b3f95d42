/* vidmotion: the command-line tool. Subcommands live in cmd_*.c. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    { "scan", cmd_scan, "motion per zone and motion segments of clips" },
    { "index", cmd_index, "write motion indexes that answer later queries without decoding" },
    { "query", cmd_query, "answer a time-window request from the indexes (decode the rest)" },
};

static void usage(FILE *out)
{
    fputs("usage: vidmotion COMMAND [options] [FILE...]\n\nCommands:\n", out);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\nOther:\n"
          "  vidmotion --version     library and tool version\n"
          "  vidmotion --options     every analysis option (for --set)\n"
          "  vidmotion COMMAND --help\n",
          out);
}

static void list_options(void)
{
    for (int i = 0; i < vmo_config_option_count(); i++) {
        vmo_option_info oi = { .struct_size = sizeof(oi) };
        vmo_config_option_info(i, &oi);
        printf("%-14s %-6s default %-8g range %g..%g\n    %s\n", oi.name,
               oi.type == VMO_OPTION_DOUBLE ? "real" : oi.type == VMO_OPTION_BOOL ? "bool" : "int",
               oi.default_value, oi.min_value, oi.max_value, oi.help);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("vidmotion %d.%d.%d (library %s)\n", VMO_VERSION_MAJOR, VMO_VERSION_MINOR,
               VMO_VERSION_PATCH, vmo_version_string());
        return CLI_OK;
    }
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(cmd, "--options")) {
        list_options();
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(cmd, commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    cli_error("unknown command '%s' (try 'vidmotion --help')", cmd);
    return CLI_USAGE;
}
