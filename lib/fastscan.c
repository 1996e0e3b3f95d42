/* Fast scan: survey (packets + keyframes), plan, then one timeline of decoded and estimated
 * frames through the run's detector. See fastscan.h for the outline and docs/fast-scan.md
 * for the measurements behind the constants. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/frame.h>

#include "fastscan.h"
#include "kernels/diff.h"

/* Keyframe pairs: a one-sided difference, so noise passes the threshold with probability p
 * rather than p squared as in the scorer's AND: the noise threshold gets this margin. With
 * it, idle pairs of the test clips count 0-7 changed pixels, a 4x8-pixel walker 68+. */
#define KEY_MARGIN   2
#define NOISE_TRIM   12 /* as the scorer: larger differences are motion, not noise */
#define NOISE_SIGMAS 3.5

/* Packets: a frame is active when its packet exceeds ACT_RATIO x the idle median of its kind
 * and that median by ACT_MIN_BYTES. Two kinds carry the signal: B-frames (idle x264 B-frames
 * are 18-22 bytes, moving ones 50-5000), and P-frames in runs without B-frames between them
 * (streams without B-frames; encoders also drop them where they do not pay, e.g. in noisy
 * motion), next to another large one or to a moving B-frame. A lone large P-frame between
 * idle B-frames is the codec refining a still picture after motion, or a keyframe's noise
 * being refreshed: not motion. */
#define ACT_RATIO       3.0
#define ACT_MIN_BYTES   16
#define MIN_IDLE_SAMPLE 8
/* An active frame alone, with no other within this many frames, is a spike unless it is
 * SPIKE_RATIO times the threshold (a motion of one or two frames stays). */
#define SPIKE_FRAMES 4
#define SPIKE_RATIO  2.0
/* Frames between active frames at most this far apart moved too. */
#define FILL_FRAMES 4
/* Active frames this close (seconds) belong to one span of activity. */
#define SPAN_GAP 0.5

/* Packets inform about a GOP when its active frames carry this share of the bytes its
 * frames have over what idle frames reach: when motion makes packets only a little larger,
 * most moving frames stay under the threshold and the few over it do not say where it is. */
#define CAPTURE_SHARE 0.75

/* A GOP whose keyframes agree (or the last one) is decoded when its frames carry bytes over
 * the noise that no active frame accounts for, OUTLIER_K times the quiet GOPs' rate plus
 * OUTLIER_FLOOR of a keyframe's size: a motion there too weak for the per-frame threshold
 * (the last GOP has no keyframe difference to say so). */
#define OUTLIER_K     4.0
#define OUTLIER_FLOOR 0.05

/* A zone owns the packet activity of a GOP when it holds this share of the picture's
 * keyframe change (several moving places make the packet timing ambiguous). */
#define ZONE_SHARE 0.6
/* A frame's score is estimated as this fraction of its GOP's keyframe change: on the test
 * clips the full scan's mean event score is 0.45-0.55 of it (the keyframe pair sees the
 * mover at both ends of two seconds, a frame's AND difference once). */
#define EST_FACTOR 0.5

/* Give up and scan in full: */
#define MIN_GOP_FRAMES    4         /* shorter GOPs on average: (nearly) all-intra */
#define MAX_NONKEY_FRAMES 16        /* non-key frames decoded: the decoder ignores skip_frame */
#define MAX_DECODE_SHARE  0.6       /* planned to decode more than this: not worth it */
#define MAX_FRAMES        (1 << 23) /* frames listed (32 bytes each): 3.9 days at 25 fps */

enum { FT_KEY = 0, FT_ANCHOR = 1, FT_BIDIR = 2, FT_RUN = 3 /* an anchor next to no B-frame */ };

typedef struct fs_frame {
    double t;
    int32_t size;
    int32_t order;  /* decode order */
    uint8_t key;    /* the packet's key flag */
    uint8_t type;   /* FT_*: an anchor's pts is past every earlier packet's (I/P frames) */
    uint8_t active; /* its packet says the picture changed */
    uint8_t pad;
    int32_t gop;  /* GOP it belongs to */
    int32_t span; /* span of activity (active frames), -1 if none */
} fs_frame;

typedef struct fs_gop {
    double t0;                     /* keyframe time */
    int f0, f1;                    /* timeline frames [f0, f1) */
    int closed;                    /* the next keyframe was decoded: the pair below is measured */
    int lit;                       /* the pair differs by a lighting change */
    int all_on;                    /* something changed in the picture (masks and all) */
    int active;                    /* active frames */
    int informative;               /* they hold most of the bytes over the noise */
    double excess, captured;       /* bytes over the noise ceilings: all frames, active ones */
    int decode;                    /* decode this GOP */
    uint32_t all;                  /* changed pixels in the whole picture */
    uint32_t count[VMO_MAX_ZONES]; /* ... in each zone */
    uint64_t on;                   /* zones whose keyframes differ */
    uint64_t trusted;              /* ... and whose frames the packets give */
} fs_gop;

typedef struct fastscan {
    vmo_run *run;
    vmo_analyzer *an;
    vmo_decoder *dec;
    vmo_preparer *prep;
    const vmo_settings *s;
    double lo, hi;   /* the part of the clip scanned (a request's range), clip seconds */
    int partial_end; /* stopped before the end of the clip (range) */
    int surveyed;    /* the decoder was used: a fallback rewinds it */
    /* packets (decode order while surveying, then the timeline in presentation order) */
    fs_frame *fr;
    int nfr, capfr;
    int nemit; /* frames of the timeline up to the range's end (the others only
                  complete their GOP's packet statistics) */
    int untimed;
    /* keyframes */
    fs_gop *gop;
    int ngop, capgop;
    vmo_plane kp[2]; /* previous and current keyframe, blurred */
    float means[2][VMO_LIGHT_MAX_BLOCKS];
    int kcur, kw, kh, bs, blocks;
    vmo_plane comp;
    uint8_t *tmp;
    vmo_zone_map map;
    VmoDiffDSP dsp;
    vmo_light_work light;
    uint64_t cnt[256], sum[256];
    int64_t nonkey;
    /* plan */
    int zones; /* reported zones */
    int has_b, trivial;
    int blind;               /* a GOP changed between its keyframes without any packet activity */
    int reliable;            /* every GOP that changed has informative packets */
    double thr, thr_run;     /* packet size thresholds: B-frames, P-runs */
    double ceil_b, ceil_run; /* noise ceilings: idle sizes' 90th percentile */
    uint64_t *span_zones;
    int nspan;
    float typical[VMO_MAX_ZONES]; /* median estimate of the GOPs where the zone moves */
    const char *why;              /* reason to fall back, NULL while usable */
} fastscan;

static const char survey_cancelled[] = "cancelled";

static int cancelled(const fastscan *fs)
{
    return atomic_load_explicit(fs->an->cancel_src, memory_order_relaxed);
}

/* ------------------------------------------------------------------------------------------
 * Survey: packets and keyframes
 * ---------------------------------------------------------------------------------------- */

static void on_packet(void *user, const vmo_packet_info *p)
{
    fastscan *fs = user;
    if (fs->nfr == MAX_FRAMES) {
        fs->why = "too many frames to list (a full scan streams them)";
        return;
    }
    if (fs->nfr == fs->capfr) {
        const int cap = fs->capfr ? VMO_MIN(2 * fs->capfr, MAX_FRAMES) : 1024;
        fs_frame *grown = realloc(fs->fr, sizeof(*grown) * (size_t)cap);
        if (!grown) {
            fs->why = "out of memory for the packet list";
            return;
        }
        fs->fr = grown;
        fs->capfr = cap;
    }
    if (p->flags & VMO_PACKET_CORRUPT)
        return; /* cut short (a truncated file): it does not decode */
    if (isnan(p->t))
        fs->untimed++;
    fs_frame *f = &fs->fr[fs->nfr];
    memset(f, 0, sizeof(*f));
    f->t = p->t;
    f->size = p->size;
    f->order = fs->nfr++;
    f->key = !!(p->flags & VMO_PACKET_KEY);
    f->span = -1;
}

static fs_gop *add_gop(fastscan *fs, double t)
{
    if (fs->ngop == fs->capgop) {
        const int cap = fs->capgop ? 2 * fs->capgop : 64;
        fs_gop *grown = realloc(fs->gop, sizeof(*grown) * (size_t)cap);
        if (!grown)
            return NULL;
        fs->gop = grown;
        fs->capgop = cap;
    }
    fs_gop *g = &fs->gop[fs->ngop++];
    memset(g, 0, sizeof(*g));
    g->t0 = t;
    return g;
}

/* Planes and the zone map, at the first keyframe's analysis size. */
static int setup_planes(fastscan *fs, int w, int h)
{
    vmo_errbuf *err = &fs->an->err;
    int rc = vmo_zone_map_build(&fs->map, &fs->an->cfg.zones, w, h, err);
    if (rc != VMO_OK)
        return rc;
    if (vmo_plane_alloc(&fs->kp[0], w, h) || vmo_plane_alloc(&fs->kp[1], w, h) ||
        vmo_plane_alloc(&fs->comp, w, h) || !(fs->tmp = malloc(2 * (size_t)w + 64)))
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    fs->zones = fs->map.zone_count;
    fs->kw = w;
    fs->kh = h;
    fs->bs = vmo_light_block_size(w, h);
    fs->blocks = (w / fs->bs) * (h / fs->bs);
    return VMO_OK;
}

/* RMS of small differences of a pair, as the scorer's pair_noise(). */
static double pair_noise(const vmo_plane *a, const vmo_plane *b)
{
    uint64_t sq = 0, n = 0;
    for (int y = 0; y < a->height; y += 2) {
        const uint8_t *ra = a->data + (ptrdiff_t)y * a->stride;
        const uint8_t *rb = b->data + (ptrdiff_t)y * b->stride;
        for (int x = 0; x < a->width; x += 2) {
            const int d = ra[x] > rb[x] ? ra[x] - rb[x] : rb[x] - ra[x];
            if (d <= NOISE_TRIM) {
                sq += (uint64_t)(d * d);
                n++;
            }
        }
    }
    return n ? sqrt((double)sq / (double)n) : 0.0;
}

/* dst = src through v -> gain * v + offset (lighting compensation, as the scorer). */
static void compensate(const vmo_plane *src, vmo_plane *dst, double gain, double offset)
{
    uint8_t lut[256];
    for (int v = 0; v < 256; v++)
        lut[v] = (uint8_t)VMO_CLAMP(lround(gain * v + offset), 0, 255);
    for (int y = 0; y < src->height; y++) {
        const uint8_t *s = src->data + (ptrdiff_t)y * src->stride;
        uint8_t *d = dst->data + (ptrdiff_t)y * dst->stride;
        for (int x = 0; x < src->width; x++)
            d[x] = lut[s[x]];
    }
}

/* Pixels that differ between the previous and the current keyframe, per zone and over the
 * whole picture, with the scorer's threshold rules (lighting, noise) plus KEY_MARGIN. */
static void measure_pair(fastscan *fs, fs_gop *g)
{
    const vmo_plane *a = &fs->kp[!fs->kcur], *b = &fs->kp[fs->kcur];
    int thr = (int)fs->s->threshold;
    if (fs->s->lighting) {
        vmo_light_fit fit;
        vmo_light_fit_means(fs->means[!fs->kcur], fs->means[fs->kcur], fs->blocks, thr, &fs->light,
                            &fit);
        g->lit = fit.lit;
        if (fit.lit) {
            compensate(a, &fs->comp, fit.gain, fit.offset);
            a = &fs->comp;
            thr += 2;
        }
    }
    if (!g->lit && fs->s->adaptive_threshold)
        thr = VMO_MAX(thr, (int)ceil(NOISE_SIGMAS * pair_noise(a, b)));
    thr = VMO_MIN(thr + KEY_MARGIN, 255);
    memset(fs->cnt, 0, sizeof(uint64_t) * (size_t)fs->map.class_count);
    memset(fs->sum, 0, sizeof(uint64_t) * (size_t)fs->map.class_count);
    for (int y = 0; y < fs->kh; y++)
        fs->dsp.diff_row(b->data + (ptrdiff_t)y * b->stride, a->data + (ptrdiff_t)y * a->stride,
                         fs->map.labels + (ptrdiff_t)y * fs->map.width, fs->kw, thr, fs->cnt,
                         fs->sum);
    for (int c = 0; c < fs->map.class_count; c++) {
        g->all += (uint32_t)fs->cnt[c];
        for (uint64_t bits = c ? fs->map.class_zones[c] : 0; bits; bits &= bits - 1)
            g->count[__builtin_ctzll(bits)] += (uint32_t)fs->cnt[c];
    }
    const uint64_t total = (uint64_t)fs->kw * (uint64_t)fs->kh;
    g->all_on = g->all >= VMO_MAX((double)fs->s->min_pixels, fs->s->start_level * (double)total);
    for (int z = 0; z < fs->zones; z++) {
        const double area = (double)fs->map.zone_area[z];
        const double level = VMO_MAX((double)fs->s->min_pixels, fs->s->start_level * area);
        if (area > 0 && g->count[z] >= level)
            g->on |= 1ull << z;
    }
    g->closed = 1;
}

/* One decoded keyframe: its analysis plane, and the pair it closes. */
static int survey_keyframe(fastscan *fs, const vmo_decoded_frame *df)
{
    int w, h;
    vmo_analysis_size(df->frame->width, df->frame->height, (int)fs->s->width, &w, &h);
    if (!fs->kw) {
        const int rc = setup_planes(fs, w, h);
        if (rc != VMO_OK)
            return rc;
    } else if (w != fs->kw || h != fs->kh) {
        fs->why = "the resolution changes";
        return VMO_OK;
    }
    fs->kcur = !fs->kcur;
    vmo_plane *p = &fs->kp[fs->kcur];
    int rc = vmo_preparer_run(fs->prep, df->frame, p, &fs->an->err);
    if (rc != VMO_OK)
        return rc;
    for (int i = 0; i < fs->s->blur; i++)
        vmo_blur121(p, fs->tmp);
    vmo_light_block_means(p, fs->bs, fs->means[fs->kcur]);
    if (fs->ngop > 0)
        measure_pair(fs, &fs->gop[fs->ngop - 1]);
    if (!add_gop(fs, df->t))
        return vmo_err_set(&fs->an->err, VMO_ERR_NO_MEMORY, "out of memory");
    return VMO_OK;
}

/* A request's range: start at the keyframe before it (the long baseline needs frames before
 * it too), as the full loop does. */
static int survey_seek(fastscan *fs)
{
    if (isnan(fs->an->range_from) || fs->lo <= 0) {
        fs->lo = 0;
        return VMO_OK;
    }
    return vmo_decoder_seek(fs->dec, fs->lo, &fs->an->err);
}

/* Decodes the keyframes while the packet observer lists every packet. Stops at the end, at
 * the first keyframe past the range, or as soon as the stream proves unusable. */
static int survey(fastscan *fs)
{
    fs->surveyed = 1;
    int rc = survey_seek(fs);
    if (rc == VMO_OK)
        rc = vmo_decoder_set_skip(fs->dec, VMO_SKIP_NONKEY_ROUGH);
    if (rc != VMO_OK)
        return rc;
    vmo_decoder_set_packet_fn(fs->dec, on_packet, fs);
    while (!fs->why) {
        if (cancelled(fs)) {
            fs->why = survey_cancelled;
            break;
        }
        vmo_decoded_frame df;
        rc = vmo_decoder_next(fs->dec, &df, &fs->an->err);
        if (rc == 0)
            break;
        if (rc < 0) {
            /* Skipping frames can fail where decoding them all does not (a stream whose
             * packets carry no key flag): the full loop decides what the error is. */
            if (rc == VMO_ERR_NO_MEMORY)
                return rc;
            fs->why = "decoding failed during the survey";
            break;
        }
        if (!df.key) {
            if (++fs->nonkey > MAX_NONKEY_FRAMES)
                fs->why = "the decoder does not skip non-key frames";
            continue;
        }
        if ((rc = survey_keyframe(fs, &df)) != VMO_OK)
            return rc;
        vmo_run_progress(fs->run, fs->nfr / 2, 0);
        if (df.t > fs->hi) {
            fs->partial_end = 1;
            break;
        }
    }
    vmo_decoder_set_packet_fn(fs->dec, NULL, NULL);
    return VMO_OK;
}

/* ------------------------------------------------------------------------------------------
 * Timeline: frames in presentation order, in GOPs
 * ---------------------------------------------------------------------------------------- */

static int cmp_frame(const void *pa, const void *pb)
{
    const fs_frame *a = pa, *b = pb;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return a->order - b->order;
}

/* Frame types from decode order: an anchor (I/P) is presented after every earlier packet;
 * a packet presented before one already read is a B-frame. */
static void classify(fastscan *fs)
{
    double latest = -INFINITY;
    int bidir = 0;
    for (int i = 0; i < fs->nfr; i++) {
        fs_frame *f = &fs->fr[i];
        f->type = f->key ? FT_KEY : f->t > latest ? FT_ANCHOR : FT_BIDIR;
        bidir += f->type == FT_BIDIR;
        latest = VMO_MAX(latest, f->t);
    }
    /* A few out-of-order packets are not a B-frame structure. */
    fs->has_b = bidir * 10 >= fs->nfr;
}

/* Sorts the frames and keeps those from the first keyframe; the timeline ends with the
 * range (the frames after it still count in their GOP's packet statistics). */
static void trim_timeline(fastscan *fs)
{
    qsort(fs->fr, (size_t)fs->nfr, sizeof(fs_frame), cmp_frame);
    const double first = fs->gop[0].t0;
    int n = 0;
    for (int i = 0; i < fs->nfr; i++)
        if (fs->fr[i].t >= first - 1e-6)
            fs->fr[n++] = fs->fr[i];
    fs->nfr = n;
    fs->nemit = 0;
    while (fs->nemit < n && fs->fr[fs->nemit].t <= fs->hi)
        fs->nemit++;
    fs->partial_end |= fs->nemit < n;
}

/* Index of the timeline frame presented at t (within half a frame), or -1. */
static int frame_at(const fastscan *fs, double t)
{
    int lo = 0, hi = fs->nfr - 1;
    while (lo < hi) {
        const int mid = (lo + hi) / 2;
        if (fs->fr[mid].t < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0 && fabs(fs->fr[lo - 1].t - t) < fabs(fs->fr[lo].t - t))
        lo--;
    /* within half the interval to the nearer neighbour, or a millisecond */
    double gap = INFINITY;
    if (lo > 0)
        gap = fs->fr[lo].t - fs->fr[lo - 1].t;
    if (lo + 1 < fs->nfr)
        gap = VMO_MIN(gap, fs->fr[lo + 1].t - fs->fr[lo].t);
    const double tol = isfinite(gap) ? VMO_MAX(1e-3, 0.5 * gap) : 1e-3;
    return fs->nfr > 0 && fabs(fs->fr[lo].t - t) <= tol ? lo : -1;
}

/* Assigns frames to GOPs; the packets' clock must agree with the decoded keyframes'. */
static void assign_gops(fastscan *fs)
{
    for (int g = 0; g < fs->ngop && !fs->why; g++) {
        const int f = frame_at(fs, fs->gop[g].t0);
        if (f < 0 || !fs->fr[f].key)
            fs->why = "packet times disagree with frame times";
        else
            fs->gop[g].f0 = f;
    }
    for (int g = 0; g < fs->ngop && !fs->why; g++) {
        fs_gop *gp = &fs->gop[g];
        gp->f1 = g + 1 < fs->ngop ? fs->gop[g + 1].f0 : fs->nfr;
        if (gp->f1 <= gp->f0)
            fs->why = "keyframes out of order";
        for (int i = gp->f0; i < gp->f1; i++)
            fs->fr[i].gop = g;
    }
}

/* Whether the survey gave what the plan needs; sets fs->why if not. */
static void check_survey(fastscan *fs)
{
    if (fs->why)
        return;
    if (fs->untimed > 0)
        fs->why = "packets without usable timestamps";
    else if (fs->ngop < 2)
        fs->why = "fewer than two keyframes";
    if (fs->why)
        return;
    classify(fs);
    trim_timeline(fs);
    if (fs->nfr < MIN_GOP_FRAMES * fs->ngop)
        fs->why = "keyframes too frequent (all-intra or nearly)";
    else if (fs->nemit == 0)
        fs->why = "no frame in the range";
    else
        assign_gops(fs);
}

/* ------------------------------------------------------------------------------------------
 * Packets: which frames changed
 * ---------------------------------------------------------------------------------------- */

static int cmp_double(const void *pa, const void *pb)
{
    const double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

static int cmp_int(const void *pa, const void *pb)
{
    const int a = *(const int *)pa, b = *(const int *)pb;
    return (a > b) - (a < b);
}

/* Idle packet sizes of a frame type: the median and the 90th percentile over GOPs whose
 * keyframes do not differ, else (motion everywhere) the lower quartile and the median of
 * all. */
static int idle_size(const fastscan *fs, int type, double *median, double *q90)
{
    int *v = malloc(sizeof(int) * (size_t)VMO_MAX(fs->nfr, 1));
    if (!v)
        return VMO_ERR_NO_MEMORY;
    int n = 0, all = 0;
    for (int pass = 0; pass < 2 && n < MIN_IDLE_SAMPLE; pass++) {
        n = 0;
        for (int i = 0; i < fs->nfr; i++) {
            const fs_gop *g = &fs->gop[fs->fr[i].gop];
            const int quiet = g->closed && !g->all_on && !g->lit;
            if (fs->fr[i].type == type && (pass == 1 || quiet))
                v[n++] = fs->fr[i].size;
        }
        all = pass;
    }
    qsort(v, (size_t)n, sizeof(int), cmp_int);
    *median = n ? v[all ? n / 4 : n / 2] : 0;
    *q90 = n ? v[all ? n / 2 : n * 9 / 10] : 0;
    free(v);
    return VMO_OK;
}

/* A lone active frame is noise unless it is large. */
static void drop_spikes(fastscan *fs)
{
    for (int i = 0; i < fs->nfr; i++) {
        const double thr = fs->fr[i].type == FT_BIDIR ? fs->thr : fs->thr_run;
        if (!fs->fr[i].active || fs->fr[i].size >= SPIKE_RATIO * thr)
            continue;
        int company = 0;
        for (int j = VMO_MAX(0, i - SPIKE_FRAMES); j <= VMO_MIN(fs->nfr - 1, i + SPIKE_FRAMES); j++)
            company += j != i && fs->fr[j].active;
        if (!company)
            fs->fr[i].active = 2; /* marked, cleared below (neighbours still see it now) */
    }
    for (int i = 0; i < fs->nfr; i++)
        if (fs->fr[i].active == 2)
            fs->fr[i].active = 0;
}

/* Frames between active frames at most FILL_FRAMES apart moved too: the P-frames among
 * moving B-frames, a keyframe inside motion, a dip of the packet sizes. */
static void fill_gaps(fastscan *fs)
{
    int last = -1;
    for (int i = 0; i < fs->nfr; i++) {
        if (!fs->fr[i].active)
            continue;
        if (last >= 0 && i - last <= FILL_FRAMES)
            for (int j = last + 1; j < i; j++)
                fs->fr[j].active = 1;
        last = i;
    }
}

/* Spans: active frames less than SPAN_GAP apart. */
static int find_spans(fastscan *fs)
{
    int n = 0;
    double last = -INFINITY;
    for (int i = 0; i < fs->nfr; i++) {
        if (!fs->fr[i].active)
            continue;
        if (fs->fr[i].t - last > SPAN_GAP)
            n++;
        fs->fr[i].span = n - 1;
        last = fs->fr[i].t;
    }
    fs->nspan = n;
    fs->span_zones = calloc((size_t)VMO_MAX(n, 1), sizeof(uint64_t));
    return fs->span_zones ? VMO_OK : VMO_ERR_NO_MEMORY;
}

/* Anchors with no B-frame beside them (in presentation order) form P-runs. */
static void mark_runs(fastscan *fs)
{
    for (int i = 0; i < fs->nfr; i++) {
        fs_frame *f = &fs->fr[i];
        const int left = i > 0 && fs->fr[i - 1].type != FT_BIDIR;
        const int right = i + 1 < fs->nfr && fs->fr[i + 1].type != FT_BIDIR;
        if (f->type == FT_ANCHOR && (left || right))
            f->type = FT_RUN;
    }
}

/* Activity threshold and noise ceiling (what idle frames of the type may reach). */
static int threshold(const fastscan *fs, int type, double *thr, double *ceiling)
{
    double idle;
    if (idle_size(fs, type, &idle, ceiling) != VMO_OK)
        return VMO_ERR_NO_MEMORY;
    *thr = VMO_MAX(ACT_RATIO * idle, idle + ACT_MIN_BYTES);
    return VMO_OK;
}

static int over(const fs_frame *f, int type, double thr)
{
    return f->type == type && f->size > thr;
}

/* A frame's bytes over the noise ceiling of its kind, into its GOP's totals. */
static void count_excess(fastscan *fs, const fs_frame *f)
{
    fs_gop *g = &fs->gop[f->gop];
    g->active += f->active;
    const double idle = f->type == FT_BIDIR ? fs->ceil_b : f->type == FT_RUN ? fs->ceil_run : -1;
    if (idle < 0)
        return; /* keyframes, and P-frames among B-frames, carry refinement and noise */
    const double excess = VMO_MAX(0.0, f->size - idle);
    g->excess += excess;
    g->captured += f->active ? excess : 0;
}

static int packet_activity(fastscan *fs)
{
    mark_runs(fs);
    double thr_b, thr_r;
    if (threshold(fs, FT_BIDIR, &thr_b, &fs->ceil_b) != VMO_OK ||
        threshold(fs, FT_RUN, &thr_r, &fs->ceil_run) != VMO_OK)
        return VMO_ERR_NO_MEMORY;
    fs->thr = thr_b;
    fs->thr_run = thr_r;
    for (int i = 0; i < fs->nfr; i++)
        fs->fr[i].active = (uint8_t)over(&fs->fr[i], FT_BIDIR, thr_b);
    /* A large P-frame of a run counts next to another one, or next to a moving B-frame (the
     * P-frame that closes a motion among B-frames). */
    for (int i = 0; i < fs->nfr; i++) {
        const fs_frame *prev = i > 0 ? &fs->fr[i - 1] : NULL;
        const fs_frame *next = i + 1 < fs->nfr ? &fs->fr[i + 1] : NULL;
        const int company = (prev && (over(prev, FT_RUN, thr_r) || prev->active)) ||
                            (next && (over(next, FT_RUN, thr_r) || next->active));
        if (over(&fs->fr[i], FT_RUN, thr_r) && company)
            fs->fr[i].active = 1;
    }
    drop_spikes(fs);
    fill_gaps(fs);
    for (int i = 0; i < fs->nfr; i++)
        count_excess(fs, &fs->fr[i]);
    return find_spans(fs);
}

/* ------------------------------------------------------------------------------------------
 * Plan: what the packets settle, what is decoded
 * ---------------------------------------------------------------------------------------- */

/* One reported zone covering every pixel: all packet activity is that zone's. */
static int zones_trivial(const fastscan *fs)
{
    return fs->zones == 1 && fs->map.zone_area[0] == (uint64_t)fs->kw * (uint64_t)fs->kh;
}

/* How far the packets can be believed. A GOP is informative when its active frames hold
 * most of its bytes over the noise. A clip is blind when some GOP's keyframes differ with no
 * packet activity at all (a small or slow mover): there, quiet packets prove nothing and
 * none is trusted. It is reliable when every GOP whose keyframes differ is informative:
 * only then do quiet packets after the last keyframe mean that nothing moved. */
static void judge_packets(fastscan *fs)
{
    fs->reliable = 1;
    for (int g = 0; g < fs->ngop; g++) {
        fs_gop *gp = &fs->gop[g];
        gp->informative = gp->active > 0 && gp->captured >= CAPTURE_SHARE * gp->excess;
        if (gp->closed && gp->all_on && !gp->lit) {
            fs->blind |= !gp->active;
            fs->reliable &= gp->informative;
        }
    }
}

/* Zones that changed in GOP g and in both GOPs around it (g is inside their run). */
static uint64_t interior(const fastscan *fs, int g)
{
    const uint64_t prev = g > 0 ? fs->gop[g - 1].on : 0;
    const uint64_t next = g + 1 < fs->ngop && fs->gop[g + 1].closed ? fs->gop[g + 1].on : 0;
    return fs->gop[g].on & prev & next;
}

/* Zones whose frames in GOP g are its active frames: the packets are informative, and the
 * zone holds most of the change, or the GOP is inside the zone's run of changed GOPs (a gap
 * in all activity is a gap for every zone). */
static void trust_zones(fastscan *fs)
{
    for (int g = 0; g < fs->ngop; g++) {
        fs_gop *gp = &fs->gop[g];
        if (fs->blind || !gp->closed || !gp->informative)
            continue;
        for (int z = 0; z < fs->zones; z++) {
            const double share = gp->all ? (double)gp->count[z] / gp->all : 0;
            if (fs->trivial || share >= ZONE_SHARE)
                gp->trusted |= gp->on & (1ull << z);
        }
        gp->trusted |= interior(fs, g);
    }
}

/* The other changed GOPs: inside a zone's run and without any packet activity, the zone
 * moves throughout (the packets see nothing of it); a zone's first or last changed GOP, or
 * activity the packets cannot place, is decoded; so is a lighting change. */
static void mark_edges(fastscan *fs)
{
    for (int g = 0; g < fs->ngop; g++) {
        fs_gop *gp = &fs->gop[g];
        if (!gp->closed)
            continue;
        const uint64_t untrusted = gp->on & ~gp->trusted;
        const uint64_t bridged = gp->active ? 0 : interior(fs, g);
        if (gp->lit || (untrusted & ~bridged))
            gp->decode = 1;
    }
}

/* Spans of activity: the zones they continue (across a keyframe into a GOP where the zone's
 * keyframes agree), and the decoding of the GOPs of spans that no keyframe change explains
 * (a motion out and back inside one GOP, in a mask, a flicker). */
enum { SPAN_EXPLAINED = 1, SPAN_KEYED = 2 /* touches a GOP with a keyframe pair */ };

static int mark_spans(fastscan *fs)
{
    uint8_t *what = calloc((size_t)VMO_MAX(fs->nspan, 1), 1);
    if (!what)
        return VMO_ERR_NO_MEMORY;
    for (int i = 0; i < fs->nfr; i++) {
        const int s = fs->fr[i].span;
        const fs_gop *gp = &fs->gop[fs->fr[i].gop];
        if (s < 0 || !gp->closed)
            continue;
        what[s] |= SPAN_KEYED | (gp->all_on ? SPAN_EXPLAINED : 0);
        fs->span_zones[s] |= gp->on & gp->trusted;
    }
    for (int s = 0; s < fs->nspan; s++)
        if (!(what[s] & SPAN_KEYED) && fs->trivial && fs->reliable) {
            what[s] |= SPAN_EXPLAINED; /* new motion after the last keyframe: the one zone's */
            fs->span_zones[s] = 1;
        }
    for (int i = 0; i < fs->nfr; i++)
        if (fs->fr[i].span >= 0 && !(what[fs->fr[i].span] & SPAN_EXPLAINED))
            fs->gop[fs->fr[i].gop].decode = 1;
    free(what);
    /* Unreliable packets cannot say that nothing moved after the last keyframe. */
    fs_gop *tail = &fs->gop[fs->ngop - 1];
    if (!tail->closed && !fs->reliable)
        tail->decode = 1;
    return VMO_OK;
}

/* Frames [f0, f1) of GOP g that are on the timeline. */
static int gop_end(const fastscan *fs, int g)
{
    return VMO_MIN(fs->gop[g].f1, fs->nemit);
}

static double gop_rate(const fs_gop *g)
{
    return (g->excess - g->captured) / VMO_MAX(1, g->f1 - g->f0);
}

/* Median of the keyframes' packet sizes, and of the quiet GOPs' unaccounted bytes per frame. */
static int outlier_scale(const fastscan *fs, double *key_size, double *rate)
{
    double *v = malloc(sizeof(double) * (size_t)VMO_MAX(fs->ngop, 1));
    if (!v)
        return VMO_ERR_NO_MEMORY;
    int n = 0;
    for (int g = 0; g < fs->ngop; g++)
        v[n++] = fs->fr[fs->gop[g].f0].size;
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    *key_size = v[n / 2];
    n = 0;
    for (int g = 0; g < fs->ngop; g++)
        if (fs->gop[g].closed && !fs->gop[g].all_on && !fs->gop[g].lit)
            v[n++] = gop_rate(&fs->gop[g]);
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    *rate = n ? v[n / 2] : 0;
    free(v);
    return VMO_OK;
}

/* GOPs with no keyframe change (or no keyframe after them) whose packets stand out. */
static int mark_outliers(fastscan *fs)
{
    double key_size, rate;
    if (outlier_scale(fs, &key_size, &rate) != VMO_OK)
        return VMO_ERR_NO_MEMORY;
    for (int g = 0; g < fs->ngop; g++) {
        fs_gop *gp = &fs->gop[g];
        const int frames = VMO_MAX(1, gp->f1 - gp->f0);
        if ((!gp->closed || !gp->all_on) &&
            gp->excess - gp->captured > OUTLIER_K * rate * frames + OUTLIER_FLOOR * key_size)
            gp->decode = 1;
    }
    return VMO_OK;
}

static int64_t decoded_frames(const fastscan *fs)
{
    int64_t n = 0;
    for (int g = 0; g < fs->ngop; g++)
        n += fs->gop[g].decode ? VMO_MAX(0, gop_end(fs, g) - fs->gop[g].f0) : 0;
    return n;
}

static void log_plan(const fastscan *fs)
{
    for (int g = 0; g < fs->ngop; g++) {
        const fs_gop *gp = &fs->gop[g];
        vmo_log(VMO_LOG_DEBUG,
                "fast scan: GOP %d %.3f s %d frames: %s all %u on %llx trusted %llx lit %d "
                "active %d captured %.0f/%.0f%s",
                g, gp->t0, gp->f1 - gp->f0, gp->closed ? "closed" : "tail", gp->all,
                (unsigned long long)gp->on, (unsigned long long)gp->trusted, gp->lit, gp->active,
                gp->captured, gp->excess, gp->decode ? " DECODE" : "");
    }
}

static int cmp_float(const void *pa, const void *pb)
{
    const float a = *(const float *)pa, b = *(const float *)pb;
    return (a > b) - (a < b);
}

/* A moving frame's score in zone z of GOP g, estimated from the keyframe pair. */
static float gop_estimate(const fastscan *fs, int g, int z)
{
    const double area = (double)fs->map.zone_area[z];
    return area > 0 ? (float)(EST_FACTOR * fs->gop[g].count[z] / area) : 0.0f;
}

/* For frames with no keyframe pair of their own (after the last keyframe). */
static int typical_estimates(fastscan *fs)
{
    float *v = malloc(sizeof(float) * (size_t)fs->ngop);
    if (!v)
        return VMO_ERR_NO_MEMORY;
    for (int z = 0; z < fs->zones; z++) {
        int n = 0;
        for (int g = 0; g < fs->ngop; g++)
            if (fs->gop[g].on >> z & 1)
                v[n++] = gop_estimate(fs, g, z);
        qsort(v, (size_t)n, sizeof(float), cmp_float);
        fs->typical[z] = n ? v[n / 2] : 0;
    }
    free(v);
    return VMO_OK;
}

static int plan(fastscan *fs)
{
    fs->trivial = zones_trivial(fs);
    int rc = packet_activity(fs);
    if (rc == VMO_OK)
        rc = typical_estimates(fs);
    if (rc != VMO_OK)
        return vmo_err_set(&fs->an->err, rc, "out of memory");
    judge_packets(fs);
    trust_zones(fs);
    mark_edges(fs);
    if (mark_spans(fs) != VMO_OK || mark_outliers(fs) != VMO_OK)
        return vmo_err_set(&fs->an->err, VMO_ERR_NO_MEMORY, "out of memory");
    const int64_t decode = decoded_frames(fs);
    vmo_log(VMO_LOG_DEBUG,
            "fast scan: %d frames, %d GOPs, %s, active over %.0f bytes (B), %.0f (P-runs), "
            "packets %s, %lld frames to decode",
            fs->nfr, fs->ngop, fs->has_b ? "B-frames" : "no B-frames", fs->thr, fs->thr_run,
            fs->blind      ? "blind"
            : fs->reliable ? "reliable"
                           : "partly informative",
            (long long)decode);
    log_plan(fs);
    if (decode > MAX_DECODE_SHARE * fs->nemit)
        fs->why = "motion nearly everywhere (a full scan costs about as much)";
    return VMO_OK;
}

/* ------------------------------------------------------------------------------------------
 * Timeline: estimated frames to the detector, decoded windows through the scorer
 * ---------------------------------------------------------------------------------------- */

/* Zones that move in frame i (not decoded), by the plan. */
static uint64_t frame_zones(const fastscan *fs, int i)
{
    const fs_frame *f = &fs->fr[i];
    const fs_gop *gp = &fs->gop[f->gop];
    uint64_t m = gp->closed ? gp->on & ~gp->trusted : 0; /* inside a run: throughout */
    if (f->active) {
        m |= gp->closed ? gp->on & gp->trusted : 0;
        if (f->span >= 0)
            m |= fs->span_zones[f->span];
    }
    return m;
}

/* Estimated score of zone z in GOP g: its own, else a neighbour's (a span continuing across
 * a keyframe), at least what the detector needs to count it. */
static float zone_estimate(const fastscan *fs, int g, int z)
{
    float e = 0;
    for (int k = VMO_MAX(0, g - 1); k <= VMO_MIN(fs->ngop - 1, g + 1); k++)
        if ((fs->gop[k].on >> z & 1) && (k == g || !(fs->gop[g].on >> z & 1)))
            e = VMO_MAX(e, gop_estimate(fs, k, z));
    if (e == 0)
        e = fs->typical[z];
    const double area = (double)VMO_MAX(fs->map.zone_area[z], 1);
    const double floor =
        VMO_MAX(1.5 * fs->s->start_level, ((double)fs->s->min_pixels + 1.0) / area);
    return (float)VMO_MAX(e, floor);
}

typedef struct est_frame {
    vmo_combined c;
    uint32_t near[VMO_MAX_ZONES];
} est_frame;

static int push_estimate(fastscan *fs, int i, est_frame *ef)
{
    vmo_run *run = fs->run;
    const uint64_t m = frame_zones(fs, i);
    for (int z = 0; z < fs->zones; z++) {
        const float v = (m >> z & 1) ? zone_estimate(fs, fs->fr[i].gop, z) : 0.0f;
        ef->c.changed[z] = v;
        ef->c.mad[z] = 0;
        ef->c.pixels[z] = ef->near[z] = (uint32_t)ceil((double)v * (double)fs->map.zone_area[z]);
    }
    vmo_scored_frame sf = { .index = i,
                            .t = fs->fr[i].t,
                            .flags = fs->fr[i].key ? VMO_FRAME_KEY : 0,
                            .zone_count = fs->zones,
                            .changed = ef->c.changed,
                            .mad = ef->c.mad,
                            .pixels = ef->c.pixels,
                            .near = ef->near,
                            .area = fs->map.zone_area };
    if (vmo_detector_push(&run->det, &sf) && !run->cancelled) {
        run->cancelled = 1;
        atomic_store(fs->an->cancel_src, 1); /* the whole request, as for decoded frames */
    }
    return run->det.failed ? VMO_ERR_NO_MEMORY : VMO_OK;
}

/* Frames [a, b) not decoded: keyframes and estimated scores to the detector. */
static int emit_estimates(fastscan *fs, int a, int b, vmo_loop_state *ls)
{
    est_frame ef;
    for (int i = a; i < b && !fs->run->cancelled; i++) {
        if (cancelled(fs)) {
            fs->run->cancelled = 1;
            break;
        }
        const fs_frame *f = &fs->fr[i];
        ls->frames++;
        ls->prev_t = ls->last_t = f->t;
        if (f->key)
            vmo_detector_keyframe(&fs->run->det, f->t);
        if (!vmo_run_frame_due(fs->run, f->t))
            continue;
        const int rc = push_estimate(fs, i, &ef);
        if (rc != VMO_OK)
            return vmo_err_set(&fs->an->err, rc, "out of memory storing results");
        vmo_run_progress(fs->run, (fs->nemit + i) / 2, fs->nemit);
    }
    return VMO_OK;
}

/* A frame the window's decoder could not deliver: the clip is damaged there. */
static void window_failed(fastscan *fs, int rc)
{
    vmo_clip_data *clip = &fs->run->res->clips[fs->run->clip];
    if (clip->info.status == VMO_OK)
        vmo_clip_set_error(clip, rc, fs->an->err.msg);
    clip->info.flags |= VMO_CLIP_DAMAGED;
}

/* Decodes frames [a, b] (a is a keyframe) and scores them like a full scan; the scorer is
 * flushed at the end, so its frames reach the detector before the frames after b. */
static int decode_window(fastscan *fs, int a, int b, vmo_loop_state *ls)
{
    vmo_run *run = fs->run;
    vmo_errbuf *err = &fs->an->err;
    int rc = vmo_decoder_seek(fs->dec, fs->fr[a].t, err);
    if (rc == VMO_OK)
        rc = vmo_decoder_set_skip(fs->dec, VMO_SKIP_NONE);
    const double end = fs->fr[b].t;
    while (rc == VMO_OK && !run->cancelled && !run->failed) {
        if (cancelled(fs)) {
            run->cancelled = 1;
            break;
        }
        vmo_decoded_frame df;
        const int got = vmo_decoder_next(fs->dec, &df, err);
        if (got <= 0) {
            if (got < 0)
                window_failed(fs, got);
            break;
        }
        if (df.t > end + 1e-6)
            break;
        const int i = frame_at(fs, df.t);
        if (i < a || i > b)
            continue; /* not on the packets' timeline (a damaged stamp): skip it */
        df.index = i;
        rc = vmo_run_frame(run, fs->prep, &df, ls);
        if (rc == VMO_ERR_CANCELLED)
            rc = VMO_OK;
    }
    if (rc == VMO_OK && vmo_scorer_flush(run->scorer, err) == VMO_ERR_CANCELLED)
        run->cancelled = 1;
    return rc;
}

static int run_timeline(fastscan *fs, vmo_loop_state *ls)
{
    vmo_detector_set_areas(&fs->run->det, fs->zones, fs->map.zone_area);
    int i = 0, rc = VMO_OK;
    for (int g = 0; g < fs->ngop && rc == VMO_OK && !fs->run->cancelled; g++) {
        if (!fs->gop[g].decode || fs->gop[g].f0 >= fs->nemit)
            continue;
        int last = g;
        while (last + 1 < fs->ngop && fs->gop[last + 1].decode && fs->gop[last + 1].f0 < fs->nemit)
            last++;
        rc = emit_estimates(fs, i, fs->gop[g].f0, ls);
        if (rc == VMO_OK && !fs->run->cancelled)
            rc = decode_window(fs, fs->gop[g].f0, gop_end(fs, last) - 1, ls);
        i = gop_end(fs, last);
        g = last;
    }
    if (rc == VMO_OK)
        rc = emit_estimates(fs, i, fs->nemit, ls);
    return rc;
}

/* Clip facts as the full loop leaves them: every frame of the timeline counts. */
static int finish_clip(fastscan *fs, vmo_loop_state *ls)
{
    vmo_run *run = fs->run;
    vmo_clip_data *clip = &run->res->clips[run->clip];
    const int n = fs->nemit;
    if (n >= 2 && fs->fr[n - 1].t > fs->fr[n - 2].t)
        clip->frame_dur = fs->fr[n - 1].t - fs->fr[n - 2].t;
    if (!clip->info.analysis_width) {
        clip->info.analysis_width = fs->kw;
        clip->info.analysis_height = fs->kh;
    }
    ls->frames = run->cancelled ? ls->frames : n;
    ls->last_t = run->cancelled ? ls->last_t : fs->fr[n - 1].t;
    if (fs->partial_end) {
        run->det.edge_end = 0;
        clip->info.flags |= VMO_CLIP_PARTIAL;
    }
    clip->info.flags |= VMO_CLIP_FAST;
    return vmo_run_clip_facts(run, fs->dec, ls);
}

static int execute(fastscan *fs)
{
    vmo_run *run = fs->run;
    vmo_clip_data *clip = &run->res->clips[run->clip];
    if (fs->lo > 0) {
        run->det.edge_start = 0;
        clip->info.flags |= VMO_CLIP_PARTIAL;
    }
    /* The keyframes compared count as analysed, and the clip starts at the first frame
     * whether or not it is decoded. */
    run->analysed += fs->ngop;
    clip->first_t = fs->fr[0].t;
    vmo_loop_state ls = { 0, fs->nemit, NAN, NAN };
    int rc = run_timeline(fs, &ls);
    return rc == VMO_OK ? finish_clip(fs, &ls) : rc;
}

/* ------------------------------------------------------------------------------------------
 * Entry
 * ---------------------------------------------------------------------------------------- */

static void fastscan_free(fastscan *fs)
{
    free(fs->fr);
    free(fs->gop);
    free(fs->span_zones);
    free(fs->tmp);
    vmo_plane_free(&fs->kp[0]);
    vmo_plane_free(&fs->kp[1]);
    vmo_plane_free(&fs->comp);
    vmo_zone_map_free(&fs->map);
}

/* Decoders known to honour skip_frame = NONKEY (FFmpeg 5.1) for codecs with inter frames:
 * others (VP8/VP9, AV1) decode every frame anyway, and intra-only codecs (MJPEG, ProRes)
 * have nothing to skip. A scan of anything else would cost a full decode, then another. */
static int skips_to_keyframes(const char *codec)
{
    static const char *const names[] = { "h264",       "hevc", "mpeg4", "mpeg2video",
                                         "mpeg1video", "h263", "vc1",   "wmv3" };
    for (size_t i = 0; codec && i < VMO_ARRAY_SIZE(names); i++)
        if (!strcmp(codec, names[i]))
            return 1;
    return 0;
}

/* Back to the start with every frame decoded, for the full loop. */
static int fall_back(fastscan *fs)
{
    const vmo_clip_data *clip = &fs->run->res->clips[fs->run->clip];
    vmo_log(VMO_LOG_INFO, "%s: fast scan not possible (%s): scanning every frame", clip->path,
            fs->why);
    if (!fs->surveyed)
        return VMO_FASTSCAN_FALLBACK;
    /* A fresh decoder, not a seek: a full scan must see the stream as if nothing happened
     * (after a seek, frames before the first keyframe would be dropped). */
    const int rc = vmo_decoder_rewind(fs->dec, &fs->an->err);
    return rc == VMO_OK ? VMO_FASTSCAN_FALLBACK : rc;
}

int vmo_fastscan_run(vmo_run *run, vmo_decoder *dec, vmo_preparer *prep)
{
    fastscan *fs = calloc(1, sizeof(*fs));
    if (!fs)
        return vmo_err_set(&run->an->err, VMO_ERR_NO_MEMORY, "out of memory");
    fs->run = run;
    fs->an = run->an;
    fs->dec = dec;
    fs->prep = prep;
    fs->s = &run->an->cfg.settings;
    vmo_diff_dsp_init(&fs->dsp, run->an->cpu);
    const double margin = fs->s->long_baseline;
    fs->lo = isnan(fs->an->range_from) ? 0 : fs->an->range_from - margin;
    fs->hi = isnan(fs->an->range_to) ? INFINITY : fs->an->range_to + margin;
    int rc = VMO_OK;
    if (!vmo_decoder_can_seek(dec))
        fs->why = "the input cannot seek";
    else if (!skips_to_keyframes(vmo_decoder_info(dec)->codec))
        fs->why = "its decoder cannot decode keyframes only, or every frame is one";
    else
        rc = survey(fs);
    if (rc == VMO_OK)
        check_survey(fs);
    if (rc == VMO_OK && !fs->why)
        rc = plan(fs);
    if (rc == VMO_OK && fs->why == survey_cancelled) {
        /* Nothing analysed yet: an empty, cancelled clip (the full loop keeps what it has). */
        run->cancelled = 1;
        run->res->clips[run->clip].info.flags |= VMO_CLIP_FAST;
    } else if (rc == VMO_OK) {
        rc = fs->why ? fall_back(fs) : execute(fs);
    }
    fastscan_free(fs);
    free(fs);
    return rc;
}
