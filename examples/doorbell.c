/* doorbell: what a camera's firmware does with vidmotion's push API.
 *
 * Frames come one by one (here from a YUV4MPEG2 stream on stdin or in a file, as
 * `ffmpeg -i clip.mp4 -f yuv4mpegpipe -pix_fmt yuv420p -` prints it; on a camera, from the
 * sensor pipeline). Each frame's luma plane goes to vmo_analyzer_push_frame(); events start
 * and stop through the event callback as soon as they are known. The last N seconds of
 * frames stay in a ring buffer, so that a recording can begin *before* the motion that
 * triggered it: the event is known a little after its first frame (the analysis compares a
 * frame with the ones about a second later), and the moment before is what people want to
 * see. Each event is written as event-NNN.y4m (pre-roll + event + post-roll).
 *
 *   usage: doorbell [-p PREROLL_S] [-P POSTROLL_S] [-z NAME=SPEC]... [-o DIR] [FILE.y4m|-]
 *
 * Build: cc doorbell.c $(pkg-config --cflags --libs vidmotion)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vidmotion/vidmotion.h>

/* One YUV 4:2:0 frame as read, with its presentation time. */
typedef struct frame_slot {
    uint8_t *data;
    double t;
} frame_slot;

typedef struct doorbell {
    /* the stream */
    FILE *in;
    int width, height, fps_num, fps_den;
    size_t frame_bytes;
    char header[256]; /* the Y4M stream header, reused for the recordings */
    /* the ring buffer: the last `cap` frames */
    frame_slot *ring;
    int cap, count, head; /* head: next slot to write */
    /* recording */
    const char *outdir;
    double preroll, postroll;
    FILE *rec;
    int nrec, active; /* recordings made; events in progress */
    double stop_at;   /* when the post-roll of the last event ends */
    const char **zone_names;
} doorbell;

/* ---- YUV4MPEG2 input ---- */

static int read_header(doorbell *d)
{
    if (!fgets(d->header, sizeof(d->header), d->in) || strncmp(d->header, "YUV4MPEG2 ", 10))
        return -1;
    d->fps_num = 25;
    d->fps_den = 1;
    for (char *p = strchr(d->header, ' '); p; p = strchr(p + 1, ' ')) {
        if (p[1] == 'W')
            d->width = atoi(p + 2);
        else if (p[1] == 'H')
            d->height = atoi(p + 2);
        else if (p[1] == 'F')
            sscanf(p + 2, "%d:%d", &d->fps_num, &d->fps_den);
        else if (p[1] == 'C' && strncmp(p + 2, "420", 3) != 0)
            return -1; /* this example keeps it simple: 4:2:0 only */
    }
    if (d->width <= 0 || d->height <= 0 || d->fps_num <= 0 || d->fps_den <= 0)
        return -1;
    d->frame_bytes = (size_t)d->width * d->height +
                     2 * (size_t)((d->width + 1) / 2) * (size_t)((d->height + 1) / 2);
    return 0;
}

/* Reads the next frame into `buf`; returns 1, 0 at the end, -1 on a broken stream. */
static int read_frame(doorbell *d, uint8_t *buf)
{
    char line[128];
    if (!fgets(line, sizeof(line), d->in))
        return 0;
    if (strncmp(line, "FRAME", 5) != 0)
        return -1;
    return fread(buf, 1, d->frame_bytes, d->in) == d->frame_bytes ? 1 : -1;
}

/* ---- the ring buffer and the recordings ---- */

static frame_slot *ring_at(doorbell *d, int age) /* age 0 = the newest */
{
    return &d->ring[(d->head - 1 - age + 2 * d->cap) % d->cap];
}

static void record(doorbell *d, const frame_slot *f)
{
    fputs("FRAME\n", d->rec);
    fwrite(f->data, 1, d->frame_bytes, d->rec);
}

static void start_recording(doorbell *d, double from)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/event-%03d.y4m", d->outdir, ++d->nrec);
    d->rec = fopen(path, "wb");
    if (!d->rec) {
        perror(path);
        return;
    }
    fputs(d->header, d->rec);
    int written = 0;
    /* Oldest first; the newest frame is written by after_push() like every later one. */
    for (int age = d->count - 1; age >= 1; age--) {
        const frame_slot *f = ring_at(d, age);
        if (f->t >= from - 1e-6) {
            record(d, f);
            written++;
        }
    }
    printf("           recording %s from %.2f s (%d frames of pre-roll from the ring)\n", path,
           from > 0 ? from : 0, written);
}

static void stop_recording(doorbell *d)
{
    if (d->rec)
        fclose(d->rec);
    d->rec = NULL;
    printf("           recording %d closed\n", d->nrec);
}

/* ---- vidmotion's live events ---- */

static int on_event(void *user, int what, const vmo_event *ev)
{
    doorbell *d = user;
    const char *zone = ev->kind == VMO_EVENT_LIGHTING ? "(lighting)" : d->zone_names[ev->zone];
    if (ev->kind == VMO_EVENT_LIGHTING)
        return 0; /* a lamp is not a visitor */
    if (what == VMO_EVENT_STARTED) {
        printf("%8.2f s  START %-10s (known at %.2f s)\n", ev->start, zone, ring_at(d, 0)->t);
        if (d->active++ == 0 && !d->rec)
            start_recording(d, ev->start - d->preroll);
    } else {
        printf("%8.2f s  END   %-10s %.2f .. %.2f s, peak %.1f%% (known at %.2f s)\n", ev->end,
               zone, ev->start, ev->end, ev->peak * 100, ring_at(d, 0)->t);
        if (--d->active == 0)
            d->stop_at = ev->end + d->postroll;
    }
    fflush(stdout);
    return 0;
}

/* The newest frame joins the recording once events have caught up with it. */
static void after_push(doorbell *d)
{
    const frame_slot *f = ring_at(d, 0);
    if (!d->rec)
        return;
    if (d->active == 0 && f->t > d->stop_at) {
        stop_recording(d);
        return;
    }
    record(d, f);
}

static int push(doorbell *d, vmo_analyzer *an, int64_t index)
{
    frame_slot *f = &d->ring[d->head];
    vmo_frame fr = { .struct_size = sizeof(fr) };
    fr.width = d->width;
    fr.height = d->height;
    fr.stride = d->width;
    fr.luma = f->data; /* Y comes first in a 4:2:0 frame */
    fr.pts = index * d->fps_den;
    fr.time_base_num = 1;
    fr.time_base_den = d->fps_num;
    f->t = (double)index * d->fps_den / d->fps_num;
    d->head = (d->head + 1) % d->cap;
    d->count = d->count < d->cap ? d->count + 1 : d->cap;
    int rc = vmo_analyzer_push_frame(an, &fr);
    after_push(d);
    return rc;
}

/* ---- setup ---- */

static int parse_args(int argc, char **argv, doorbell *d, vmo_config *cfg, const char **input)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 < argc && !strcmp(a, "-p"))
            d->preroll = atof(argv[++i]);
        else if (i + 1 < argc && !strcmp(a, "-P"))
            d->postroll = atof(argv[++i]);
        else if (i + 1 < argc && !strcmp(a, "-o"))
            d->outdir = argv[++i];
        else if (i + 1 < argc && !strcmp(a, "-z")) {
            char name[64];
            const char *spec = strchr(argv[++i], '=');
            if (!spec || spec - argv[i] >= (long)sizeof(name))
                return -1;
            snprintf(name, sizeof(name), "%.*s", (int)(spec - argv[i]), argv[i]);
            if (vmo_config_add_zone(cfg, name, VMO_ZONE_INCLUDE, spec + 1) != VMO_OK) {
                fprintf(stderr, "doorbell: %s\n", vmo_config_last_error(cfg));
                return -1;
            }
        } else if (a[0] != '-' || !strcmp(a, "-"))
            *input = a;
        else
            return -1;
    }
    return 0;
}

static int setup_ring(doorbell *d)
{
    /* The pre-roll, plus the time the analysis needs before it can say an event started
     * (about "long_baseline", 1 s by default), plus a margin. */
    double seconds = d->preroll + 1.5;
    d->cap = (int)(seconds * d->fps_num / d->fps_den) + 2; /* rounded up, no libm */
    d->ring = calloc((size_t)d->cap, sizeof(frame_slot));
    for (int i = 0; d->ring && i < d->cap; i++)
        if (!(d->ring[i].data = malloc(d->frame_bytes)))
            return -1;
    return d->ring ? 0 : -1;
}

static int run(doorbell *d, vmo_analyzer *an)
{
    int rc = 0;
    for (int64_t i = 0;; i++) {
        int got = read_frame(d, d->ring[d->head].data);
        if (got <= 0) {
            rc = got;
            break;
        }
        if (push(d, an, i) != VMO_OK) {
            fprintf(stderr, "doorbell: %s\n", vmo_analyzer_last_error(an));
            return -1;
        }
    }
    vmo_result *res = NULL; /* the end of the stream flushes the pending events */
    if (vmo_analyzer_push_finish(an, "doorbell", NAN, &res) == VMO_OK)
        printf("stream ended: %d event(s), %d recording(s)\n", vmo_result_event_count(res),
               d->nrec);
    vmo_result_destroy(&res);
    if (d->rec)
        stop_recording(d);
    return rc;
}

int main(int argc, char **argv)
{
    doorbell d = { .preroll = 3, .postroll = 2, .outdir = "." };
    const char *input = "-";
    vmo_config *cfg = NULL;
    vmo_analyzer *an = NULL;
    vmo_config_create(&cfg);
    if (parse_args(argc, argv, &d, cfg, &input) != 0) {
        fputs("usage: doorbell [-p PREROLL_S] [-P POSTROLL_S] [-z NAME=SPEC]... [-o DIR] "
              "[FILE.y4m|-]\n",
              stderr);
        return 2;
    }
    d.in = strcmp(input, "-") ? fopen(input, "rb") : stdin;
    if (!d.in || read_header(&d) != 0 || setup_ring(&d) != 0) {
        fprintf(stderr, "doorbell: %s: not a 4:2:0 YUV4MPEG2 stream\n", input);
        return 3;
    }
    int rc = vmo_analyzer_create(cfg, &an);
    if (rc == VMO_OK) {
        d.zone_names = malloc(sizeof(char *) * (size_t)vmo_config_zone_count(cfg));
        for (int z = 0; d.zone_names && z < vmo_config_zone_count(cfg); z++)
            d.zone_names[z] = vmo_config_zone_name(cfg, z);
        vmo_analyzer_set_event_callback(an, on_event, &d);
        printf("doorbell: %dx%d at %d/%d fps, %.1f s pre-roll kept in a ring of %d frames\n",
               d.width, d.height, d.fps_num, d.fps_den, d.preroll, d.cap);
        rc = run(&d, an) == 0 ? VMO_OK : VMO_ERR_DECODE;
    }
    vmo_analyzer_destroy(&an);
    vmo_config_destroy(&cfg); /* the zone names stay valid until here */
    free(d.zone_names);
    for (int i = 0; d.ring && i < d.cap; i++)
        free(d.ring[i].data);
    free(d.ring);
    if (d.in != stdin)
        fclose(d.in);
    return rc == VMO_OK ? 0 : 1;
}
