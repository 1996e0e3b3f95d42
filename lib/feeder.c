/* Decode thread + bounded queue of frame references (see feeder.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/frame.h>

#include "feeder.h"

typedef struct slot {
    AVFrame *frame;
    vmo_decoded_frame meta;
} slot;

struct vmo_feeder {
    vmo_decoder *dec;
    pthread_t thread;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* a slot was filled or emptied, or the state changed */
    slot *q;
    int depth, head, count;
    int done;            /* the decode thread has finished */
    int status;          /* its last vmo_decoder_next() result once done (0 or < 0) */
    vmo_errbuf err;
    int stop;            /* asked to stop */
    AVFrame *current;    /* the frame handed out last, owned until the next call */
};

static void *decode_thread(void *arg)
{
    vmo_feeder *f = arg;
    vmo_errbuf err;
    vmo_err_clear(&err);
    for (;;) {
        pthread_mutex_lock(&f->lock);
        while (f->count == f->depth && !f->stop)
            pthread_cond_wait(&f->cond, &f->lock);
        const int stop = f->stop;
        pthread_mutex_unlock(&f->lock);
        if (stop)
            break;
        vmo_decoded_frame df;
        int rc = vmo_decoder_next(f->dec, &df, &err);
        AVFrame *ref = NULL;
        if (rc == 1 && !(ref = av_frame_clone(df.frame)))
            rc = vmo_err_set(&err, VMO_ERR_NO_MEMORY, "out of memory");
        pthread_mutex_lock(&f->lock);
        if (rc == 1) {
            slot *s = &f->q[(f->head + f->count) % f->depth];
            s->frame = ref;
            s->meta = df;
            s->meta.frame = ref;
            f->count++;
        } else {
            f->done = 1;
            f->status = rc;
            vmo_err_copy(&f->err, &err);
        }
        pthread_cond_broadcast(&f->cond);
        pthread_mutex_unlock(&f->lock);
        if (rc != 1)
            return NULL;
    }
    pthread_mutex_lock(&f->lock);
    f->done = 1;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

int vmo_feeder_start(vmo_feeder **out, vmo_decoder *dec, int depth, vmo_errbuf *err)
{
    *out = NULL;
    vmo_feeder *f = calloc(1, sizeof(*f));
    if (!f || !(f->q = calloc((size_t)VMO_MAX(depth, 1), sizeof(slot)))) {
        free(f);
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    }
    f->dec = dec;
    f->depth = VMO_MAX(depth, 1);
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    if (pthread_create(&f->thread, NULL, decode_thread, f) != 0) {
        vmo_feeder_stop(&f);
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "cannot start the decode thread");
    }
    f->started = 1;
    *out = f;
    return VMO_OK;
}

int vmo_feeder_next(vmo_feeder *f, vmo_decoded_frame *out, vmo_errbuf *err)
{
    av_frame_free(&f->current);
    pthread_mutex_lock(&f->lock);
    while (f->count == 0 && !f->done)
        pthread_cond_wait(&f->cond, &f->lock);
    int rc;
    if (f->count > 0) {
        slot *s = &f->q[f->head];
        *out = s->meta;
        f->current = s->frame;
        s->frame = NULL;
        f->head = (f->head + 1) % f->depth;
        f->count--;
        pthread_cond_broadcast(&f->cond);
        rc = 1;
    } else {
        rc = f->status;
        if (rc < 0)
            vmo_err_copy(err, &f->err);
    }
    pthread_mutex_unlock(&f->lock);
    return rc;
}

void vmo_feeder_stop(vmo_feeder **pf)
{
    if (!pf || !*pf)
        return;
    vmo_feeder *f = *pf;
    if (f->started) {
        pthread_mutex_lock(&f->lock);
        f->stop = 1;
        pthread_cond_broadcast(&f->cond);
        pthread_mutex_unlock(&f->lock);
        pthread_join(f->thread, NULL);
    }
    for (int i = 0; i < f->count; i++)
        av_frame_free(&f->q[(f->head + i) % f->depth].frame);
    av_frame_free(&f->current);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->cond);
    free(f->q);
    free(f);
    *pf = NULL;
}
