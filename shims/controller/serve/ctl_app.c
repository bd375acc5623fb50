/*
 * slate-controller: stopping the daemon's background threads.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include "ctl_app.h"

void ctl_app_stop_threads(ctl_app_t *app)
{
    pthread_mutex_lock(&app->wake_mu);
    app->stopping = true;
    pthread_cond_broadcast(&app->wake_cv);
    pthread_mutex_unlock(&app->wake_mu);
    if (app->solver)
        ctl_solver_stop(app->solver);
    if (app->forward_started)
        pthread_join(app->forward_thread, NULL);
    app->forward_started = false;
}
