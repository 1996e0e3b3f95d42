/* Running a request for the subcommands that analyse clips: settings, zones and window from
 * the command line, a progress line, and Ctrl-C that stops cleanly. */
#include <math.h>
#include <signal.h>
#include <string.h>

#include "cli.h"

static vmo_analyzer *volatile interrupt_target;

static void on_interrupt(int sig)
{
    /* Only sets a flag (async-signal-safe): the scan stops at its next frame and the
     * partial result is printed. A second Ctrl-C gets the default action: the user
     * really wants out. */
    vmo_analyzer *an = interrupt_target;
    if (an)
        vmo_analyzer_cancel(an);
    signal(sig, SIG_DFL);
}

void cli_interrupt_begin(vmo_analyzer *an)
{
    interrupt_target = an;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void cli_interrupt_end(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    interrupt_target = NULL;
}

/* A request that cannot be answered as asked is the caller's to fix. */
static int request_exit(int status)
{
    switch (status) {
    case VMO_ERR_UNKNOWN_ZONE:
    case VMO_ERR_NO_TIME_SOURCE:
    case VMO_ERR_OVERLAP:
    case VMO_ERR_BAD_WINDOW:
    case VMO_ERR_BAD_TIME:
        return CLI_USAGE;
    default:
        return CLI_INPUT_ERROR;
    }
}

static int build_request(const cli_common *c, const cli_hooks *h, vmo_request **rq)
{
    int st = vmo_request_create(rq);
    for (int i = 0; st == VMO_OK && i < c->nfiles; i++)
        st = vmo_request_add_clip(*rq, c->files[i], NAN);
    if (st == VMO_OK && (c->from || c->to))
        st = vmo_request_set_window(*rq, c->from, c->to);
    if (st == VMO_OK && h && h->use_index)
        st = vmo_request_set_double(*rq, "use_index", 1);
    if (st == VMO_OK && h && h->write_index)
        st = vmo_request_set_double(*rq, "write_index", 1);
    if (st != VMO_OK)
        cli_error("%s", *rq && *vmo_request_last_error(*rq) ? vmo_request_last_error(*rq)
                                                            : vmo_strerror(st));
    return st;
}

static void set_hooks(vmo_analyzer *an, const cli_hooks *h, cli_progress *p)
{
    if (h && h->frame)
        vmo_analyzer_set_frame_callback(an, h->frame, h->user);
    if (h && h->event)
        vmo_analyzer_set_event_callback(an, h->event, h->user);
    if (p)
        vmo_analyzer_set_progress_callback(an, cli_progress_update, p);
}

/* Clips that failed are in the result (a request goes on without them); say so on stderr
 * too, where a person looks for errors. */
static void report_failed_clips(const vmo_result *res)
{
    for (int i = 0; i < vmo_result_clip_count(res); i++) {
        vmo_clip_info ci = { .struct_size = sizeof(ci) };
        vmo_result_clip(res, i, &ci);
        if (ci.status == VMO_OK || ci.status == VMO_ERR_CANCELLED)
            continue;
        const char *why = ci.error ? ci.error : vmo_strerror(ci.status);
        /* The library's message often names the file already: say it once. */
        const size_t n = strlen(ci.path);
        if (!strncmp(why, ci.path, n) && !strncmp(why + n, ": ", 2))
            why += n + 2;
        cli_error("%s: %s", ci.path, why);
    }
}

int cli_analysed_frames(const vmo_result *res)
{
    int64_t n = 0;
    for (int i = 0; i < vmo_result_clip_count(res); i++) {
        vmo_clip_info ci = { .struct_size = sizeof(ci) };
        vmo_result_clip(res, i, &ci);
        n += ci.analysed;
    }
    return n > 0;
}

int cli_run_request(cli_common *c, const cli_hooks *h, vmo_result **res, int *interrupted)
{
    *res = NULL;
    *interrupted = 0;
    if (c->frames)
        vmo_config_set_int(c->cfg, "frames", 1);
    vmo_analyzer *an = NULL;
    vmo_request *rq = NULL;
    int st = vmo_analyzer_create(c->cfg, &an);
    if (st != VMO_OK) {
        cli_error("%s", vmo_config_last_error(c->cfg)[0] ? vmo_config_last_error(c->cfg)
                                                         : vmo_strerror(st));
        return CLI_USAGE;
    }
    if (build_request(c, h, &rq) != VMO_OK) {
        vmo_request_destroy(&rq);
        vmo_analyzer_destroy(&an);
        return CLI_USAGE;
    }
    cli_progress *progress = cli_progress_create(c->quiet, c->nfiles);
    set_hooks(an, h, progress);
    cli_interrupt_begin(an);
    st = vmo_analyzer_run_request(an, rq, res);
    cli_interrupt_end();
    cli_progress_finish(&progress);
    int rc = CLI_OK;
    if (st == VMO_ERR_CANCELLED) {
        *interrupted = 1;
        fputs("vidmotion: interrupted\n", stderr);
    }
    if (!*res) {
        cli_error("%s", vmo_analyzer_last_error(an));
        rc = request_exit(st);
    } else {
        report_failed_clips(*res);
    }
    vmo_request_destroy(&rq);
    vmo_analyzer_destroy(&an);
    return rc;
}
