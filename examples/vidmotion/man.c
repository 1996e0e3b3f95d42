/* The man page, in roff, made at build time by the hidden `vidmotion --man`. Each
 * command's section is its own --help output converted (the way help2man works), so the
 * page and --help cannot drift apart; the general sections are written here once. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Runs `cmd --help` with stdout sent to a temporary file; returns the text (malloc'd). */
static char *capture_help(const cli_command *cmd)
{
    FILE *tmp = tmpfile();
    if (!tmp)
        return NULL;
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    dup2(fileno(tmp), STDOUT_FILENO);
    char name[32], help[] = "--help";
    snprintf(name, sizeof(name), "%s", cmd->name);
    char *argv[] = { name, help, NULL };
    cmd->run(2, argv);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    long size = ftell(tmp);
    char *text = size >= 0 ? malloc((size_t)size + 1) : NULL;
    rewind(tmp);
    if (text) {
        size_t n = fread(text, 1, (size_t)size, tmp);
        text[n] = '\0';
    }
    fclose(tmp);
    return text;
}

/* Text with roff's special characters escaped ('-' as a minus, so options copy right). */
static void roff_text(FILE *out, const char *s, size_t n)
{
    if (n > 0 && (s[0] == '.' || s[0] == '\''))
        fputs("\\&", out);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\')
            fputs("\\e", out);
        else if (s[i] == '-')
            fputs("\\-", out);
        else
            fputc(s[i], out);
    }
}

static int is_option_line(const char *line)
{
    return !strncmp(line, "  -", 3);
}

/* "  --zone NAME=SPEC      a zone to ..." -> .TP, the label in bold, the text under it. */
static void option_line(FILE *out, const char *line, size_t len)
{
    const char *p = line + 2, *end = line + len;
    const char *gap = strstr(p, "  ");
    if (!gap || gap > end)
        gap = end;
    fputs(".TP\n\\fB", out);
    roff_text(out, p, (size_t)(gap - p));
    fputs("\\fR\n", out);
    while (gap < end && *gap == ' ')
        gap++;
    if (gap < end) {
        roff_text(out, gap, (size_t)(end - gap));
        fputc('\n', out);
    }
}

/* "Output:", "Time window:": short, unindented, ending with a colon. */
static int is_heading(const char *line, size_t len)
{
    return len > 1 && len < 24 && line[0] != ' ' && line[len - 1] == ':';
}

/* One command's --help as a subsection. */
static void command_section(FILE *out, const char *help)
{
    const char *line = help, *usage = "usage: vidmotion ";
    int in_option = 0, new_para = 0;
    while (*line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (line == help && !strncmp(line, usage, strlen(usage))) {
            fputs(".SS \"", out);
            roff_text(out, line + 7, len - 7);
            fputs("\"\n", out);
        } else if (len == 0) {
            new_para = 1;
            in_option = 0;
        } else if (is_option_line(line)) {
            option_line(out, line, len);
            in_option = 1;
        } else if (in_option && line[0] == ' ') {
            const char *p = line + strspn(line, " ");
            roff_text(out, p, len - (size_t)(p - line));
            fputc('\n', out);
        } else if (is_heading(line, len)) {
            fputs(".PP\n\\fI", out);
            roff_text(out, line, len);
            fputs("\\fR\n", out);
            in_option = 0;
        } else {
            if (new_para || in_option)
                fputs(".PP\n", out);
            roff_text(out, line + strspn(line, " "), len - strspn(line, " "));
            fputc('\n', out);
            new_para = in_option = 0;
        }
        line += len + (nl != NULL);
    }
}

static const char *const head =
    ".TH VIDMOTION 1 \"\" \"vidmotion %d.%d.%d\" \"User Commands\"\n"
    ".SH NAME\n"
    "vidmotion \\- find motion in the zones of video clips, and when it happened\n"
    ".SH SYNOPSIS\n"
    ".B vidmotion\n"
    ".I command\n"
    "[\\fIoptions\\fR] \\fIFILE\\fR...\n"
    ".br\n"
    ".B vidmotion\n"
    "\\-\\-version | \\-\\-help | \\-\\-options\n"
    ".SH DESCRIPTION\n"
    "vidmotion answers the question security and doorbell camera owners are asked: was there\n"
    "motion in this zone between these two times, and when exactly? It decodes clips with\n"
    "FFmpeg, measures motion inside the zones that matter (never inside privacy masks),\n"
    "finds the matching time spans, draws them, and cuts them out without re\\-encoding.\n"
    ".PP\n"
    "Every command takes the same options for the same things: zones (\\-\\-zone, \\-\\-zones,\n"
    "\\-\\-mask), the analysis (\\-\\-width, \\-\\-threshold, \\-\\-fps, \\-\\-threads, "
    "\\-\\-jobs,\n"
    "\\-\\-set), the time window (\\-\\-from, \\-\\-to) and the output (\\-\\-json, \\-\\-jsonl,\n"
    "\\-\\-quiet). Options may come before or after the files. A progress line is drawn on\n"
    "standard error when it is a terminal; Ctrl\\-C stops a scan cleanly and prints what was\n"
    "found so far.\n"
    ".SH COMMANDS\n";

static const char *const tail =
    ".SH TIMES\n"
    "\\-\\-from and \\-\\-to take seconds from each clip's start (\\fB12.5\\fR),\n"
    "\\fBHH:MM:SS.mmm\\fR or \\fBMM:SS\\fR, or an ISO\\-8601 wall\\-clock time\n"
    "(\\fB2025\\-11\\-02T23:59:52Z\\fR, \\fB2025\\-11\\-03 01:00:00+01:00\\fR; no zone designator\n"
    "means UTC). A clip's wall\\-clock start comes from its creation_time tag, else from a\n"
    "timestamp in its name (cam2_20251102T235950Z.mp4). Both ends must be of one kind.\n"
    ".SH ZONES\n"
    "A zone is \\fINAME\\fR=\\fIx0,y0,x1,y1\\fR (a rectangle) or "
    "\\fINAME\\fR=poly:\\fIx,y;x,y;...\\fR\n"
    "(a polygon, even\\-odd rule), in coordinates 0..1 of the frame (x to the right, y down).\n"
    "\\-\\-zones FILE reads a JSON file:\n"
    ".PP\n"
    ".nf\n"
    "{\"zones\": [{\"name\": \"porch\", \"rect\": [0.1, 0.55, 0.45, 1.0]},\n"
    "           {\"name\": \"street\", \"rect\": [0, 0, 1, 0.25], \"exclude\": true}]}\n"
    ".fi\n"
    ".PP\n"
    "With no zone, the whole frame is one zone named \\fBframe\\fR.\n"
    ".SH OUTPUT\n"
    "By default a table for people: the clips, a summary per zone, and the motion segments\n"
    "with their zone, start and end in the clip, length, wall\\-clock span and peak.\n"
    "\\-\\-json prints one JSON document whose fields are only ever added to (docs/json.md).\n"
    "\\-\\-jsonl prints JSON lines: \\fB\"type\": \"started\"\\fR and \\fB\"ended\"\\fR as each "
    "event\n"
    "starts and ends during the scan, then one \\fB\"clip\"\\fR line per clip, one\n"
    "\\fB\"segment\"\\fR line per final segment (the fields of the JSON document), and a\n"
    "\\fB\"summary\"\\fR line.\n"
    ".SH EXIT STATUS\n"
    ".TP\n.B 0\nsuccess: motion found (or the command's work done)\n"
    ".TP\n.B 1\nsuccess, but no motion segment matched\n"
    ".TP\n.B 2\nbad command line (unknown option, bad zone or time, unknown zone, a window the\n"
    "clips cannot answer)\n"
    ".TP\n.B 3\nan input could not be read or analysed (missing, empty, not a video, corrupt)\n"
    ".TP\n.B 4\nan output could not be written (nothing half\\-written is left)\n"
    ".TP\n.B 130\ninterrupted by Ctrl\\-C (scan and query print the results so far)\n"
    ".SH ENVIRONMENT\n"
    ".TP\n.B VMO_CPU_MASK\nrestricts the SIMD kernels: a number, or c, sse2, avx2, neon\n"
    ".SH EXAMPLES\n"
    ".nf\n"
    "vidmotion scan samples/sample.mp4 \\-\\-zone path=0,0.3,1,0.62 \\-\\-zone lawn=0,0.62,1,1\n"
    "vidmotion heatmap samples/sample.mp4 \\-\\-zone path=0,0.3,1,0.62 \\-o heat.png\n"
    "vidmotion timeline samples/sample.mp4 \\-\\-zone path=0,0.3,1,0.62 \\-o timeline.svg\n"
    "vidmotion scan cam2_*.mp4 \\-\\-from 2025\\-11\\-02T23:59:59Z \\-\\-to "
    "2025\\-11\\-03T00:00:12Z\n"
    "vidmotion index cam2_*.mp4 && vidmotion query cam2_*.mp4 \\-\\-from 23:59:59 \\-\\-json\n"
    "vidmotion extract cam2_*.mp4 \\-\\-from 2025\\-11\\-02T23:59:59Z \\-\\-to "
    "2025\\-11\\-03T00:00:12Z \\-\\-out case42\n"
    "vidmotion verify case42/manifest.json\n"
    ".fi\n"
    ".SH SEE ALSO\n"
    ".BR ffmpeg (1),\n"
    ".BR ffprobe (1);\n"
    "docs/json.md, docs/zones.md, docs/options.md and docs/cli.md in the source tree.\n";

int cli_print_man(FILE *out, const cli_command *commands, int count)
{
    fprintf(out, head, VMO_VERSION_MAJOR, VMO_VERSION_MINOR, VMO_VERSION_PATCH);
    for (int i = 0; i < count; i++) {
        char *help = capture_help(&commands[i]);
        if (!help)
            return -1;
        command_section(out, help);
        free(help);
    }
    fputs(tail, out);
    return ferror(out) ? -1 : 0;
}
